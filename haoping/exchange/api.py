"""Intake from lower-level systems (汇聚, R21): batches of the national format, with or without the
signed envelope, from a key bound to a lower region. Answered as the national gateway answers (the
call's status, then each row's own), so that our own upload reads the answer of a system like this
one as it reads the national platform's."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.decorators import decorate_view

from haoping.apidocs import doc
from haoping.errors import DomainError, Forbidden, Invalid
from haoping.exchange import transport
from haoping.exchange.intake import intake_rows
from haoping.exchange.models import LowerSystem
from haoping.lib.gm import DecryptionError, sm2_decrypt, sm2_verify
from haoping.records.api import batch_body
from haoping.records.services import MAX_BATCH
from haoping.schemas import ApiRequest, ErrorOut

router = Router(tags=["exchange"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 415: ErrorOut, 422: ErrorOut}


class RowResultOut(Schema):
    index: int = Field(description=doc("The row's position in the call, from 0."))
    key: str = Field(
        description=doc("The row's natural key: service:projectNo:serviceNumber, evaluation:projectNo:assessNumber, …")
    )
    kind: str = Field(description=doc("service, evaluation, case_step, checkpoint, or unknown."))
    success: str = Field(description=doc('"true" when the row is stored (now or before), else "false".'))
    status: int = Field(
        description=doc(
            "201 stored; 200 the same row sent before (not counted twice); 409 a conflict with what is stored; "
            "422 invalid, `field` names the row's field."
        ),
        json_schema_extra={"enum": [201, 200, 409, 422]},
    )
    field: str = Field("", description=doc("The row's field at fault, when refused."))
    message: str = Field("", description=doc("Why the row was refused."))


class IntakeBodyOut(Schema):
    success: str = Field(description=doc('"true": the call was read; each row has its own result.'))
    results: list[RowResultOut] = Field(description=doc("One result per row, in the order of the rows."))


class IntakeOut(Schema):
    response_desc: str = Field(alias="C-Response-Desc", description=doc('"success" when the call was read.'))
    response_body: IntakeBodyOut = Field(
        alias="C-Response-Body", description=doc("The call's business answer, with each row's result.")
    )


REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "description": doc(
                        'The rows, as a list, or as `{"rows": [...]}`, or in the national envelope '
                        '`{"txnBodyCom": {"appMark", "time", "sign", "params": {"evaluate": [...]}}, '
                        '"txnCommCom": {}}` '
                        "(the rows may be one SM2-encrypted text). At most 1,000 rows."
                    ),
                    "oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}],
                }
            }
        },
    }
}
DESCRIPTION = doc(
    "Rows of the national exchange format from a lower-level system (a county's 好差评 system or a vendor's), "
    "whose key the administrator registered as a lower-level system. Either address takes every kind of row, "
    "told apart by its fields: services (办件服务), evaluations, case steps and chain checkpoints, in order "
    "(a service before its evaluation, an evaluation before its case steps). Codes are read through the "
    "system's code table. A row is stored once per natural key: sent again, it is answered 200 and not counted "
    "twice. A system with a registered SM2 key must sign every call."
)


def _system(request: ApiRequest) -> LowerSystem:
    system = (
        LowerSystem.objects.select_related("region", "code_table", "api_client")
        .filter(api_client=request.auth, active=True)
        .first()
    )
    if system is None:
        raise Forbidden("forbidden", _("this key belongs to no lower-level system taking rows here"))
    return system


def _body(request: HttpRequest) -> Any:
    if request.content_type != "application/json":
        raise DomainError(
            "unsupported_media_type",
            _("the request body must be JSON, sent with Content-Type: %(type)s") % {"type": "application/json"},
            status=415,
            field="Content-Type",
        )
    try:
        return json.loads(request.body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DomainError("error", _("the request body cannot be parsed; send valid JSON"), field="body") from exc


def _envelope_rows(system: LowerSystem, txn: Any) -> Any:
    """The rows of the national envelope, its signature checked with the key the system registered."""
    if not isinstance(txn, dict):
        raise Invalid("invalid", _("txnBodyCom: must be an object"), field="txnBodyCom")
    sign, time_text, app_mark = txn.get("sign"), txn.get("time"), txn.get("appMark")
    if sign or system.sign_public_key:
        if not system.sign_public_key:
            raise Forbidden("forbidden", _("sign: no SM2 key is registered for this system"), field="sign")
        if not all(isinstance(v, str) and v for v in (sign, time_text, app_mark)):
            raise Forbidden("forbidden", _("sign: a signed call needs sign, time and appMark"), field="sign")
        signed = transport.sign_input(str(time_text), str(app_mark), system.app_word)
        if app_mark != system.app_mark or not sm2_verify(system.sign_public_key, signed, str(sign)):
            raise Forbidden("forbidden", _("sign: the signature does not match"), field="sign")
    params = txn.get("params")
    rows = params.get("evaluate") if isinstance(params, dict) else None
    if isinstance(rows, list) and len(rows) == 1 and isinstance(rows[0], str):
        if not system.decrypt_private_key:
            raise Invalid("invalid", _("evaluate: encrypted, but no key to open it is registered"), field="evaluate")
        try:
            return json.loads(sm2_decrypt(system.decrypt_private_key, rows[0]))
        except (DecryptionError, UnicodeDecodeError, ValueError) as exc:
            raise Invalid("invalid", _("evaluate: cannot be opened with the registered key"), field="evaluate") from exc
    return rows


def _rows(system: LowerSystem, body: Any) -> list[Any]:
    if isinstance(body, dict) and "txnBodyCom" in body:
        rows = _envelope_rows(system, body["txnBodyCom"])
    else:
        if system.sign_public_key:
            raise Forbidden(
                "forbidden", _("sign: this system signs its calls; send them in the envelope"), field="sign"
            )
        rows = body.get("rows") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise Invalid("invalid", _("rows: must be a list of rows"), field="rows")
    if not 1 <= len(rows) <= MAX_BATCH:
        raise Invalid("invalid", _("rows: from 1 to %(max)d rows") % {"max": MAX_BATCH}, field="rows")
    return rows


def _intake(request: ApiRequest) -> IntakeOut:
    system = _system(request)
    rows = _rows(system, _body(request))
    results = intake_rows(system=system, rows=rows)
    return IntakeOut.model_validate(
        {
            "C-Response-Desc": "success",
            "C-Response-Body": {
                "success": "true",
                "results": [
                    {
                        "index": r.index,
                        "key": r.key,
                        "kind": r.kind,
                        "success": "true" if r.stored else "false",
                        "status": r.status,
                        "field": r.field,
                        "message": r.message,
                    }
                    for r in results
                ],
            },
        }
    )


@decorate_view(batch_body)
@router.post(
    "/services",
    response={200: IntakeOut, **ERRORS},
    by_alias=True,
    summary="Take services (办件服务) from a lower-level system",
    description=DESCRIPTION,
    openapi_extra=REQUEST_BODY,
)
def services(request: ApiRequest) -> IntakeOut:
    return _intake(request)


@decorate_view(batch_body)
@router.post(
    "/evaluations",
    response={200: IntakeOut, **ERRORS},
    by_alias=True,
    summary="Take evaluations and case steps from a lower-level system",
    description=DESCRIPTION,
    openapi_extra=REQUEST_BODY,
)
def evaluations(request: ApiRequest) -> IntakeOut:
    return _intake(request)
