"""The national row format, by hand: what our facts become, and what a lower system's rows say."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from haoping.exchange import national

BEIJING = ZoneInfo("Asia/Shanghai")
NATIONAL = national.codes_from_entries(
    "2.0",
    [
        ("pf", "pad", "4"),
        ("pf", "default", "5"),
        ("satisfaction", "1", "1"),
        ("satisfaction", "5", "5"),
        ("satisfaction", "3", "3"),
        ("evalDetail", "reason:attitude", "601"),
        ("evalDetail", "question:guide_clear:5", "510"),
        ("userProp", "person", "1"),
        ("taskType", "行政许可", "01"),
        ("taskType", "*", "99"),
        ("promisetime", "instant", "1"),
        ("promisetime", "promised", "2"),
        ("proChannel", "onsite", "2"),
    ],
)


def facts(**changes: object) -> national.EvaluationFacts:
    base = national.EvaluationFacts(
        project_no="R1",
        assess_number=1,
        service_number=1,
        channel="pad",
        default=False,
        level=5,
        reasons=[],
        answers={"guide_clear": 5, "suggestion": "多设座椅"},
        comment="",
        rated_at=dt.datetime(2026, 12, 4, 9, 30, 5, tzinfo=BEIJING),
        data_source="165",
    )
    return national.EvaluationFacts(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_an_evaluation_row_and_its_parse() -> None:
    row, problems = national.evaluation_row(facts(), NATIONAL)
    assert problems == []
    assert row == {
        "projectNo": "R1",
        "assessNumber": "1",
        "serviceNumber": "1",
        "pf": "4",
        "satisfaction": "5",
        "evalDetail": "510",
        "writingEvaluation": "",
        "assessTime": "2026-12-04 09:30:05",
        "dataSource": "165",
    }
    parsed = national.parse_evaluation_row(row, NATIONAL)
    assert (parsed.channel, parsed.level, parsed.answers, parsed.default) == ("pad", 5, {"guide_clear": 5}, False)
    assert parsed.rated_at == dt.datetime(2026, 12, 4, 9, 30, 5, tzinfo=BEIJING)


def test_a_default_rating_takes_the_tables_default_channel() -> None:
    row, problems = national.evaluation_row(facts(channel="", default=True, level=3, answers={}), NATIONAL)
    assert (row["pf"], row["satisfaction"], problems) == ("5", "3", [])
    assert national.parse_evaluation_row(row, NATIONAL).default


def test_a_bad_rating_needs_codes_or_text_and_unknown_codes_are_named() -> None:
    _row, problems = national.evaluation_row(facts(level=1, answers={}, channel="sms"), NATIONAL)
    assert {p.field for p in problems} == {"pf", "evalDetail"}
    with pytest.raises(national.RowError) as bad:
        national.parse_evaluation_row({**national.evaluation_row(facts(), NATIONAL)[0], "pf": "9"}, NATIONAL)
    assert bad.value.field == "pf"
    with pytest.raises(national.RowError) as late:
        national.parse_evaluation_row(
            {**national.evaluation_row(facts(), NATIONAL)[0], "assessTime": "2026/12/04"}, NATIONAL
        )
    assert late.value.field == "assessTime"


def test_a_service_row_and_its_parse() -> None:
    service = national.ServiceFacts(
        project_no="R1",
        service_number=2,
        service_name="办结",
        service_time=dt.datetime(2026, 12, 4, 9, 0, tzinfo=BEIJING),
        accepted_at=dt.datetime(2026, 12, 1, 8, 30, tzinfo=BEIJING),
        completed_at=dt.datetime(2026, 12, 4, 9, 0, tzinfo=BEIJING),
        item_code="11320102MB1234567X3000117009000XK",
        item_name="食品经营许可证核发",
        item_type="未知类型",
        region_code="320102",
        dept_code="11320102MB1234567X",
        applicant_kind="person",
        cert_key="ab" * 32,
        instant=False,
        mode="onsite",
        data_source="165",
    )
    row, problems = national.service_row(service, NATIONAL)
    assert problems == []
    assert row["taskCode"] == "11320102MB1234567X3000117009000"
    assert row["taskHandleItem"] == "11320102MB1234567X3000117009000XK"
    assert (row["taskType"], row["proStatus"], row["areaCode"]) == ("99", "3", "320102000000")
    assert (row["acceptDate"], row["resultDate"]) == ("2026-12-01 08:30:00", "2026-12-04 09:00:00")
    assert row["promisetime"] == row["projectType"] == "2"
    parsed = national.parse_service_row(row, NATIONAL)
    assert (parsed.service_number, parsed.applicant_kind, parsed.instant, parsed.mode) == (2, "person", False, "onsite")
    with pytest.raises(national.RowError) as short:
        national.parse_service_row({**row, "areaCode": "320102"}, NATIONAL)
    assert short.value.field == "areaCode"
