"""The production server (`deploy/serve`: granian, haoping.asgi) on the test database, for the
pad's browser tests and its event stream."""

from __future__ import annotations

import http.client
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from haoping.ops.tests.processes import ROOT, environment, manage, start, stop, wait_for


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/console/login/")
        return conn.getresponse().status == 200
    except OSError:
        return False


@contextmanager
def served(tmp_path: Path, port: int, workers: int = 1, **env: str) -> Iterator[str]:
    """`deploy/serve` on 127.0.0.1:`port`; yields its base URL."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    settings = {
        "PATH": path,
        "GRANIAN_HOST": "127.0.0.1",
        "GRANIAN_PORT": str(port),
        "GRANIAN_WORKERS": str(workers),
        "DB_POOL_SIZE": "4",
        "HAOPING_ROLLUPS_ENQUEUE": "0",
        "SITE_URL": f"http://127.0.0.1:{port}",
    }
    variables = environment(tmp_path, **{**settings, **env})
    # The static files as a proxy in front would serve them (the pad's script, its styles).
    manage("collectstatic", "--noinput", "-v", "0", env=variables)
    static = ["--static-path-route", "/static", "--static-path-mount", str(tmp_path / "static")]
    server = start(["bash", str(ROOT / "deploy" / "serve"), *static], variables, tmp_path / "server.log")
    try:
        wait_for(lambda: _answers(port), 60, "the server to answer")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


def api_post(base: str, key: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request(
        "POST",
        "/api/v1" + path,
        json.dumps(body),
        {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    answer = conn.getresponse()
    return answer.status, json.loads(answer.read() or b"null")
