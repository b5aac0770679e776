"""The OpenAPI document's words.

Operation summaries and descriptions, field and parameter descriptions are English msgids in the
code (`doc`), translated when the document is generated (`openapi_translated`), like every other
user-facing string. A code list's description names each code with its meaning, taken from the
models' own labels (`code_list`), so that the document and the console never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.db.models import Choices
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext, gettext_noop, pgettext

# Ninja's own response descriptions (the HTTP reason phrases), replaced by what each status means here.
STATUS_DOCS = {
    200: gettext_noop("Done (for a submission repeated, the result of the first one)."),
    201: gettext_noop("Created."),
    400: gettext_noop("The request cannot be processed (for example a body too large); `detail` says why."),
    401: gettext_noop("No valid API key: send `Authorization: Bearer <key>`."),
    403: gettext_noop("The key's region or role does not allow this; `detail` says why."),
    404: gettext_noop("Not found, or outside the key's region."),
    409: gettext_noop(
        "Conflicts with the current state (already rated, case closed, action not allowed now); "
        "`error` names the conflict."
    ),
    410: gettext_noop("The rating period or the link has expired."),
    415: gettext_noop("The body is not JSON: send `Content-Type: application/json`."),
    422: gettext_noop("A field is missing or invalid; `field` names it and `detail` says why."),
}

# The routers' tags, as the document shows them (name, description).
TAGS = {
    "records": (
        gettext_noop("Service records"),
        gettext_noop(
            "Business systems register each service record (办件) and its window visits, and mark it completed; "
            "the answer carries the rating links and QR codes to hand to the applicant."
        ),
    ),
    "evaluations": (
        gettext_noop("Evaluations"),
        gettext_noop(
            "Ratings taken through a channel other than the rating page (a window pad, the hotline, SMS replies, "
            "paper forms entered later)."
        ),
    ),
    "cases": (
        gettext_noop("Bad-review cases"),
        gettext_noop(
            "Bad reviews and their handling (verification, rectification, answer, revisit), and appeals, "
            "for the 12345 hotline and business systems, under the same rules as the console."
        ),
    ),
    "hotline": (
        gettext_noop("Hotline"),
        gettext_noop("The 12345 hotline's key-press rating after a call (R22)."),
    ),
    "indicators": (
        gettext_noop("Indicators"),
        gettext_noop("The six rates of GB/T 39735 Annex A, with the counts behind them."),
    ),
    "exchange": (
        gettext_noop("Exchange with lower-level systems"),
        gettext_noop(
            "Lower-level systems (a county's 好差评 system, a vendor's) send their services, evaluations and case "
            "steps here in the national exchange format (汇聚)."
        ),
    ),
}


def doc(text: str) -> str:
    """A description in the OpenAPI: an English msgid, translated when the document is generated."""
    return text


def _code_list(what: str, codes: Iterable[tuple[Any, Any]]) -> str:
    pairs = pgettext("list separator", "; ").join(f"{value} {label}" for value, label in codes)
    return gettext("%(what)s Codes: %(codes)s.") % {"what": gettext(what), "codes": pairs}


def code_list(what: str, codes: type[Choices] | Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> str:
    """`what`, then every code with its meaning (the model's label), in the active language."""
    if isinstance(codes, type) and issubclass(codes, Choices):
        pairs: list[tuple[Any, Any]] = list(codes.choices)
    elif isinstance(codes, Mapping):
        pairs = list(codes.items())
    else:
        pairs = list(codes)
    return cast(str, lazy(_code_list, str)(what, pairs))


def _translated(value: Any, key: str | None = None) -> Any:
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, str) and key in ("description", "summary"):
        return gettext(value) if value else value
    if isinstance(value, dict):
        return {k: _translated(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_translated(v) for v in value]
    return value


def _without_property_titles(node: Any) -> None:
    """Pydantic titles every property after its name ("Record No"): English, and the name says it."""
    if isinstance(node, dict):
        for name, sub in list(node.items()):
            if name == "properties" and isinstance(sub, dict):
                for prop in sub.values():
                    if isinstance(prop, dict):
                        prop.pop("title", None)
            _without_property_titles(sub)
    elif isinstance(node, list):
        for item in node:
            _without_property_titles(item)


def openapi_translated(schema: dict[str, Any], operation_docs: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The generated document in the active language: every description and summary translated,
    responses described by what their status means here, tags named and described."""
    operation_docs = operation_docs or {}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not operation.get("description") and operation.get("operationId") in operation_docs:
                operation["description"] = operation_docs[operation["operationId"]]
            for status, response in operation.get("responses", {}).items():
                if int(status) in STATUS_DOCS:
                    response["description"] = STATUS_DOCS[int(status)]
            for parameter in operation.get("parameters", []):
                # The document shows the parameter's own description; its schema need not repeat it.
                parameter.get("schema", {}).pop("title", None)
            operation["tags"] = [gettext(TAGS[tag][0]) if tag in TAGS else tag for tag in operation.get("tags", [])]
    schema["tags"] = [{"name": gettext(name), "description": gettext(text)} for name, text in TAGS.values()]
    _without_property_titles(schema.get("components", {}))
    translated: dict[str, Any] = _translated(schema)
    return translated
