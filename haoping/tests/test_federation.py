"""A federation that adds up (R21): two counties and their city, three real servers (granian, as
deploy/serve runs it), each with its own PostgreSQL database. Each county registers and rates
services, lets some ratings default, works its bad reviews (answers, rectifications, revisits, an
invalidation), and pushes upward through its exchange endpoint to the city's intake, signed. The
city's six Annex A rates and the counts behind them, for each county, must equal the county's own,
exactly; a second push adds nothing, nor does sending every row again."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from haoping.lib.gm import sm2_private_key, sm2_public_key

pytestmark = pytest.mark.federation

ROOT = Path(__file__).resolve().parents[2]
CITY = "320100"
COUNTIES = [{"code": "320102", "name": "玄武区"}, {"code": "320104", "name": "秦淮区"}]


def admin(sql: str) -> None:
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def databases(prefix: str) -> list[str]:
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres"
    ) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix]).fetchall()
        return [row[0] for row in rows]


def url_of(name: str) -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def env_for(name: str, var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        DATABASE_URL=url_of(name),
        DJANGO_SETTINGS_MODULE="haoping.settings",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        SECRET_KEY=f"federation-{name}-secret-key-0123456789abcdef0123456789",
        HAOPING_MASTER_KEY=hashlib.sha256(name.encode()).hexdigest(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        HAOPING_VAR_DIR=str(var),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def template(base: str) -> str:
    """A migrated database to copy each node's from: migrated once per set of migrations."""
    migrations = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "haoping").glob("*/migrations/0*.py"))
    digest = hashlib.sha256("\n".join(migrations).encode()).hexdigest()[:8]
    name = f"{base}_tpl_{digest}"
    if name not in databases(f"{base}_tpl_"):
        for old in databases(f"{base}_tpl_"):  # made for migrations since changed
            admin(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{name}"')
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env_for(name, Path("/tmp")),
            check=True,
        )
    return name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    def __init__(self, name: str, db: str, var: Path) -> None:
        self.name, self.db, self.var = name, db, var
        var.mkdir(parents=True, exist_ok=True)
        self.env = env_for(db, var)
        self.port = free_port()
        self.env["SITE_URL"] = self.url
        self.proc: subprocess.Popen[bytes] | None = None
        self.control: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, command: str, spec: dict[str, Any] | None = None) -> Any:
        """A step run by the node's own control process (Django set up once, on the node's database)."""
        if self.control is None:
            self.control = subprocess.Popen(
                [sys.executable, "-m", "haoping.tests.federation_node", "serve"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        assert self.control.stdin is not None and self.control.stdout is not None
        self.control.stdin.write(json.dumps([command, spec or {}], ensure_ascii=False) + "\n")
        self.control.stdin.flush()
        for line in self.control.stdout:
            if line.startswith("FEDERATION-ERROR "):
                raise AssertionError(f"{self.name} {command}: {json.loads(line[17:])}")
            if line.startswith("FEDERATION "):
                return json.loads(line[len("FEDERATION ") :])
        raise AssertionError(f"{self.name} {command}: the control process ended")

    def start(self) -> None:
        log = open(self.var / "server.log", "wb")  # noqa: SIM115 (open while the server runs)
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "granian", "--interface", "asginl", "--host", "127.0.0.1"),
                *("--port", str(self.port), "--workers", "1", "--log-level", "warning"),
                "haoping.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, (self.var / "server.log").read_text()[-3000:]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{self.name} did not listen")

    def stop(self) -> None:
        if self.control is not None and self.control.poll() is None:
            assert self.control.stdin is not None
            self.control.stdin.close()
            self.control.wait(20)
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def call(self, method: str, path: str, key: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.url + "/api/v1" + path,
            data=None if body is None else json.dumps(body, ensure_ascii=False).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (the test's own server)
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[dict[str, Any]]:
    base = f"{connection.settings_dict['NAME']}_fed"
    tpl = template(base)
    names = {"city": f"{base}_city", **{c["code"]: f"{base}_{c['code']}" for c in COUNTIES}}
    for db in names.values():
        admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{db}" TEMPLATE "{tpl}"')
    nodes = {key: Node(key, db, tmp_path / key) for key, db in names.items()}
    try:
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()
        for db in names.values():
            admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def iso(hours_ago: float) -> str:
    return (timezone.now() - dt.timedelta(hours=hours_ago)).isoformat()


def register(node: Node, keys: dict[str, Any], code: str, record_no: str, hours_ago: float) -> None:
    status, body = node.call(
        "POST",
        "/records",
        keys["business"],
        {
            "record_no": record_no,
            "item_code": keys["item"],
            "institution_code": f"H-{code}",
            "window_code": f"W-{code}",
            "staff_no": f"S-{code}",
            "mode": "onsite",
            "on_the_spot": True,
            "applicant": {"kind": "person", "name": "张三", "phone": "13812345678"},
            "accepted_at": iso(hours_ago + 1),
            "completed_at": iso(hours_ago),
        },
    )
    assert status == 201, body


def rate(node: Node, keys: dict[str, Any], record_no: str, level: int, channel: str) -> None:
    rating: dict[str, Any] = {"record_no": record_no, "level": level, "channel": channel}
    if level <= 2:
        rating.update(reasons=["attitude"], comment="窗口态度差，等了很久")
    status, body = node.call("POST", "/evaluations", keys["business"], rating)
    assert status == 201, body


def act(node: Node, key: str, case_id: int, action: str, **fields: Any) -> None:
    status, body = node.call("POST", f"/cases/{case_id}/actions", key, {"action": action, **fields})
    assert status == 200, (action, body)


def county_activity(node: Node, keys: dict[str, Any], code: str, shape: list[int]) -> None:
    """Ratings of every level on several channels, defaults, and bad reviews worked to each end."""
    channels = ["pad", "mobile", "sms", "phone", "pc", "qrcode"]
    for n, level in enumerate(shape):
        record_no = f"{code}-2026-{n:04d}"
        register(node, keys, code, record_no, hours_ago=1)
        rate(node, keys, record_no, level, channels[n % len(channels)])
    # Not rated within the window: the sweep records the default rating (R2).
    for n in range(3 if code == COUNTIES[0]["code"] else 2):
        register(node, keys, code, f"{code}-2026-D{n}", hours_ago=24 * 10)
    assert node.run("sweep")["defaults"] >= 2
    status, cases = node.call("GET", "/cases?limit=100", keys["business"])
    assert status == 200
    ids = sorted(c["id"] for c in cases)
    business, manager = keys["business"], keys["manager"]
    # 1: answered, rectified and revisited, satisfied.
    act(node, business, ids[0], "contact", note="已联系评价人")
    act(node, business, ids[0], "classify", category="general")
    act(node, business, ids[0], "rectify", description="已约谈窗口人员")
    act(node, business, ids[0], "reply", answer="已整改，感谢监督")
    act(node, business, ids[0], "revisit", satisfied=True)
    # 2: found malicious and not adopted (decided by a manager, not the one who asked).
    act(node, business, ids[1], "contact", note="已联系评价人")
    act(node, business, ids[1], "classify", category="malicious")
    act(node, business, ids[1], "request_invalidation", reason="与办件无关的恶意评价")
    act(node, manager, ids[1], "approve_invalidation", note="同意")
    # 3: answered, the evaluator not satisfied.
    act(node, business, ids[2], "contact", note="已联系评价人")
    act(node, business, ids[2], "classify", category="general")
    act(node, business, ids[2], "rectify", description="增设叫号提醒")
    act(node, business, ids[2], "reply", answer="已整改")
    act(node, business, ids[2], "revisit", satisfied=False)
    # The others stay open, at the county.


def indicators(node: Node, key: str, code: str) -> dict[str, Any]:
    today = timezone.localdate()
    status, body = node.call(
        "GET", f"/indicators?object=region&code={code}&from={today - dt.timedelta(days=30)}&to={today}", key
    )
    assert status == 200, body
    return {"counts": body["counts"], "rates": body["rates"]}


def test_the_citys_figures_for_each_county_equal_the_countys_own(federation: dict[str, Node]) -> None:
    city = federation["city"]
    secrets = {}
    for c in COUNTIES:
        private = sm2_private_key(os.urandom(32))
        secrets[c["code"]] = {
            **c,
            "app_mark": f"hcp-{c['code']}",
            "app_word": os.urandom(8).hex(),
            "private_key": private,
            "public_key": sm2_public_key(private),
        }
    made = city.run("city", {"city_code": CITY, "counties": list(secrets.values())})
    keys = {}
    for c in COUNTIES:
        spec = {**secrets[c["code"]], "city_key": made["county_keys"][c["code"]]}
        keys[c["code"]] = federation[c["code"]].run("county", {"city_code": CITY, "county": spec, "city_url": city.url})
    for node in federation.values():
        node.start()
    for node in federation.values():
        node.wait()

    shapes = {COUNTIES[0]["code"]: [5, 4, 1, 2, 5, 3, 1, 2, 5, 4, 5], COUNTIES[1]["code"]: [2, 1, 1, 5, 3, 4, 2]}
    for c in COUNTIES:
        county_activity(federation[c["code"]], keys[c["code"]], c["code"], shapes[c["code"]])
    pushed = {c["code"]: federation[c["code"]].run("push") for c in COUNTIES}
    assert all(p["sent"] > 0 and p["rejected"] == p["undelivered"] == 0 for p in pushed.values()), pushed

    for node in federation.values():
        node.run("rollups")
    own = {c["code"]: indicators(federation[c["code"]], keys[c["code"]]["reader"], c["code"]) for c in COUNTIES}
    seen = {c["code"]: indicators(city, made["reader"], c["code"]) for c in COUNTIES}
    for c in COUNTIES:
        counts = own[c["code"]]["counts"]
        # Every kind of figure is there to be compared: not an empty match.
        # (the case whose evaluator was not satisfied went back to its unit: rectified no more, until
        # rectified and revisited again).
        assert counts["defaults"] > 0 and counts["invalid_bad"] == 1 and counts["rectified"] == 1, counts
        assert counts["satisfied"] == 1 and counts["replied"] == 2 and counts["bad"] > counts["replied"], counts
        assert seen[c["code"]] == own[c["code"]], c["code"]
    assert city.run("incoming")["refused"] == []

    # A paper form from the box replaces a default rating each county had uploaded (R2 with R4): it
    # goes up again under the default's projectNo + assessNumber, marked replacesDefault, and the
    # city counts the form instead of the default, as the county does.
    for c in COUNTIES:
        form = {"record_no": f"{c['code']}-2026-D0", "level": 2, "channel": "paper", "rated_at": iso(24 * 9)}
        form.update(reasons=["attitude"], comment="书面评价：窗口态度差")
        status, body = federation[c["code"]].call("POST", "/evaluations", keys[c["code"]]["business"], form)
        assert status == 201, body
    replaced = {c["code"]: federation[c["code"]].run("push") for c in COUNTIES}
    assert all((p["made"], p["sent"], p["rejected"], p["undelivered"]) == (1, 1, 0, 0) for p in replaced.values())
    for node in federation.values():
        node.run("rollups")
    before_forms = own
    own = {c["code"]: indicators(federation[c["code"]], keys[c["code"]]["reader"], c["code"]) for c in COUNTIES}
    seen = {c["code"]: indicators(city, made["reader"], c["code"]) for c in COUNTIES}
    for c in COUNTIES:
        counts, earlier = own[c["code"]]["counts"], before_forms[c["code"]]["counts"]
        assert (counts["defaults"], counts["bad"]) == (earlier["defaults"] - 1, earlier["bad"] + 1), counts
        assert counts["total"] == earlier["total"], counts
        assert seen[c["code"]] == own[c["code"]], c["code"]
        pushed[c["code"]]["sent"] += 1
    assert city.run("incoming")["refused"] == []

    # A second push adds nothing; nor does every row sent again, as after answers lost on the way.
    again = {c["code"]: federation[c["code"]].run("push") for c in COUNTIES}
    assert all(p["made"] == p["sent"] == 0 for p in again.values()), again
    before = city.run("incoming")
    for c in COUNTIES:
        assert federation[c["code"]].run("requeue")["requeued"] == pushed[c["code"]]["sent"]
        resent = federation[c["code"]].run("push")
        assert resent["sent"] == pushed[c["code"]]["sent"] and resent["rejected"] == 0, resent
    after = city.run("incoming")
    assert (after["stored"], after["evaluations"]) == (before["stored"], before["evaluations"])
    assert after["received"] == before["received"] + sum(p["sent"] for p in pushed.values())
    city.run("rollups")
    assert {c["code"]: indicators(city, made["reader"], c["code"]) for c in COUNTIES} == own
