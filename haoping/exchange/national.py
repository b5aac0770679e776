"""The national 好差评 exchange format: our facts → the upstream's rows, and rows → facts.

Pure functions over plain facts and a region's code table (no database): the upload builds its
rows here, and the intake of the same format from lower systems parses them here. Field names
and codes follow DESIGN.md "Exchange with the national platform" and its sources; the rating
rules stay in haoping.evaluations.rules and are asked, not restated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.evaluations.chain import anchor_valid
from haoping.evaluations.rules import LEVELS, QUESTION, REASON, SUGGESTION, Questionnaire, is_bad
from haoping.lib.numbers import whole_number

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # yyyy-MM-dd HH:mm:ss, Beijing time
MAX_SERVICE_NUMBER = 99
# Sources: Shandong's gateway takes these and files anything else as 99 其它 (field notes §1a).
TASK_TYPES = frozenset({"01", "05", "07", "08", "09", "10", "20", "99"})
PRO_STATUS_ACCEPTED, PRO_STATUS_DONE = "2", "3"
# A code table's entry for values it does not list (used for taskType: 99 其它).
ANY = "*"
# pf for a rating nobody gave (R2): the table's entry for this value.
DEFAULT_RATING = "default"
# pf of a paper form, the one channel that replaces a default rating (R2 with R4).
PAPER = "paper"
SERVICE_FIELDS = (
    "projectNo",
    "serviceNumber",
    "serviceName",
    "serviceTime",
    "proStatus",
    "acceptDate",
    "resultDate",
    "taskCode",
    "taskHandleItem",
    "taskName",
    "taskType",
    "areaCode",
    "deptCode",
    "userProp",
    "certKey",
    "projectType",
    "promisetime",
    "proChannel",
    "dataSource",
)
EVALUATION_FIELDS = (
    "projectNo",
    "assessNumber",
    "serviceNumber",
    "pf",
    "satisfaction",
    "evalDetail",
    "writingEvaluation",
    "assessTime",
    "dataSource",
)
# No upward interface for case steps was found in the sources; ours names its fields like the
# national rows (docs/exchange.md).
CASE_STEP_FIELDS = (
    "projectNo",
    "assessNumber",
    "serviceNumber",
    "handleStep",
    "handleTime",
    "invalidType",
    "revisitResult",
    "dataSource",
)
CASE_STEPS = ("invalidated", "replied", "rectified", "revisited")
# The evaluation chain's signed checkpoints (haoping.evaluations.chain), for an upper platform that
# keeps a lower system's checkpoints to hold its chain to (docs/exchange.md, "Checkpoint rows"). Not
# a national row: the national rows carry no `rowKind`, a checkpoint row always carries this one.
ROW_KIND = "rowKind"
CHECKPOINT = "chainCheckpoint"
CHECKPOINT_FIELDS = (ROW_KIND, "checkpointNumber", "checkpoint", "areaCodes", "dataSource")
# An evaluation row sent again under the same projectNo + assessNumber because a paper form replaced
# the default rating uploaded before (R2 with R4): the row carries the form's values and this field,
# "1". The national platform answers a plain row under a stored key "已存在", keeping the first; an
# upper system that takes the field counts the form instead of the default (docs/exchange.md).
REPLACES_DEFAULT = "replacesDefault"


class RowError(ValueError):
    """A row that does not fit the format, naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Codes:
    """One code table as loaded: for each field, our value → the upstream's code."""

    content_version: str
    maps: Mapping[str, Mapping[str, str]]

    def code(self, field: str, local: str) -> str | None:
        table = self.maps.get(field, {})
        return table.get(local, table.get(ANY))

    def local(self, field: str, code: str) -> str | None:
        """Our value for an upstream code (the first listed, when several of ours share it)."""
        for ours, theirs in sorted(self.maps.get(field, {}).items()):
            if theirs == code and ours != ANY:
                return ours
        return None


def codes_from_entries(content_version: str, entries: Iterable[tuple[str, str, str]]) -> Codes:
    maps: dict[str, dict[str, str]] = {}
    for fld, local, code in entries:
        maps.setdefault(fld, {})[local] = code
    return Codes(content_version=content_version, maps=maps)


@dataclass(frozen=True)
class ServiceFacts:
    """One service occurrence of a record (a window visit, or the completion)."""

    project_no: str
    service_number: int
    service_name: str  # 申报, 补正, 办结 …
    service_time: dt.datetime
    accepted_at: dt.datetime
    completed_at: dt.datetime | None  # set for the completion: 已办结
    item_code: str
    item_name: str
    item_type: str
    region_code: str
    dept_code: str
    applicant_kind: str
    cert_key: str  # the ID number's hash, or ""
    instant: bool  # 即办件
    mode: str  # online, onsite, mixed
    data_source: str


