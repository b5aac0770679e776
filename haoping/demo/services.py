"""Load the demo city (示例市) into an empty database, and the logins that go with it.

Recent records (the ones people can still rate) go through `haoping.records.services`, as a
business system's would; older history is inserted by `haoping.demo.bulk` with the same
semantics, because the services take about 10 ms a record on SQLite. History's ratings come from
`haoping.demo.ratings`; the R2 default sweep and the chain sealer then run as in production. The
bad ratings' cases are opened and worked through the rectification services by
`haoping.demo.casework`, for the console users of `haoping.demo.console`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import random
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.models import ApiClient
from haoping.accounts.services import api_client_create, key_digest
from haoping.channels.models import Invitation
from haoping.channels.services import invitations_send, short_url
from haoping.demo.bulk import register_bulk
from haoping.demo.casework import CaseReport, cases_load
from haoping.demo.catalog import CITY_CODE, CITY_NAME
from haoping.demo.comments import comments_load
from haoping.demo.console import ConsoleLogin, console_logins, console_users_create
from haoping.demo.directory import directory_data, directory_index
from haoping.demo.disclosure import publications_load
from haoping.demo.people import Party, People
from haoping.demo.plan import Planner, RecordPlan
from haoping.demo.ratings import Rater
from haoping.directory.models import Region
from haoping.directory.services import directory_import
from haoping.errors import Conflict
from haoping.evaluations import rules
from haoping.evaluations.chain import chain_seal
from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import defaults_record
from haoping.indicators.services import rollups_rebuild
from haoping.ops.rollups import rollups_paused
from haoping.records.links import evaluation_url, token_for
from haoping.records.models import RatingSlot, ServiceRecord, Visit
from haoping.records.services import PartyData, record_complete, record_create, visit_create
from haoping.rectification.links import revisit_url
from haoping.rectification.models import BadReviewCase

# Three months of a city: enough ratings that most windows, staff and items reach the ranking's
# minimum sample (HAOPING_RANKING_MIN_SAMPLE, 30 a month), small enough to load in under 30 s on
# SQLite on two cores (bench/README.md, "Loading the demo").
DEFAULT_RECORDS = 18_000
DEFAULT_SEED = 20_240_601
ADMIN_USERNAME = "admin"
ADMIN_FILE = "demo-admin.txt"
API_KEY_FILE = "demo-api-key.txt"
# The console users' shared password, then their usernames, one a line.
USERS_FILE = "demo-users.txt"
API_CLIENT_NAME = "示例市政务服务平台（演示）"
# Records with any step this recent are registered through the records services (about 10 ms a
# record on SQLite): the newest day, whose services the printed rating links come from.
THROUGH_SERVICES = dt.timedelta(days=1)


@dataclass
class LoadReport:
    records: int
    visits: int
    evaluations: int
    defaults: int
    cases: CaseReport
    seconds: float
    phases: dict[str, tuple[float, float]]


class Phases:
    """Seconds spent in each phase of the load, to see where the time goes: (wall, this process's CPU).

    The CPU time counts SQLite's work too (it runs in the process) and varies less than the wall
    clock on a busy machine."""

    def __init__(self) -> None:
        self.seconds: dict[str, tuple[float, float]] = {}
        self.last = (time.perf_counter(), time.process_time())

    def lap(self, name: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.seconds[name] = (now[0] - self.last[0], now[1] - self.last[1])
        self.last = now


@dataclass
class OpenLink:
    label: str
    record_no: str
    item: str
    url: str


def demo_loaded() -> bool:
    return Region.objects.filter(code=CITY_CODE).exists()


def demo_load(*, records: int = DEFAULT_RECORDS, seed: int = DEFAULT_SEED) -> LoadReport:
    """Load the whole demo in one transaction; an interrupted load leaves nothing behind."""
    if Region.objects.exists() or ServiceRecord.objects.exists():
        raise Conflict("not_empty", "the database already holds regions or records; the demo loads into an empty one")
    started = timezone.now()
    rng = random.Random(seed)
    # The rollups are rebuilt once at the end rather than after every replayed step.
    phases = Phases()
    with transaction.atomic(), rollups_paused():
        directory_import(data=directory_data(rng))
        city = Region.objects.get(code=CITY_CODE)
        client, key = api_client_create(name=API_CLIENT_NAME, region=city)
        index = directory_index()
        phases.lap("directory")
        plans = Planner(rng, index, People(rng, records), started).plan(records)
        old, recent = _split(plans, started - THROUGH_SERVICES)
        phases.lap("plan")
        register_bulk(old)
        phases.lap("records in bulk")
        for plan in recent:
            _register(client, plan)
        phases.lap("records through the services")
        specs = {ref.code: ref.spec for ref in index.items.values()}
        rows = Rater(rng, timezone.now(), specs).evaluations(_history_slots())
        Evaluation.objects.bulk_create(rows, batch_size=2000)
        phases.lap("ratings")
        defaults = defaults_record()
        phases.lap("default ratings")
        # R22: the newest services' applicants have had their SMS invitations, sent at the last
        # moment messages could go out (so that a load at night still shows some).
        invitations_send(now=_last_sending_moment(timezone.now()))
        phases.lap("invitations")
        password = secrets.token_urlsafe(12)
        # Hashed once: every console user of the demo has the same password.
        usernames = console_users_create(rng=rng, password_hash=make_password(password))
        cases = cases_load(rng=rng, client=client, usernames=usernames)
        phases.lap("cases")
        chain_seal()
        phases.lap("chain")
        rollups_rebuild()
        phases.lap("rollups")
        publications_load()
        phases.lap("publications")
        comments_load(rng=rng)
        phases.lap("social comments")
    phases.lap("commit")
    _write_secret(API_KEY_FILE, key + "\n")
    _write_secret(USERS_FILE, "\n".join([password, *usernames]) + "\n")
    return LoadReport(
        records=len(plans),
        visits=Visit.objects.count(),
        evaluations=Evaluation.objects.count(),
        defaults=defaults,
        cases=cases,
        seconds=(timezone.now() - started).total_seconds(),
        phases=phases.seconds,
    )


def _last_sending_moment(now: dt.datetime) -> dt.datetime:
    """The latest moment up to `now` within the national default sending hours (08:00–20:00)."""
    local = timezone.localtime(now)
    if dt.time(8) <= local.time() < dt.time(20):
        return now
    day = local.date() if local.time() >= dt.time(20) else local.date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(19, 59), tzinfo=local.tzinfo)


def _split(plans: list[RecordPlan], since: dt.datetime) -> tuple[list[RecordPlan], list[RecordPlan]]:
    """Old and recent plans, keeping each bundle whole and the acceptance order."""
    recent_bundles = {p.bundle_key for p in plans if p.bundle_key is not None and _last_step(p) >= since}
    old: list[RecordPlan] = []
    recent: list[RecordPlan] = []
    for plan in plans:
        is_recent = _last_step(plan) >= since or (plan.bundle_key is not None and plan.bundle_key in recent_bundles)
        (recent if is_recent else old).append(plan)
    return old, recent


def _last_step(plan: RecordPlan) -> dt.datetime:
    return max([plan.accepted_at, plan.completed_at or plan.accepted_at] + [v.at for v in plan.visits])


def _party(party: Party | None) -> PartyData | None:
    if party is None:
        return None
    return PartyData(kind=party.kind, name=party.name, phone=party.phone, id_number=party.id_number)


def _register(client: ApiClient, plan: RecordPlan) -> None:
    """One record as a business system would push it: register, visits, completion."""
    applicant = _party(plan.applicant)
    assert applicant is not None
    record_create(
        client=client,
        record_no=plan.record_no,
        item_code=plan.item.code,
        institution_code=plan.institution,
        platform_code=plan.platform,
        window_code=plan.window,
        staff_no=plan.staff,
        mode=plan.mode,
        on_the_spot=plan.on_the_spot,
        applicant=applicant,
        agent=_party(plan.agent),
        bundle_kind=plan.bundle_kind,
        bundle_no=plan.bundle_no,
        accepted_at=plan.accepted_at,
        completed_at=None if plan.visits else plan.completed_at,
    )
    for visit in plan.visits:
        visit_create(
            client=client, record_no=plan.record_no, window_code=visit.window, staff_no=visit.staff, at=visit.at
        )
    if plan.visits and plan.completed_at is not None:
        record_complete(client=client, record_no=plan.record_no, completed_at=plan.completed_at)


def _history_slots() -> list[RatingSlot]:
    return list(
        RatingSlot.objects.exclude(kind=RatingSlot.Kind.THEME)
        .select_related("record__item", "visit__window")
        .order_by("pk")
    )


# --- logins ----------------------------------------------------------------------------


def _var_path(name: str) -> Path:
    return Path(settings.VAR_DIR) / name


def _write_secret(name: str, text: str) -> None:
    path = _var_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


def _read_secret(name: str) -> str:
    path = _var_path(name)
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


def demo_admin() -> tuple[str, str | None]:
    """The administrator's login; created with a random password the first time.

    The password is kept in the var directory; if the account exists without it (created by
    hand), None is returned rather than the password being changed behind someone's back.
    """
    users = get_user_model().objects
    user = users.filter(username=ADMIN_USERNAME).first()
    if user is None:
        password = secrets.token_urlsafe(12)
        users.create_superuser(ADMIN_USERNAME, email="", password=password)
        _write_secret(ADMIN_FILE, f"{ADMIN_USERNAME}\n{password}\n")
        return ADMIN_USERNAME, password
    lines = _read_secret(ADMIN_FILE).splitlines()
    if len(lines) == 2 and lines[0] == ADMIN_USERNAME and user.check_password(lines[1]):
        return ADMIN_USERNAME, lines[1]
    return ADMIN_USERNAME, None


def demo_console_users() -> tuple[str | None, list[ConsoleLogin]]:
    """The console users the demo made, and their shared password (None if it no longer works)."""
    lines = _read_secret(USERS_FILE).splitlines()
    if not lines:
        return None, []
    password, usernames = lines[0], lines[1:]
    logins = console_logins(usernames)
    hashes = set(get_user_model().objects.filter(username__in=usernames).values_list("password", flat=True))
    user = get_user_model().objects.filter(username__in=usernames).first()
    # One check suffices: they were given one hash, and any password changed since has another.
    known = user is not None and len(hashes) == 1 and user.check_password(password)
    return (password if known else None), logins


def demo_api_key() -> str:
    """The demo city's API key; a new client is made only if the saved key no longer works."""
    key = _read_secret(API_KEY_FILE)
    if key and ApiClient.objects.filter(key_digest=key_digest(key), is_active=True).exists():
        return key
    _client, key = api_client_create(name=API_CLIENT_NAME, region=Region.objects.get(code=CITY_CODE))
    _write_secret(API_KEY_FILE, key + "\n")
    return key


def demo_open_links(*, now: dt.datetime | None = None, count: int = 3) -> list[OpenLink]:
    """Rating links of services still open and unrated, each of a different kind."""
    now = now or timezone.now()
    open_slots = RatingSlot.objects.filter(rules.window_open_q(now), evaluations__isnull=True)
    completion = open_slots.filter(kind=RatingSlot.Kind.COMPLETION)
    candidates = [
        (_("window visit"), open_slots.filter(kind=RatingSlot.Kind.VISIT)),
        (_("online service"), completion.filter(record__mode=ServiceRecord.Mode.ONLINE)),
        (_("theme (一件事)"), _open_themes(now)),
        (_("on-site service"), completion.filter(record__mode=ServiceRecord.Mode.ONSITE)),
        (_("online and on-site service"), completion.filter(record__mode=ServiceRecord.Mode.MIXED)),
    ]
    links: list[OpenLink] = []
    shown: set[int] = set()
    for label, slots in candidates:
        # Different items too, so that the links show different rating pages.
        slot = (
            slots.exclude(record__item__in=shown).select_related("record__item", "bundle").order_by("-opens_at").first()
        )
        if slot is None:
            continue
        links.append(_link(label, slot))
        if slot.record is not None:
            shown.add(slot.record.item_id)
        if len(links) == count:
            break
    return links


def _open_themes(now: dt.datetime) -> QuerySet[RatingSlot]:
    linked_open = RatingSlot.objects.filter(
        rules.window_open_q(now), kind=RatingSlot.Kind.COMPLETION, evaluations__isnull=True
    ).values("record__bundle_id")
    return RatingSlot.objects.filter(kind=RatingSlot.Kind.THEME, bundle_id__in=linked_open)


def _link(label: str, slot: RatingSlot) -> OpenLink:
    if slot.kind == RatingSlot.Kind.THEME:
        assert slot.bundle is not None
        records = ServiceRecord.objects.filter(bundle=slot.bundle).select_related("item").order_by("record_no")
        return OpenLink(
            label, slot.bundle.bundle_no, "、".join(r.item.name for r in records), evaluation_url(slot.public_id)
        )
    assert slot.record is not None
    return OpenLink(label, slot.record.record_no, slot.record.item.name, evaluation_url(slot.public_id))


@dataclass
class DemoInvitation:
    phone: str
    item: str
    url: str


def demo_invitations(*, now: dt.datetime | None = None, count: int = 2) -> list[DemoInvitation]:
    """SMS invitations whose services are still open and unrated: their short links to open, and
    the (made-up) numbers to reply from with `sms_inbound`."""
    now = now or timezone.now()
    open_ones = (
        Invitation.objects.filter(slot__closes_at__gt=now, slot__evaluations__isnull=True)
        .select_related("to", "slot__record__item")
        .order_by("-invited_at", "-pk")
    )
    found: list[DemoInvitation] = []
    phones: set[str] = set()
    for invitation in open_ones[:50]:
        # The latest invitation to a number is the one its reply rates: one per number.
        if invitation.phone_digest in phones or invitation.slot.record is None:
            continue
        phones.add(invitation.phone_digest)
        found.append(DemoInvitation(invitation.to.phone, invitation.slot.record.item.name, short_url(invitation.code)))
        if len(found) == count:
            break
    return found


@dataclass
class RevisitLink:
    case_id: int
    item: str
    url: str


def demo_revisit_link() -> RevisitLink | None:
    """The revisit link of the newest answered case: the evaluator says there whether they are satisfied."""
    case = (
        BadReviewCase.objects.filter(state=BadReviewCase.State.REPLIED, evaluator__isnull=False)
        .select_related("item")
        .order_by("-opened_at", "-pk")
        .first()
    )
    if case is None:
        return None
    return RevisitLink(case.pk, case.item.name, revisit_url(case.public_id))


@dataclass
class Receipt:
    code: str
    item: str
    url: str


def demo_receipt() -> Receipt | None:
    """The receipt code of the newest active rating, with its receipt page (as the applicant saw it)."""
    evaluation = (
        Evaluation.objects.filter(source=Evaluation.Source.ACTIVE, slot__kind=RatingSlot.Kind.COMPLETION)
        .exclude(receipt="")
        .select_related("slot", "item")
        .order_by("-rated_at", "-pk")
        .first()
    )
    if evaluation is None:
        return None
    url = settings.SITE_URL + reverse("rate-done", args=[token_for(evaluation.slot.public_id), evaluation.receipt])
    return Receipt(evaluation.receipt, evaluation.item.name, url)


def site_is_local() -> bool:
    """Whether SITE_URL names this machine only (not reachable from a phone)."""
    host = urlsplit(settings.SITE_URL).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def city_label() -> str:
    return f"{CITY_NAME}（{CITY_CODE}）"
