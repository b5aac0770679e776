"""Shared test fixtures: a small directory with two regions, and API clients for each."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from django.utils import timezone

from haoping.accounts.models import ApiClient
from haoping.accounts.selectors import clear_cache
from haoping.accounts.services import api_client_create
from haoping.directory.models import Department, Institution, Platform, ServiceItem, Staff, Window
from haoping.directory.services import region_create
from haoping.evaluations import fastpath
from haoping.evaluations.selectors import questionnaire_cache_clear


class FastResponse:
    """The fast path's answer, shaped like the test client's responses."""

    def __init__(self, status: int, content: bytes) -> None:
        self.status_code = status
        self.content = content
        self.headers = dict(fastpath.HEADERS)

    def json(self) -> Any:
        return json.loads(self.content)


# The test's rating writers, each with what undoes its sharing of the test's connection.
_writers: list[tuple[fastpath.Writer, Callable[[], None] | None]] = []


def _share(conn: Any) -> Callable[[], None]:
    """Every thread uses `conn` until undone: the writer's threads see the rows of a test that runs
    in a transaction it rolls back, and store inside that transaction as they would in their own."""
    original = connections._connections
    connections._connections = SimpleNamespace(**{DEFAULT_DB_ALIAS: conn})  # type: ignore[assignment]
    conn.inc_thread_sharing()
    conn.close = lambda: None  # the test's transaction ends with the test, not with a thread

    def undo() -> None:
        connections._connections = original
        conn.dec_thread_sharing()
        del conn.close

    return undo


def rating_writer(*, share: bool | None = None, **options: Any) -> fastpath.Writer:
    """A rating writer as the served processes run it (`fastpath.Writer`), stopped after the test.

    It shares the test's connection (`_share`) in a test that runs in a transaction it rolls back,
    or when asked to, so that a test can count the writer's queries. Otherwise (a transactional
    test) it has its own connections, as in production.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    if share is None:
        share = conn.in_atomic_block
    shared = any(undo for _w, undo in _writers)
    writer = fastpath.Writer(**options)
    _writers.append((writer, _share(conn) if share and not shared else None))
    return writer


def writers_stop() -> None:
    while _writers:
        writer, undo = _writers.pop()
        writer.stop()
        if undo is not None:
            undo()


class Api:
    """A JSON client holding one API key.

    Ratings take the production route: the fast path first (haoping.evaluations.fastpath), through
    the rating writer the served entry points use, then Django's request cycle for whatever it
    leaves. `fast=False` sends everything through Django.
    """

    def __init__(self, key: str, *, fast: bool = True) -> None:
        self.key = key
        self.fast = fast
        self.http = Client()

    def _headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}

    def post(self, path: str, body: Any) -> Any:
        # As the test client encodes a body: JSON for data, as given for text.
        raw = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else None
        if raw is None:
            raw = json.dumps(body, cls=DjangoJSONEncoder).encode()
        if self.fast and "/api/v1" + path == fastpath.PATH:
            answered = fastpath.respond(self.environ(raw), self.writer())
            if answered is not None:
                return FastResponse(*answered)
        return self.http.post("/api/v1" + path, raw, content_type="application/json", **self._headers())

    def writer(self) -> fastpath.Writer:
        """The test's rating writer, started on its first rating."""
        if not _writers:
            rating_writer()
        return _writers[0][0]

    def environ(self, raw: bytes, **overrides: Any) -> dict[str, Any]:
        """A WSGI environ of a rating POST with this key."""
        return {
            "PATH_INFO": fastpath.PATH,
            "REQUEST_METHOD": "POST",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(raw)),
            "HTTP_HOST": "testserver",
            "wsgi.input": io.BytesIO(raw),
            **self._headers(),
            **overrides,
        }

    def get(self, path: str) -> Any:
        return self.http.get("/api/v1" + path, **self._headers())


@pytest.fixture(autouse=True)
def _writers_stopped() -> Iterator[None]:
    yield
    writers_stop()


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> None:
    clear_cache()
    # Each test's questionnaire sets are its own (haoping.evaluations.selectors caches them per process).
    questionnaire_cache_clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The public pages' per-address counts (haoping.throttle) live in the cache; each test starts at 0.
    cache.clear()


@pytest.fixture(autouse=True)
def _own_anchor_log(settings: Any, tmp_path: Any) -> None:
    """Each test's database starts empty, so its chain's anchor log must too."""
    settings.HAOPING_CHAIN_ANCHOR_LOG = tmp_path / "chain-anchors.log"