@dataclass(frozen=True)
class EvaluationFacts:
    project_no: str
    assess_number: int
    service_number: int
    channel: str  # "" for a rating nobody gave
    default: bool  # R2: recorded by the system when nobody rated in time
    level: int
    reasons: Sequence[str]
    answers: Mapping[str, Any]
    comment: str  # redacted: no phone or ID number, no personal name (R10)
    rated_at: dt.datetime
    data_source: str
    # R8, R9: the questionnaire of what was rated, whose options carry their evalDetail codes.
    questionnaire: Questionnaire = Questionnaire(kinds=(), questions=(), reasons=())


@dataclass(frozen=True)
class CaseStepFacts:
    project_no: str
    assess_number: int
    service_number: int
    step: str  # one of CASE_STEPS
    at: dt.datetime
    invalid_type: str = ""  # mistaken, malicious, appeal
    satisfied: bool | None = None
    data_source: str = ""


@dataclass
class Problems:
    items: list[RowError] = field(default_factory=list)

    def add(self, fld: str, message: str) -> None:
        self.items.append(RowError(fld, message))


def format_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime(TIME_FORMAT)


def parse_time(value: Any, fld: str) -> dt.datetime:
    try:
        naive = dt.datetime.strptime(str(value), TIME_FORMAT)
    except ValueError as exc:
        raise RowError(fld, _("a time as yyyy-MM-dd HH:mm:ss")) from exc
    return timezone.make_aware(naive)


def area_code(region_code: str) -> str:
    """areaCode has 12 digits: a 6- or 9-digit division code is padded with zeros."""
    return region_code.ljust(12, "0")


def task_codes(item_code: str) -> tuple[str, str] | None:
    """(taskCode, taskHandleItem) of an item, or None for a self-built item (no national code),
    which is not pushed. A 33-character 业务办理项编码 is the handle item; its first 31 are the
    item's code. Self-built codes carry eight zeros in place of the national part (field notes §1a)."""
    code = item_code.strip()
    if not code or "00000000" in code:
        return None
    if len(code) == 33:
        return code[:31], code
    return code, ""


def self_built(item_code: str) -> bool:
    return task_codes(item_code) is None


def detail_values(reasons: Sequence[str], answers: Mapping[str, Any]) -> list[str]:
    """Our values that a code table's evalDetail codes are looked up for: each reason tag, and each
    questionnaire answer as question and level (R8)."""
    values = [f"reason:{r}" for r in reasons]
    values += [f"question:{k}:{v}" for k, v in sorted(answers.items()) if k != SUGGESTION]
    return values


def detail_codes(facts: EvaluationFacts, codes: Codes) -> tuple[list[str], str]:
    """The evalDetail codes of a rating's reason tags and answered questions (R8, R9), and the
    content catalogue version they belong to: each option's own code (its set's version), else,
    for an option without one or a key no set knows (older ratings), the code table's entry
    (`reason:<tag>`, `question:<key>:<answer>`, the table's version). A value with neither is left out."""
    found: list[str] = []
    version = ""
    asked = [(REASON, r, f"reason:{r}") for r in facts.reasons]
    asked += [(QUESTION, k, f"question:{k}:{v}") for k, v in sorted(facts.answers.items()) if k != SUGGESTION]
    for role, key, local in asked:
        option = facts.questionnaire.option(role, key)
        if option is not None and option.code:
            code, of = option.code, option.version
        else:
            code, of = codes.code("evalDetail", local) or "", codes.content_version
        if code and code not in found:
            found.append(code)
            version = version or of
    return found, version


