"""The public pages (rating, QR images, receipts, revisit links) are limited per client address."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.test import Client, override_settings

from haoping.evaluations.models import Evaluation
from haoping.evaluations.tests.test_rating_page import form_token, page_path
from haoping.rectification.links import revisit_token
from haoping.rectification.tests.support import bad_case

HOME = {"REMOTE_ADDR": "203.0.113.7"}
NEIGHBOUR = {"REMOTE_ADDR": "198.51.100.9"}


@override_settings(HAOPING_PUBLIC_RATE="4/m")
def test_over_the_rate_an_address_gets_a_chinese_429(world: dict[str, Any], record_payload: Any) -> None:
    url = page_path(world, record_payload)
    client = Client(**HOME)
    for path in (url, url + "qr.svg", url + "qr.png", url):
        assert client.get(path).status_code == 200, path
    for path in (url, url + "qr.svg", url + "done/ABCD-EFGH-JKLM/"):
        limited = client.get(path)
        assert limited.status_code == 429, path
        html = limited.content.decode()
        assert "访问过于频繁" in html and "秒" in html
        assert 0 < int(limited["Retry-After"]) <= 60
    # Another address is counted on its own.
    assert Client(**NEIGHBOUR).get(url).status_code == 200


@override_settings(HAOPING_PUBLIC_RATE="2/m")
def test_a_rating_posted_over_the_rate_stays_on_the_page(world: dict[str, Any], record_payload: Any) -> None:
    url = page_path(world, record_payload)
    client = Client(**HOME)
    token = form_token(client, url)  # 1
    client.get(url)  # 2
    res = client.post(url, {**token, "level": "2", "reasons": ["efficiency"], "comment": "排队太久"})
    assert res.status_code == 429
    html = res.content.decode()
    assert "评价没有保存" in html and "排队太久" in html and 'value="2" id="id_level_3" required checked' in html
    assert Evaluation.objects.count() == 0


@override_settings(HAOPING_PUBLIC_RATE="2/m")
def test_revisit_links_are_limited_too(world: dict[str, Any], record_payload: Any) -> None:
    case = bad_case(world, record_payload)
    path = f"/v/{revisit_token(case.public_id)}/"
    client = Client(**HOME)
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 429]


def test_the_default_rate_lets_a_hall_rate_in_turn(world: dict[str, Any], record_payload: Any) -> None:
    # One pad in a hall: page, post and receipt for each applicant, a dozen applicants a minute.
    client = Client(**HOME)
    for n in range(12):
        url = page_path(world, record_payload, record_no=f"HALL-{n}")
        res = client.post(url, {**form_token(client, url), "level": "5"})
        assert res.status_code == 302, n
        assert client.get(res["Location"]).status_code == 200
    assert Evaluation.objects.count() == 12


def test_with_redis_every_worker_shares_the_counts(tmp_path: Any) -> None:
    """REDIS_URL puts the counts in Redis (db 14 here), and the system checks pass."""
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings; from django.core.cache import cache\n"
        "from django.core.management import call_command\n"
        "call_command('check')\n"
        "print(settings.CACHES['default']['BACKEND'])\n"
        "cache.delete('probe'); cache.add('probe', 0); print(cache.incr('probe'))\n"
    )
    env = {
        **os.environ,
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "DJANGO_SETTINGS_MODULE": "haoping.settings",
        "HAOPING_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["django.core.cache.backends.redis.RedisCache", "1"]
