"""The production server (`deploy/serve`: granian, haoping.asgi) under faults, on 127.0.0.1.

A dead worker is respawned while the other keeps answering, and every acknowledged rating is in
the database; slow clients (a bounded number, each sending one byte of its body, or part of its
headers, or nothing at all) do not keep other clients from being answered.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from haoping.evaluations.models import Evaluation
from haoping.ops.tests.processes import ROOT, environment, start, stop, wait_for

PORT_WORKER_KILL = 8151
PORT_SLOW_CLIENTS = 8152
PORT_SLOW_HEADERS = 8153


def _workers(main_pid: int) -> list[int]:
    try:
        return [int(pid) for pid in Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/console/login/")
        return conn.getresponse().status == 200
    except OSError:
        return False


def _serve(tmp_path: Path, port: int, workers: int, *options: str, **env: str) -> Any:
    """`deploy/serve` on the test database; the granian main process."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    variables = environment(
        tmp_path,
        PATH=path,
        GRANIAN_HOST="127.0.0.1",
        GRANIAN_PORT=str(port),
        GRANIAN_WORKERS=str(workers),
        DB_POOL_SIZE="4",
        HAOPING_ROLLUPS_ENQUEUE="0",
        **env,
    )
    server = start(["bash", str(ROOT / "deploy" / "serve"), *options], variables, tmp_path / "server.log")
    wait_for(lambda: _answers(port) and len(_workers(server.pid)) == workers, 60, "the server to answer")
    return server


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[Any]]:
    servers: list[Any] = []
    yield servers
    for server in servers:
        stop(server, signal.SIGINT)


class Rater(threading.Thread):
    """One keep-alive client: registers a record, rates it, again, until told to stop; notes each
    acknowledged rating (201) and when each answer came."""

    def __init__(self, key: str, make_record: Any, prefix: str, stop_at: threading.Event) -> None:
        super().__init__(daemon=True)
        self.key, self.make_record, self.prefix, self.stop_at = key, make_record, prefix, stop_at
        self.acknowledged: list[str] = []  # record numbers
        self.answered_at: list[float] = []
        self.errors = 0

    def _post(self, conn: http.client.HTTPConnection, path: str, body: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT_WORKER_KILL, timeout=10)
        n = 0
        while not self.stop_at.is_set():
            n += 1
            record_no = f"{self.prefix}-{n}"
            try:
                status, body = self._post(conn, "/api/v1/records", self.make_record(record_no=record_no))
                assert status == 201, body
                token = body["completion"]["evaluation_url"].rstrip("/").split("/")[-1]
                status, body = self._post(conn, "/api/v1/evaluations", {"token": token, "level": 5, "channel": "pad"})
                assert status == 201, body
                self.acknowledged.append(record_no)
                self.answered_at.append(time.monotonic())
            except (OSError, http.client.HTTPException):
                # The worker behind this connection died: not acknowledged; connect again.
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT_WORKER_KILL, timeout=10)
                time.sleep(0.05)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_killed_worker_is_respawned_and_no_acknowledged_rating_is_lost(
    world: dict[str, Any], record_payload: Any, tmp_path: Path, served: list[Any]
) -> None:
    server = _serve(tmp_path, PORT_WORKER_KILL, 2)
    served.append(server)
    done = threading.Event()
    raters = [Rater(world["api"].key, record_payload, f"K{i}", done) for i in range(6)]
    for rater in raters:
        rater.start()
    time.sleep(3)
    victim = _workers(server.pid)[0]
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    time.sleep(5)
    done.set()
    for rater in raters:
        rater.join(30)

    assert server.poll() is None, "the server stopped when one worker died"
    workers = _workers(server.pid)
    assert len(workers) == 2 and victim not in workers  # respawned
    answers = sorted(t for rater in raters for t in rater.answered_at)
    before, after = [t for t in answers if t < killed_at], [t for t in answers if t >= killed_at]
    assert len(before) > 20 and len(after) > 20
    # Service resumed within seconds: ratings kept being acknowledged after the kill.
    resumed = after[0] - killed_at
    longest_gap = max(b - a for a, b in zip(answers, answers[1:], strict=False))
    print(f"acknowledged {len(answers)}; first after the kill {resumed:.2f} s; longest gap {longest_gap:.2f} s")
    assert resumed < 3 and longest_gap < 3
    assert after[-1] > killed_at + 4  # still answering at the end
    # Nothing acknowledged lost: every acknowledged rating is a row (an unacknowledged one may be too).
    acknowledged = {no for rater in raters for no in rater.acknowledged}
    stored = set(Evaluation.objects.values_list("record__record_no", flat=True))
    assert acknowledged <= stored
    assert len(stored - acknowledged) <= sum(rater.errors for rater in raters)