def service_row(facts: ServiceFacts, codes: Codes) -> tuple[dict[str, str], list[RowError]]:
    """The service row (办件服务) of one occurrence, and what in it the upstream would refuse."""
    problems = Problems()
    tasks = task_codes(facts.item_code)
    if tasks is None:
        problems.add("taskCode", _("a self-built item has no national code"))
        tasks = ("", "")
    if not 1 <= facts.service_number <= MAX_SERVICE_NUMBER:
        problems.add("serviceNumber", _("at most 99 services per record"))
    done = facts.completed_at is not None
    row = {
        "projectNo": facts.project_no,
        "serviceNumber": str(facts.service_number),
        "serviceName": facts.service_name,
        "serviceTime": format_time(facts.service_time),
        "proStatus": PRO_STATUS_DONE if done else PRO_STATUS_ACCEPTED,
        # acceptDate when accepted (2 or 3), resultDate once completed (3).
        "acceptDate": format_time(facts.accepted_at),
        "resultDate": format_time(facts.completed_at) if facts.completed_at is not None else "",
        "taskCode": tasks[0],
        "taskHandleItem": tasks[1],
        "taskName": facts.item_name,
        "taskType": _code(codes, problems, "taskType", facts.item_type),
        "areaCode": area_code(facts.region_code),
        "deptCode": facts.dept_code,
        "userProp": _code(codes, problems, "userProp", facts.applicant_kind),
        "certKey": facts.cert_key,
        "projectType": _code(codes, problems, "promisetime", "instant" if facts.instant else "promised"),
        "proChannel": _code(codes, problems, "proChannel", facts.mode),
        "dataSource": facts.data_source,
    }
    row["promisetime"] = row["projectType"]
    if row["taskType"] and row["taskType"] not in TASK_TYPES:
        problems.add("taskType", _("not a national item type: %(code)s") % {"code": row["taskType"]})
    return row, problems.items


def evaluation_row(facts: EvaluationFacts, codes: Codes) -> tuple[dict[str, str], list[RowError]]:
    """The evaluation row (评价) and what in it the upstream would refuse. Reasons and answers
    without a code in the table are left out; the comment goes as stored (masked)."""
    problems = Problems()
    channel = DEFAULT_RATING if facts.default else facts.channel
    detail, _version = detail_codes(facts, codes)
    row = {
        "projectNo": facts.project_no,
        "assessNumber": str(facts.assess_number),
        "serviceNumber": str(facts.service_number),
        "pf": _code(codes, problems, "pf", channel),
        "satisfaction": _code(codes, problems, "satisfaction", str(facts.level)),
        "evalDetail": ",".join(dict.fromkeys(detail)),
        "writingEvaluation": facts.comment,
        "assessTime": format_time(facts.rated_at),
        "dataSource": facts.data_source,
    }
    # The platform refuses a bad rating that says neither what nor why (差评必须勾选详情或填写文字评价).
    if is_bad(facts.level) and not row["evalDetail"] and not row["writingEvaluation"].strip():
        problems.add("evalDetail", _("a bad rating needs content codes or a comment"))
    return row, problems.items


def case_step_row(facts: CaseStepFacts) -> dict[str, str]:
    if facts.step not in CASE_STEPS:
        raise RowError("handleStep", _("unknown step %(step)s") % {"step": facts.step})
    return {
        "projectNo": facts.project_no,
        "assessNumber": str(facts.assess_number),
        "serviceNumber": str(facts.service_number),
        "handleStep": facts.step,
        "handleTime": format_time(facts.at),
        "invalidType": facts.invalid_type,
        "revisitResult": "" if facts.satisfied is None else ("1" if facts.satisfied else "0"),
        "dataSource": facts.data_source,
    }


def checkpoint_row(entry: Mapping[str, Any], *, area_codes: Mapping[str, str], data_source: str) -> dict[str, Any]:
    """A signed checkpoint as it goes up: the entry exactly as the anchor log holds it (so that its
    signature still checks), the 12-digit area code of each region it counts, our system's code."""
    return {
        ROW_KIND: CHECKPOINT,
        "checkpointNumber": str(entry["number"]),
        "checkpoint": dict(entry),
        "areaCodes": {region: area_codes[region] for region in sorted(entry["regions"])},
        "dataSource": data_source,
    }


def is_checkpoint_row(row: Any) -> bool:
    return isinstance(row, Mapping) and row.get(ROW_KIND) == CHECKPOINT


def checkpoint_key(number: int | str) -> str:
    return f"checkpoint:{number}"


def service_key(project_no: str, service_number: int | str) -> str:
    return f"service:{project_no}:{service_number}"


def evaluation_key(project_no: str, assess_number: int | str) -> str:
    return f"evaluation:{project_no}:{assess_number}"


def replacement_key(project_no: str, assess_number: int | str) -> str:
    """Our key of an evaluation row that replaces the default sent under `evaluation_key` (the
    upstream's key stays projectNo + assessNumber)."""
    return f"{evaluation_key(project_no, assess_number)}:replacesDefault"


