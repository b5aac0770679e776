"""One node of the federation test (test_federation.py), run in its own process against its own
database (DATABASE_URL): `python -m haoping.tests.federation_node <command> '<json>'`, or `serve`
to take one JSON line `[command, spec]` at a time on stdin (one process start per node, not per step).

Commands: `county` and `city` set up a node's directory, keys and exchange settings and print
what the test needs as one JSON line; `sweep` makes the default ratings (R2) as the scheduled sweep
does; `push` runs `exchange_push`; `rollups` brings the rollups up to date (no huey consumer runs
beside the test's servers); `requeue` marks every sent row to be sent again, as a push whose answers
were all lost would leave them; `incoming` counts what the intake holds.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import django


def item_code(region_code: str) -> str:
    """A national item code (31 characters) of the county's market regulation department."""
    return f"11{region_code}MB1234567X3000117009001"


def directory(city_code: str, counties: list[dict[str, str]]) -> None:
    from haoping.directory.models import Department, Institution, ServiceItem, Staff, Window
    from haoping.directory.services import region_create

    city = region_create(code=city_code, name="示例市")
    for county in counties:
        region = region_create(code=county["code"], name=county["name"], parent=city)
        dept = Department.objects.create(code=f"D-{county['code']}", name=f"{county['name']}市场监管局", region=region)
        ServiceItem.objects.create(
            code=item_code(county["code"]), name="食品经营许可证核发", type="行政许可", department=dept, promised_days=5
        )
        hall = Institution.objects.create(
            code=f"H-{county['code']}", name=f"{county['name']}政务服务中心", kind="center", region=region
        )
        window = Window.objects.create(code=f"W-{county['code']}", name="1号窗口", institution=hall, department=dept)
        Staff.objects.create(
            staff_no=f"S-{county['code']}", name="王芳", department=dept, institution=hall, window=window
        )


def county(spec: dict[str, Any]) -> dict[str, Any]:
    from haoping.accounts.models import ApiClient
    from haoping.accounts.services import api_client_create
    from haoping.directory.models import Region
    from haoping.exchange.models import CodeTable, Endpoint

    me = spec["county"]
    directory(spec["city_code"], [me])
    region = Region.objects.get(code=me["code"])
    _, business = api_client_create(name=f"{me['name']}审批系统", region=region)
    _, manager = api_client_create(name=f"{me['name']}政务服务管理局", region=region, role=ApiClient.Role.MANAGER)
    _, reader = api_client_create(name=f"{me['name']}督查", region=region, role=ApiClient.Role.MANAGER)
    Endpoint.objects.create(
        region=region,
        code_table=CodeTable.objects.get(slug="national"),
        url=spec["city_url"] + "/api/v1/exchange/evaluations",
        api_key=me["city_key"],
        app_mark=me["app_mark"],
        app_word=me["app_word"],
        sign_private_key=me["private_key"],
        sign_public_key=me["public_key"],
        data_source="165",
        every_minutes=1,
    )
    return {"business": business, "manager": manager, "reader": reader, "item": item_code(me["code"])}


def city(spec: dict[str, Any]) -> dict[str, Any]:
    from haoping.accounts.models import ApiClient
    from haoping.accounts.services import api_client_create
    from haoping.directory.models import Region
    from haoping.exchange.models import CodeTable, LowerSystem

    directory(spec["city_code"], spec["counties"])
    keys: dict[str, Any] = {}
    for c in spec["counties"]:
        region = Region.objects.get(code=c["code"])
        client, key = api_client_create(name=f"{c['name']}好差评系统", region=region)
        LowerSystem.objects.create(
            name=f"{c['name']}好差评系统",
            region=region,
            api_client=client,
            code_table=CodeTable.objects.get(slug="national"),
            app_mark=c["app_mark"],
            app_word=c["app_word"],
            sign_public_key=c["public_key"],
        )
        keys[c["code"]] = key
    _, reader = api_client_create(
        name="市政务服务管理局", region=Region.objects.get(code=spec["city_code"]), role=ApiClient.Role.MANAGER
    )
    return {"county_keys": keys, "reader": reader}


def sweep(spec: dict[str, Any]) -> dict[str, Any]:
    from haoping.evaluations.services import defaults_record

    return {"defaults": defaults_record()}


def push(spec: dict[str, Any]) -> dict[str, Any]:
    from haoping.exchange.services import exchange_push, exchange_sweep

    swept = exchange_sweep()
    pushed = exchange_push(sleep=lambda s: None)
    return {
        "made": swept.created,
        "batches": pushed.batches,
        "sent": pushed.sent,
        "rejected": pushed.rejected,
        "undelivered": pushed.transport_errors,
    }


def rollups(spec: dict[str, Any]) -> dict[str, Any]:
    from haoping.indicators.services import rollups_update

    rounds = 0
    while rollups_update():
        rounds += 1
    return {"rounds": rounds}


def requeue(spec: dict[str, Any]) -> dict[str, Any]:
    from haoping.exchange.models import OutgoingRow

    return {"requeued": OutgoingRow.objects.filter(status="sent").update(status="pending", next_attempt_at=None)}


def incoming(spec: dict[str, Any]) -> dict[str, Any]:
    from django.db.models import Sum

    from haoping.evaluations.models import Evaluation
    from haoping.exchange.models import IncomingRow

    rows = IncomingRow.objects.all()
    return {
        "stored": rows.filter(status="stored").count(),
        "refused": list(rows.filter(status="refused").values_list("natural_key", "field", "message")),
        "received": rows.aggregate(n=Sum("times"))["n"] or 0,
        "evaluations": Evaluation.objects.count(),
    }


COMMANDS = {f.__name__: f for f in (county, city, sweep, push, rollups, requeue, incoming)}


def serve() -> None:
    import traceback

    from django.db import close_old_connections

    for line in sys.stdin:
        command, spec = json.loads(line)
        try:
            answer = "FEDERATION " + json.dumps(COMMANDS[command](spec), ensure_ascii=False)
        except Exception:  # noqa: BLE001 (the test shows it and fails)
            answer = "FEDERATION-ERROR " + json.dumps(traceback.format_exc())
        close_old_connections()
        print(answer, flush=True)


if __name__ == "__main__":
    django.setup()
    if sys.argv[1] == "serve":
        serve()
    else:
        command, spec = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
        print("FEDERATION " + json.dumps(COMMANDS[command](spec), ensure_ascii=False))
