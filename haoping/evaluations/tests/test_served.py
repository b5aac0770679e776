"""A rating through the real server: `deploy/serve` (granian and the served entry point), over HTTP."""

from __future__ import annotations

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

import pytest
from django.conf import settings
from django.db import connection

from haoping.evaluations.models import Evaluation

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url() -> str:
    """The test database, which the server reads and writes as the test does."""
    db = connection.settings_dict
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def server(transactional_db: Any, tmp_path: Path) -> Iterator[str]:
    if connection.vendor != "postgresql":
        pytest.skip("the served fast path runs on PostgreSQL")
    port = _free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GRANIAN_HOST": "127.0.0.1",
        "GRANIAN_PORT": str(port),
        "GRANIAN_WORKERS": "1",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "HAOPING_MASTER_KEY": settings.HAOPING_MASTER_KEY,
        "HAOPING_VAR_DIR": str(tmp_path),
        "HAOPING_CHAIN_ANCHOR_LOG": str(tmp_path / "chain-anchors.log"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_CONN_MAX_AGE": "0",
    }
    process = subprocess.Popen(  # noqa: S603  (our own script)
        [str(ROOT / "deploy" / "serve")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                    pytest.fail(f"the server did not start:\n{output}")
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout:
            process.stdout.close()


def _post(url: str, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310  (a local http URL)
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rating_through_the_served_server_is_stored_once(
    server: str, world: dict[str, Any], record_payload: Any
) -> None:
    api = world["api"]
    created = api.post("/records", record_payload(record_no="SERVED1"))
    assert created.status_code == 201, created.json()
    token = created.json()["completion"]["evaluation_url"].rstrip("/").split("/")[-1]
    body = {"token": token, "level": 4, "channel": "mobile", "client_ref": "phone-1", "comment": "办事很快"}

    status, first = _post(f"{server}/api/v1/evaluations", api.key, body)
    assert status == 201, first
    stored = Evaluation.objects.get(record__record_no="SERVED1")
    assert (stored.level, stored.channel, stored.comment, stored.receipt) == (4, "mobile", "办事很快", first["receipt"])

    # The retry of a request whose answer was lost: the same receipt, and still one rating.
    status, again = _post(f"{server}/api/v1/evaluations", api.key, body)
    assert status == 200, again
    assert again["receipt"] == first["receipt"]
    assert Evaluation.objects.filter(record__record_no="SERVED1").count() == 1
