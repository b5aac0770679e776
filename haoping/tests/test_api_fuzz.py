"""Generated requests against the OpenAPI schema: bad input is never a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from haoping.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def api_key(world: dict[str, Any], record_payload: Any) -> str:
    # Some real records so that generated record numbers sometimes hit one.
    for n in range(3):
        world["api"].post("/records", record_payload(record_no=f"R{n:06d}"))
    return world["api"].key


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@schema.parametrize()
@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_never_answers_500(case: Any, api_key: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {api_key}"}, checks=[not_a_server_error])