def _slow(port: int, path: str, length: int = 100, **headers: str) -> socket.socket:
    """A client that sends its headers and one byte of its body, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    lines += [f"Content-Length: {length}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n{").encode())
    return sock


def _status(sock: socket.socket, timeout: float) -> int | None:
    sock.settimeout(timeout)
    try:
        head = sock.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_slow_clients_do_not_keep_others_from_being_answered(
    world: dict[str, Any], record_payload: Any, tmp_path: Path, served: list[Any]
) -> None:
    api = world["api"]
    tokens = []
    for n in range(5):
        res = api.post("/records", record_payload(record_no=f"SLOW{n}"))
        tokens.append(res.json()["completion"]["evaluation_url"].rstrip("/").split("/")[-1])
    # One worker taking at most 64 requests at once: 200 slow clients are three times that.
    served.append(_serve(tmp_path, PORT_SLOW_CLIENTS, 1, "--backpressure", "64", HAOPING_BODY_TIMEOUT="2"))
    # A body announced as 5 MB from nobody known: refused before it is sent.
    large = _slow(PORT_SLOW_CLIENTS, f"/r/{tokens[0]}/", length=5_000_000)
    slow_api = [_slow(PORT_SLOW_CLIENTS, "/api/v1/evaluations") for _ in range(100)]
    slow_pages = [_slow(PORT_SLOW_CLIENTS, f"/r/{tokens[0]}/") for _ in range(100)]
    try:
        time.sleep(0.5)
        started = time.monotonic()
        for token in tokens:
            conn = http.client.HTTPConnection("127.0.0.1", PORT_SLOW_CLIENTS, timeout=3)
            conn.request(
                "POST",
                "/api/v1/evaluations",
                json.dumps({"token": token, "level": 4, "channel": "pad"}),
                {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
            )
            assert conn.getresponse().status == 201
            conn = http.client.HTTPConnection("127.0.0.1", PORT_SLOW_CLIENTS, timeout=3)
            conn.request("GET", "/console/login/")
            assert conn.getresponse().status == 200
        others = time.monotonic() - started
        assert _status(large, 2) == 413
        api_statuses = [_status(s, 2) for s in slow_api]
        page_statuses = [_status(s, 5) for s in slow_pages]
    finally:
        for sock in [*slow_api, *slow_pages, large]:
            sock.close()
    print(f"10 other requests answered in {others:.2f} s; pages: {sorted(set(map(str, page_statuses)))}")
    assert others < 5
    assert api_statuses == [401] * 100  # refused at once: no key, so the body is never read
    # From one address, 32 bodies may be awaited at once (then 408 after 2 s); the rest get a 429.
    assert page_statuses.count(429) == 100 - 32 and page_statuses.count(408) == 32
    assert Evaluation.objects.count() == 5


def _closed_by(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes this connection (after an error answer or none) by `deadline`."""
    try:
        while True:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            if not sock.recv(4096):
                return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_slow_headers_and_idle_connections_do_not_keep_others_from_being_answered(
    world: dict[str, Any], tmp_path: Path, served: list[Any]
) -> None:
    """Connections that never send a byte stay open (granian starts no timer before the first
    byte) but no longer take every place of a worker; slow headers are cut off after 5 s."""
    served.append(_serve(tmp_path, PORT_SLOW_HEADERS, 1))
    # More idle connections than granian's own default lets one worker serve at once (1,024).
    idle = [socket.create_connection(("127.0.0.1", PORT_SLOW_HEADERS), timeout=10) for _ in range(1100)]
    # Slowloris: a request line and one header, then nothing.
    slow = []
    for _ in range(100):
        sock = socket.create_connection(("127.0.0.1", PORT_SLOW_HEADERS), timeout=10)
        sock.sendall(f"GET /console/login/ HTTP/1.1\r\nHost: 127.0.0.1:{PORT_SLOW_HEADERS}\r\n".encode())
        slow.append(sock)
    sent_at = time.monotonic()
    try:
        time.sleep(0.5)
        started = time.monotonic()
        for _ in range(10):
            conn = http.client.HTTPConnection("127.0.0.1", PORT_SLOW_HEADERS, timeout=3)
            conn.request("GET", "/console/login/")
            assert conn.getresponse().status == 200
        others = time.monotonic() - started
        # deploy/serve gives a client 5 s for its headers.
        closed = [_closed_by(sock, sent_at + 8) for sock in slow]
    finally:
        for sock in [*slow, *idle]:
            sock.close()
    print(f"10 other requests answered in {others:.2f} s; {sum(closed)} of 100 slow headers cut off")
    assert others < 5
    assert all(closed)
