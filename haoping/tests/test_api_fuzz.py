"""Generated requests against the whole OpenAPI schema, sent over HTTP to the served application
(the WSGI stack production serves, rating fast path and writer thread included), on PostgreSQL:
bad input is never a server error, and every answer is one the schema describes."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from haoping.api import api
from haoping.wsgi import application

# Examples per operation: enough to reach each field's edge cases, few enough that the whole schema
# runs in about two minutes.
EXAMPLES = 60
# The schema as the application publishes it; the requests go to the served application.
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _CountingHandler(WSGIRequestHandler):
    """Counts the answers by status instead of logging each request."""

    statuses: Counter[str] = Counter()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.statuses[str(code)] += 1


@pytest.fixture
def served(transactional_db: Any, settings: Any) -> Iterator[str]:
    """The application on an ephemeral port of 127.0.0.1 for the length of one test."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    server = make_server("127.0.0.1", 0, application, server_class=_Server, handler_class=_CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api_key(world: dict[str, Any], record_payload: Any) -> str:
    # Some real records so that generated record numbers sometimes hit one.
    for n in range(3):
        world["api"].post("/records", record_payload(record_no=f"R{n:06d}"))
    return str(world["api"].key)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_never_answers_500_and_keeps_to_its_schema(case: Any, served: str, api_key: str) -> None:
    case.call_and_validate(
        base_url=served,
        headers={"Authorization": f"Bearer {api_key}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        timeout=30,
    )


def test_the_fuzzing_reached_the_served_application() -> None:
    # Runs after the generated tests of this module (pytest keeps a module's order): they were
    # answered over HTTP, mostly refusals of generated input, and never with a 5xx.
    seen = _CountingHandler.statuses
    if not seen:
        pytest.skip("the generated tests were not selected")
    assert seen["422"] > 0 and not any(code.startswith("5") for code in seen), seen