def replacing_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The evaluation row marked as replacing the default rating sent before under its key."""
    return {**row, REPLACES_DEFAULT: "1"}


def replaces_default(row: Any) -> bool:
    return isinstance(row, Mapping) and REPLACES_DEFAULT in row


def case_step_key(row: Mapping[str, str]) -> str:
    stamp = re.sub(r"\D", "", row["handleTime"])
    return f"case:{row['projectNo']}:{row['assessNumber']}:{row['handleStep']}:{stamp}"


def _code(codes: Codes, problems: Problems, fld: str, local: str) -> str:
    code = codes.code(fld, local)
    if code is None:
        problems.add(fld, _("no code for %(value)s") % {"value": local or "-"})
        return ""
    return code


# The reverse: rows from a lower system, back to our values (intake).


@dataclass(frozen=True)
class ParsedService:
    project_no: str
    service_number: int
    service_name: str
    service_time: dt.datetime
    accepted_at: dt.datetime | None
    completed_at: dt.datetime | None
    task_code: str
    task_name: str
    item_type: str | None
    area_code: str
    dept_code: str
    applicant_kind: str | None
    cert_key: str  # the applicant's ID number as its SM3 hash, or ""
    instant: bool | None
    mode: str | None
    data_source: str


@dataclass(frozen=True)
class ParsedEvaluation:
    project_no: str
    assess_number: int
    service_number: int
    channel: str | None  # None: the table's default-rating code
    default: bool
    level: int
    reasons: list[str]
    answers: dict[str, int]
    unknown_detail: list[str]
    detail: tuple[str, ...]  # the evalDetail codes as sent, for `read_detail`
    comment: str
    rated_at: dt.datetime
    data_source: str
    # The row replaces the default rating stored under its key (REPLACES_DEFAULT).
    replaces_default: bool = False


def _text(row: Mapping[str, Any], fld: str, *, required: bool = True, max_length: int = 200) -> str:
    value = row.get(fld)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowError(fld, _("required"))
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RowError(fld, _("must be text"))
    text = str(value).strip()
    if len(text) > max_length:
        raise RowError(fld, _("at most %(max)d characters") % {"max": max_length})
    return text


def _number(row: Mapping[str, Any], fld: str, high: int) -> int:
    text = _text(row, fld)
    number = whole_number(text)
    if number is None or not 1 <= number <= high:
        raise RowError(fld, _("a whole number from 1 to %(high)d") % {"high": high})
    return number


def _back(codes: Codes, row: Mapping[str, Any], fld: str, code_field: str | None = None) -> str:
    code = _text(row, fld)
    local = codes.local(code_field or fld, code)
    if local is None:
        raise RowError(fld, _("unknown code %(code)s") % {"code": code})
    return local


def parse_service_row(row: Mapping[str, Any], codes: Codes) -> ParsedService:
    """A service row as our facts; RowError names the first field that does not fit."""
    if not isinstance(row, Mapping):
        raise RowError("row", _("must be an object"))
    status = _text(row, "proStatus")
    if status not in {"1", PRO_STATUS_ACCEPTED, PRO_STATUS_DONE}:
        raise RowError("proStatus", _("1, 2 or 3"))
    accepted = parse_time(_text(row, "acceptDate"), "acceptDate") if status != "1" else None
    completed = parse_time(_text(row, "resultDate"), "resultDate") if status == PRO_STATUS_DONE else None
    area = _text(row, "areaCode")
    if not re.fullmatch(r"\d{12}", area):
        raise RowError("areaCode", _("12 digits"))
    task_code = _text(row, "taskHandleItem", required=False) or _text(row, "taskCode")
    promise = row.get("promisetime") or row.get("projectType")
    return ParsedService(
        project_no=_text(row, "projectNo", max_length=80),
        service_number=_number(row, "serviceNumber", MAX_SERVICE_NUMBER),
        service_name=_text(row, "serviceName", max_length=20),
        service_time=parse_time(_text(row, "serviceTime"), "serviceTime"),
        accepted_at=accepted,
        completed_at=completed,
        task_code=task_code,
        task_name=_text(row, "taskName"),
        item_type=codes.local("taskType", _text(row, "taskType", required=False)),
        area_code=area,
        dept_code=_text(row, "deptCode", max_length=40),
        applicant_kind=_back(codes, row, "userProp") if row.get("userProp") else None,
        cert_key=_cert_key(row),
        instant=None if not promise else codes.local("promisetime", str(promise)) == "instant",
        mode=codes.local("proChannel", str(row["proChannel"])) if row.get("proChannel") else None,
        data_source=_text(row, "dataSource", max_length=10),
    )


def _cert_key(row: Mapping[str, Any]) -> str:
    """certKey: the ID number's SM3 hash as 64 hexadecimal digits (`cert_key`), or none at all."""
    value = _text(row, "certKey", required=False, max_length=64) or _text(
        row, "certkeyGOV", required=False, max_length=64
    )
    if value and not re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raise RowError("certKey", _("the ID number's SM3 hash, 64 hexadecimal digits"))
    return value.lower()