@pytest.fixture(scope="session", autouse=True)
def _flush_past_append_only_triggers() -> Any:
    """Transactional tests empty the database with TRUNCATE (DELETE on SQLite), which the chain's
    tables refuse (haoping/evaluations/append_only.py); the test database's superuser empties it
    in replica mode."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: Any, sql_list: list[str]) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")

    DatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
    # SQLite has no replica mode: its row triggers are set aside for the flush and put back.
    from django.db.backends.sqlite3.base import DatabaseOperations as SQLiteOperations

    from haoping.evaluations.append_only import sqlite_allow, sqlite_forbid

    sqlite_original = SQLiteOperations.execute_sql_flush

    def sqlite_execute_sql_flush(self: Any, sql_list: list[str]) -> None:
        with self.connection.cursor() as cursor:
            sqlite_allow(cursor)
        try:
            sqlite_original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                sqlite_forbid(cursor)

    SQLiteOperations.execute_sql_flush = sqlite_execute_sql_flush  # type: ignore[method-assign]
    yield
    DatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]
    SQLiteOperations.execute_sql_flush = sqlite_original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Test users log in with throwaway passwords; the production hasher's cost buys nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No huey consumer runs in tests: they update the rollups themselves (haoping.indicators).
    settings.HAOPING_ROLLUPS_ENQUEUE = False


@pytest.fixture
def world(db: Any) -> Iterator[dict[str, Any]]:
    """City 320100 with district 320102 (our hall) and district 320104 (another region)."""
    city = region_create(code="320100", name="示例市")
    district = region_create(code="320102", name="玄武区", parent=city)
    other = region_create(code="320104", name="秦淮区", parent=city)
    dept = Department.objects.create(code="D-MKT", name="市场监督管理局", region=district)
    other_dept = Department.objects.create(code="D-OTHER", name="秦淮区人社局", region=other)
    hall = Institution.objects.create(code="H-XW", name="玄武区政务服务中心", kind="center", region=district)
    other_hall = Institution.objects.create(code="H-QH", name="秦淮区政务服务中心", kind="center", region=other)
    window = Window.objects.create(code="W-XW-01", name="1号窗口", institution=hall, department=dept)
    window2 = Window.objects.create(code="W-XW-02", name="2号窗口", institution=hall, department=dept)
    other_window = Window.objects.create(code="W-QH-01", name="1号窗口", institution=other_hall, department=other_dept)
    platform = Platform.objects.create(code="P-WEB", name="玄武区网上办事大厅", kind="web", region=district)
    item = ServiceItem.objects.create(code="ITEM-001", name="企业开办", department=dept, legal_days=5, promised_days=1)
    item2 = ServiceItem.objects.create(
        code="ITEM-002", name="食品经营许可", department=dept, legal_days=20, promised_days=5
    )
    staff = Staff.objects.create(staff_no="S001", name="王芳", department=dept, institution=hall, window=window)
    staff2 = Staff.objects.create(staff_no="S002", name="李强", department=dept, institution=hall, window=window2)
    city_dept = Department.objects.create(code="D-CITY", name="市医保局", region=city)
    ServiceItem.objects.create(code="ITEM-CITY", name="异地就医备案", department=city_dept)
    ServiceItem.objects.create(code="ITEM-QH", name="失业登记", department=other_dept)
    Staff.objects.create(
        staff_no="S-QH", name="周敏", department=other_dept, institution=other_hall, window=other_window
    )
    # The tests' main keys act for units and managers; deciding what one of them asked for takes
    # another manager (manager_api), and a business system's key decides nothing (business_api).
    manager = ApiClient.Role.MANAGER
    _, district_key = api_client_create(name="玄武区审批系统", region=district, role=manager)
    _, other_key = api_client_create(name="秦淮区审批系统", region=other, role=manager)
    _, city_key = api_client_create(name="市级平台", region=city, role=manager)
    _, manager_key = api_client_create(name="玄武区政务服务管理局", region=district, role=manager)
    _, business_key = api_client_create(name="玄武区业务系统", region=district)
    _, hotline_key = api_client_create(name="12345热线", region=district, role=ApiClient.Role.HOTLINE)
    yield {
        "city": city,
        "district": district,
        "other": other,
        "hall": hall,
        "other_hall": other_hall,
        "window": window,
        "window2": window2,
        "other_window": other_window,
        "platform": platform,
        "item": item,
        "item2": item2,
        "staff": staff,
        "staff2": staff2,
        "api": Api(district_key),
        "other_api": Api(other_key),
        "city_api": Api(city_key),
        "manager_api": Api(manager_key),
        "business_api": Api(business_key),
        "hotline_api": Api(hotline_key),
    }
    # Before the test's transaction ends, while the writer may still use it.
    writers_stop()


def iso(value: dt.datetime) -> str:
    return value.isoformat()


@pytest.fixture
def record_payload(world: dict[str, Any]) -> Any:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> dict[str, Any]:
        now = timezone.now()
        body: dict[str, Any] = {
            "record_no": f"R{next(counter):06d}",
            "item_code": "ITEM-001",
            "institution_code": "H-XW",
            "window_code": "W-XW-01",
            "staff_no": "S001",
            "mode": "onsite",
            "on_the_spot": True,
            "applicant": {"kind": "person", "name": "张三", "phone": "13812345678", "id_number": "320102199001011234"},
            "agent": None,
            "bundle": None,
            "accepted_at": iso(now - dt.timedelta(hours=2)),
            "completed_at": iso(now - dt.timedelta(hours=1)),
        }
        body.update(overrides)
        return body

    return make


@pytest.fixture
def huey_immediate() -> Any:
    """Tasks run at once in the calling thread, with huey's in-memory storage, instead of queueing."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    try:
        yield HUEY
    finally:
        HUEY.immediate = False
