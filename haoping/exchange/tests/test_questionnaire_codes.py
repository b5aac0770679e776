"""evalDetail (R8, R9, R21): the codes of a rating's options go up from the options themselves,
older keys through the region's code table; a lower system's codes come back as our options."""

from __future__ import annotations

from typing import Any

from haoping.evaluations.models import Evaluation, QuestionnaireOption, QuestionnaireSet
from haoping.evaluations.selectors import questionnaire_cache_clear
from haoping.exchange.models import CodeEntry, OutgoingRow
from haoping.exchange.services import exchange_push, exchange_sweep
from haoping.exchange.tests.test_exchange import (  # noqa: F401  (fixtures)
    endpoint_for,
    keys,
    national_item,
    rated_record,
    upstream,
)
from haoping.exchange.tests.test_intake import county, evaluation_row, post, results, service_row  # noqa: F401
from haoping.exchange.tests.upstream import Upstream


def own_set(region: Any, kind: str, version: str, *options: tuple[str, str, str, str]) -> QuestionnaireSet:
    qs = QuestionnaireSet.objects.create(region=region, kind=kind, name=kind, catalogue_version=version)
    for order, (role, key, label, code) in enumerate(options):
        QuestionnaireOption.objects.create(
            questionnaire=qs, role=role, key=key, label=label, order=order, eval_detail_code=code
        )
    questionnaire_cache_clear()
    return qs


def test_the_uploaded_row_carries_each_options_code_and_older_keys_the_tables(
    world: dict[str, Any],
    record_payload: Any,
    keys: dict[str, str],  # noqa: F811
    upstream: Upstream,  # noqa: F811
    national_item: Any,  # noqa: F811
) -> None:
    endpoint = endpoint_for(world, keys, upstream, "national")
    table = endpoint.code_table
    table.content_version = "1.0"
    table.save(update_fields=["content_version"])
    # The table still maps the unit's 'attitude' (no code on that option) and the old answer key.
    CodeEntry.objects.create(table=table, field="evalDetail", local="reason:attitude", code="601")
    CodeEntry.objects.create(table=table, field="evalDetail", local="reason:rude_at_window", code="699")
    own_set(
        world["district"],
        "staff",
        "2.1",
        ("reason", "rude_at_window", "窗口人员冷漠", "701"),
        ("question", "staff_attitude", "服务态度", "702"),
    )
    record_no = rated_record(
        world,
        record_payload,
        level=2,
        reasons=["rude_at_window", "attitude"],
        answers={"staff_attitude": 2},
        comment="",
    )

    exchange_sweep()
    result = exchange_push(sleep=lambda s: None)

    assert (result.sent, result.rejected) == (2, 0)
    # The option's own code wins over the table's (699); 'attitude' has none, so the table's 601.
    assert upstream.evaluations[(record_no, "1")]["evalDetail"] == "701,601,702"
    # The row names the catalogue version of the options' codes.
    assert OutgoingRow.objects.get(kind="evaluation").content_version == "2.1"


def test_a_lower_systems_codes_come_back_as_the_options_of_what_it_rated(
    client: Any,
    world: dict[str, Any],
    county: dict[str, Any],  # noqa: F811
) -> None:
    own_set(
        world["district"],
        "institution",
        "2.1",
        ("reason", "hidden_fees", "乱收费", "801"),
        ("question", "service_norms", "服务规范", "802"),
    )
    rows = [service_row("XW-1"), evaluation_row("XW-1", satisfaction="2", evalDetail="801,802,999")]
    answered = results(post(client, county["key"], "evaluations", rows))
    assert [r["status"] for r in answered] == [201, 201], answered
    ev = Evaluation.objects.get()
    # 801 a reason tag; 802 a question, answered at the rating's level; 999 known nowhere, left out.
    assert (ev.reasons, ev.answers) == (["hidden_fees"], {"service_norms": 2})
