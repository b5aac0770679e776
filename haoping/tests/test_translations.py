"""The Chinese the pages speak: the project's catalogue never retranslates Django's own strings, and a
short English word with two meanings gets a context for each."""

from __future__ import annotations

import gettext
import re
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from haoping.accounts.models import Membership


def _catalog(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    # Plural entries are keyed by (msgid, n); a context entry by "context\x04msgid".
    return {key: value for key, value in catalog.items() if isinstance(key, str) and key}


def _djangos_translations() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in Path(django.__file__).parent.glob("**/locale/zh_Hans/LC_MESSAGES/django.mo"):
        for msgid, msgstr in _catalog(path).items():
            if "\x04" not in msgid:
                found.setdefault(msgid, set()).add(msgstr)
    return found


def test_the_project_never_retranslates_djangos_own_strings() -> None:
    # One catalogue serves every app: a context-free msgid here replaces Django's translation in the
    # admin too ("Change" read 变化 on every admin link), so a word the project means differently
    # needs a context.
    djangos = _djangos_translations()
    ours = _catalog(Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.mo")
    clashes = {
        msgid: (msgstr, sorted(djangos[msgid]))
        for msgid, msgstr in ours.items()
        if "\x04" not in msgid and msgid in djangos and msgstr not in djangos[msgid]
    }
    assert clashes == {}


def _superuser() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x"))
    return client


def test_admin_links_and_filters_read_as_django_translates_them(world: dict[str, Any]) -> None:
    admin = _superuser()
    index = admin.get("/admin/").content.decode()
    assert ">修改</a>" in index and "变化" not in index
    changelist = admin.get("/admin/directory/institution/").content.decode()
    assert "过滤器" in changelist


def test_date_range_end_reads_as_a_date_not_a_case_state(world: dict[str, Any]) -> None:
    user = get_user_model().objects.create_user(username="manager", password="pw-manager")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    client = Client()
    client.force_login(user)
    for url in ("/console/", "/console/spot-checks/"):
        html = client.get(url).content.decode()
        assert ">至<input" in html and "新状态" not in html, url


def test_period_presets_and_calendar_source_speak_their_own_sense() -> None:
    from haoping.indicators.templatetags.indicators import period_presets
    from haoping.workdays.models import CalendarDay

    labels = [label for label, _first, _last in period_presets()]
    assert labels[0] == "今日" and labels[-1] == "本年"
    assert str(CalendarDay._meta.get_field("source").verbose_name) == "来源"


def test_the_queue_names_levels_and_changes_have_no_negative_zero(world: dict[str, Any], record_payload: Any) -> None:
    from haoping.indicators.templatetags.indicators import change
    from haoping.rectification.tests.support import bad_case

    bad_case(world, record_payload, level=1)
    bad_case(world, record_payload, level=2)
    user = get_user_model().objects.create_user(username="manager", password="pw-manager")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    client = Client()
    client.force_login(user)
    html = client.get("/console/").content.decode()
    cells = re.findall(r'<td data-label="评价等级"[^>]*>(.*?)</td>', html)
    assert sorted(cells) == ["不满意", "非常不满意"]
    assert change(0.9496, 0.95) == "0.0 个百分点"
