"""The OpenAPI document speaks Chinese to integrators: every operation, parameter and field has a
description, code lists are enums with each code's meaning, and the main operations carry
examples."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from haoping.api import api
from haoping.evaluations.models import LEVEL_LABELS, Evaluation
from haoping.evaluations.questionnaire_defaults import default_labels
from haoping.evaluations.rules import REASON
from haoping.rectification.models import BadReviewCase
from haoping.rectification.workflow import ACTION_LABELS

CJK = re.compile(r"[\u4e00-\u9fff]")
# Three English words in a row, outside `code`: a description left untranslated.
ENGLISH = re.compile(r"\b[a-z]{2,}[ ,;:()'-]+[a-z]{2,}[ ,;:()'-]+[a-z]{2,}\b")
CODE = re.compile(r"`[^`]*`")
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return api.get_openapi_schema(path_prefix="/api/v1")


def chinese(text: Any) -> bool:
    return isinstance(text, str) and bool(CJK.search(text)) and not ENGLISH.search(CODE.sub("", text))


def properties(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of every object schema under `node`, however nested (items, anyOf, inline)."""
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            yield f"{where}.{name}", prop
        for key, sub in node.items():
            yield from properties(sub, f"{where}/{key}" if key != "properties" else where)
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from properties(sub, f"{where}[{i}]")


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def prop(schema: dict[str, Any], component: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["components"]["schemas"][component]["properties"][name]
    return found


def test_every_operation_parameter_and_field_has_a_chinese_description(schema: dict[str, Any]) -> None:
    missing = []
    for where, operation in operations(schema):
        for key in ("summary", "description"):
            if not chinese(operation.get(key)):
                missing.append(f"{where} {key}: {operation.get(key)!r}")
        for parameter in operation.get("parameters", []):
            if not chinese(parameter.get("description")):
                missing.append(f"{where} parameter {parameter['name']}")
        for status, response in operation["responses"].items():
            if not chinese(response.get("description")):
                missing.append(f"{where} response {status}")
        missing += [f"{where} body{name}" for name, p in properties(operation, "") if not chinese(p.get("description"))]
    for component, body in schema["components"]["schemas"].items():
        missing += [name for name, p in properties(body, component) if not chinese(p.get("description"))]
        if "description" in body and not chinese(body["description"]):
            missing.append(component)
    for name, scheme in schema["components"]["securitySchemes"].items():
        if not chinese(scheme.get("description")):
            missing.append(name)
    assert chinese(schema["info"]["description"])
    assert schema["tags"] and all(chinese(t["name"]) and chinese(t["description"]) for t in schema["tags"])
    assert missing == []


def test_no_property_keeps_pydantics_english_title(schema: dict[str, Any]) -> None:
    titled = [
        name for c, body in schema["components"]["schemas"].items() for name, p in properties(body, c) if "title" in p
    ]
    assert titled == []


def codes_described(description: str, codes: dict[Any, Any]) -> bool:
    return all(f"{code} {label}" in description for code, label in codes.items())


def test_code_lists_are_enums_with_their_meanings(schema: dict[str, Any]) -> None:
    channel = prop(schema, "EvaluationIn", "channel")
    assert channel["enum"] == list(Evaluation.Channel.values)
    assert codes_described(channel["description"], {"pad": "窗口评价器", "sms": "短信", "paper": "纸质评价表"})
    level = prop(schema, "EvaluationIn", "level")
    assert level["enum"] == [5, 4, 3, 2, 1]
    assert codes_described(level["description"], {k: str(v) for k, v in LEVEL_LABELS.items()})
    reasons = prop(schema, "EvaluationIn", "reasons")
    # R8, R9: the tags are data, per region and object rated: no enum, the default ones described.
    assert "enum" not in reasons["items"]
    assert codes_described(reasons["description"], default_labels(REASON))
    action = prop(schema, "ActionIn", "action")
    assert set(action["enum"]) <= set(ACTION_LABELS) and "reply" in action["enum"]
    assert codes_described(action["description"], {"reply": str(ACTION_LABELS["reply"])})
    states = {s.value: str(s.label) for s in BadReviewCase.State}
    for component in ("CaseSummary", "CaseDetail", "StateOut"):
        state = prop(schema, component, "state")
        assert state["enum"] == list(states) and codes_described(state["description"], states)
    categories = {c.value: str(c.label) for c in BadReviewCase.Category}
    assert codes_described(prop(schema, "ActionIn", "category")["description"], categories)
    assert prop(schema, "CaseSummary", "category")["enum"] == ["", *categories]
    (state_param,) = [p for p in schema["paths"]["/api/v1/cases"]["get"]["parameters"] if p["name"] == "state"]
    assert codes_described(state_param["description"], states)
    sources = {s.value: str(s.label) for s in Evaluation.Source}
    assert codes_described(prop(schema, "EvaluationBrief", "source")["description"], sources)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/records", "/api/v1/records/{record_no}/visits", "/api/v1/evaluations", "/api/v1/cases/{case_id}/actions"],
)
def test_the_main_operations_show_an_example(schema: dict[str, Any], path: str) -> None:
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    assert component["examples"], path
    for example in component["examples"]:
        assert set(example) <= set(component["properties"])
        assert set(component.get("required", [])) <= set(example)


def test_the_served_document_is_the_translated_one(db: Any) -> None:
    body = Client().get("/api/v1/openapi.json").json()
    assert chinese(body["paths"]["/api/v1/records"]["post"]["summary"])
    assert chinese(body["components"]["schemas"]["RecordIn"]["properties"]["record_no"]["description"])