def parse_evaluation_row(row: Mapping[str, Any], codes: Codes) -> ParsedEvaluation:
    """An evaluation row as our facts; RowError names the first field that does not fit."""
    if not isinstance(row, Mapping):
        raise RowError("row", _("must be an object"))
    channel = _back(codes, row, "pf")
    level_text = _back(codes, row, "satisfaction")
    level = whole_number(level_text) or 0
    if level not in LEVELS:
        raise RowError("satisfaction", _("unknown code %(code)s") % {"code": row.get("satisfaction")})
    detail = _text(row, "evalDetail", required=False, max_length=500)
    sent = tuple(filter(None, (c.strip() for c in detail.split(","))))
    reasons, answers, unknown = _options_of(sent, level, codes, Questionnaire(kinds=(), questions=(), reasons=()))
    comment = _text(row, "writingEvaluation", required=False, max_length=1000)
    if is_bad(level) and not detail and not comment:
        raise RowError("evalDetail", _("a bad rating needs content codes or a comment"))
    replacing = replaces_default(row)
    if replacing and str(row.get(REPLACES_DEFAULT)).strip() != "1":
        raise RowError(REPLACES_DEFAULT, _("1, or left out"))
    if replacing and channel == DEFAULT_RATING:
        # Only a paper form replaces a default (R2): where the table gives both one code (the
        # national preset's 5), the code reads back as paper here.
        if codes.code("pf", PAPER) != _text(row, "pf"):
            raise RowError("pf", _("a default rating replaces no default"))
        channel = PAPER
    return ParsedEvaluation(
        project_no=_text(row, "projectNo", max_length=80),
        assess_number=_number(row, "assessNumber", MAX_SERVICE_NUMBER),
        service_number=_number(row, "serviceNumber", MAX_SERVICE_NUMBER),
        channel=None if channel == DEFAULT_RATING else channel,
        default=channel == DEFAULT_RATING,
        level=level,
        reasons=reasons,
        answers=answers,
        unknown_detail=unknown,
        detail=sent,
        comment=comment,
        rated_at=parse_time(_text(row, "assessTime"), "assessTime"),
        data_source=_text(row, "dataSource", required=False, max_length=10),
        replaces_default=replacing,
    )


def _options_of(
    sent: Sequence[str], level: int, codes: Codes, questionnaire: Questionnaire
) -> tuple[list[str], dict[str, int], list[str]]:
    """evalDetail codes back to our options (R8, R9): the option of the questionnaire that carries
    the code (a question's answer is then the rating's level: the catalogue's content items are
    given per level), else the code table's `reason:<tag>` or `question:<key>:<answer>`; the codes
    neither knows are returned apart, never guessed."""
    by_code = {(o.code): (role, o.key) for (role, _key), o in questionnaire.known.items() if o.code}
    reasons: list[str] = []
    answers: dict[str, int] = {}
    unknown: list[str] = []
    for code in sent:
        if code in by_code:
            role, key = by_code[code]
            if role == REASON:
                reasons.append(key)
            else:
                answers[key] = level
            continue
        kind, _sep, rest = (codes.local("evalDetail", code) or "").partition(":")
        key, _sep, answer = rest.rpartition(":")
        if kind == REASON and rest:
            reasons.append(rest)
        elif kind == QUESTION and key and whole_number(answer) in LEVELS:
            answers[key] = int(answer)
        else:
            unknown.append(code)
    return list(dict.fromkeys(reasons)), answers, unknown


def read_detail(parsed: ParsedEvaluation, codes: Codes, questionnaire: Questionnaire) -> ParsedEvaluation:
    """The row's evalDetail codes read again with the questionnaire of what it rates (R8, R9), once
    the intake has found its service."""
    reasons, answers, unknown = _options_of(parsed.detail, parsed.level, codes, questionnaire)
    # An option not offered for what is rated counts as a code not known here: kept out, like one.
    offered, asked = questionnaire.reason_keys(), questionnaire.question_keys()
    unknown += [code for code in parsed.detail if _names_unoffered(code, codes, questionnaire, offered, asked)]
    return dataclasses.replace(
        parsed,
        reasons=[r for r in reasons if r in offered],
        answers={k: v for k, v in answers.items() if k in asked},
        unknown_detail=list(dict.fromkeys(unknown)),
    )


def _names_unoffered(
    code: str, codes: Codes, questionnaire: Questionnaire, offered: frozenset[str], asked: frozenset[str]
) -> bool:
    reasons, answers, _unknown = _options_of([code], 0, codes, questionnaire)
    return any(r not in offered for r in reasons) or any(k not in asked for k in answers)


@dataclass(frozen=True)
class ParsedCheckpoint:
    number: int
    entry: dict[str, Any]  # as signed: verifiable again at any time
    area_codes: dict[str, str]  # the sender's region id → 12-digit area code
    data_source: str


def parse_checkpoint_row(row: Mapping[str, Any], *, public_key: str) -> ParsedCheckpoint:
    """A lower system's checkpoint row, its signature checked with `public_key`: the key that system
    registered, never the one the row carries. RowError names the field that does not fit."""
    if not is_checkpoint_row(row):
        raise RowError(ROW_KIND, _("must be %(kind)s") % {"kind": CHECKPOINT})
    entry = row.get("checkpoint")
    if not isinstance(entry, Mapping):
        raise RowError("checkpoint", _("must be an object"))
    number = whole_number(_text(row, "checkpointNumber", max_length=20))
    if number is None or number < 1 or entry.get("number") != number:
        raise RowError("checkpointNumber", _("must be the checkpoint's number"))
    if not anchor_valid(dict(entry), public_key):
        raise RowError("checkpoint", _("the signature does not match the checkpoint"))
    codes = row.get("areaCodes")
    if not isinstance(codes, Mapping) or set(codes) != set(entry["regions"]):
        raise RowError("areaCodes", _("must give the area code of each region counted"))
    if not all(isinstance(code, str) and re.fullmatch(r"\d{12}", code) for code in codes.values()):
        raise RowError("areaCodes", _("12 digits"))
    return ParsedCheckpoint(
        number=number, entry=dict(entry), area_codes=dict(codes), data_source=_text(row, "dataSource", max_length=10)
    )


@dataclass(frozen=True)
class ParsedCaseStep:
    project_no: str
    assess_number: int
    service_number: int
    step: str  # one of CASE_STEPS
    at: dt.datetime
    invalid_type: str
    satisfied: bool | None
    data_source: str


INVALID_TYPES = ("mistaken", "malicious", "appeal")


def parse_case_step_row(row: Mapping[str, Any]) -> ParsedCaseStep:
    """A case-step row (docs/exchange.md) as our facts; RowError names the first field that does not fit."""
    if not isinstance(row, Mapping):
        raise RowError("row", _("must be an object"))
    step = _text(row, "handleStep", max_length=20)
    if step not in CASE_STEPS:
        raise RowError("handleStep", _("unknown step %(step)s") % {"step": step})
    invalid_type = _text(row, "invalidType", required=step == "invalidated", max_length=20)
    if step == "invalidated" and invalid_type not in INVALID_TYPES:
        raise RowError("invalidType", _("mistaken, malicious or appeal"))
    result = _text(row, "revisitResult", required=step == "revisited", max_length=1)
    if step == "revisited" and result not in {"0", "1"}:
        raise RowError("revisitResult", _("1 satisfied or 0 not satisfied"))
    return ParsedCaseStep(
        project_no=_text(row, "projectNo", max_length=80),
        assess_number=_number(row, "assessNumber", MAX_SERVICE_NUMBER),
        service_number=_number(row, "serviceNumber", MAX_SERVICE_NUMBER),
        step=step,
        at=parse_time(_text(row, "handleTime"), "handleTime"),
        invalid_type=invalid_type if step == "invalidated" else "",
        satisfied=(result == "1") if step == "revisited" else None,
        data_source=_text(row, "dataSource", required=False, max_length=10),
    )


def row_kind(row: Any) -> str:
    """Which row of the format `row` is, by its fields alone (one call may mix them, as the upload
    sends them): "checkpoint", "case_step", "evaluation", "service", or "" for none of them."""
    if not isinstance(row, Mapping):
        return ""
    if ROW_KIND in row:
        return "checkpoint" if is_checkpoint_row(row) else ""
    if "handleStep" in row:
        return "case_step"
    if "assessNumber" in row:
        return "evaluation"
    if "serviceNumber" in row and "proStatus" in row:
        return "service"
    return ""
