from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from django.db.models import Count, Max
from django.utils import timezone

from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation, QuestionnaireSet
from haoping.evaluations.questionnaire_defaults import DEFAULT_SETS
from haoping.records.models import RatingSlot


class SlotState(StrEnum):
    OPEN = "open"
    RATED = "rated"
    CLOSED = "closed"
    NOT_READY = "not_ready"  # a theme none of whose records is completed yet


def slot_state(slot: RatingSlot, now: dt.datetime | None = None) -> SlotState:
    """Where a ratable service stands for its rating page; R2 and R3 decide by `rules.window_closed`."""
    now = now or timezone.now()
    if slot.kind == RatingSlot.Kind.THEME:
        linked = RatingSlot.objects.filter(kind=RatingSlot.Kind.COMPLETION, record__bundle=slot.bundle)
        # R6: a theme is open while any linked record not rated on its own is.
        unrated = list(linked.filter(evaluations__isnull=True).only("opens_at", "closes_at"))
        if not unrated:
            return SlotState.RATED if linked.exists() else SlotState.NOT_READY
        return SlotState.CLOSED if all(rules.window_closed(s, now) for s in unrated) else SlotState.OPEN
    if slot.evaluations.exists():
        return SlotState.RATED
    return SlotState.CLOSED if rules.window_closed(slot, now) else SlotState.OPEN


def submission_for_receipt(*, slot: RatingSlot, receipt: str) -> list[Evaluation]:
    """The active rating(s) given with this receipt on this service; empty for a wrong receipt."""
    active = Evaluation.objects.filter(source=Evaluation.Source.ACTIVE, receipt=receipt)
    rows = active.filter(bundle=slot.bundle) if slot.kind == RatingSlot.Kind.THEME else active.filter(slot=slot)
    first = rows.first()
    if first is None:
        return []
    return list(active.filter(region_id=first.region_id).select_related("record__item").order_by("id"))


# R8, R9: the questionnaire sets, cached per process. A rating's questionnaire costs no query: the
# sets are read once (two queries) and merged per region and kinds on first use; every
# REFRESH_SECONDS, one small query tells whether any set changed since (in another process too),
# and the admin clears this process's copy as soon as it saves (`questionnaire_cache_clear`).
REFRESH_SECONDS = 5.0
_OptionRow = tuple[str, str, str, bool, str]  # role, key, label, active, code


@dataclass(frozen=True)
class _SetData:
    version: str
    options: tuple[_OptionRow, ...]  # in order


@dataclass
class _Snapshot:
    stamp: tuple[Any, ...]
    checked_at: float
    sets: dict[tuple[str, str], _SetData]  # (region path, "" for the default; kind)
    merged: dict[tuple[str, tuple[str, ...]], rules.Questionnaire] = field(default_factory=dict)


_snapshot: _Snapshot | None = None
_lock = threading.Lock()


def questionnaire_cache_clear() -> None:
    """Forget this process's sets (the admin calls it when it saves one; tests between cases)."""
    global _snapshot
    _snapshot = None


def _stamp() -> tuple[Any, ...]:
    found = QuestionnaireSet.objects.aggregate(count=Count("id"), last=Max("updated_at"))
    return (found["count"], found["last"])


def _load(stamp: tuple[Any, ...]) -> _Snapshot:
    sets: dict[tuple[str, str], _SetData] = {}
    for qs in QuestionnaireSet.objects.select_related("region").prefetch_related("options"):
        options = sorted(qs.options.all(), key=lambda o: (o.order, o.pk))
        rows = tuple((o.role, o.key, o.label, o.active, o.eval_detail_code) for o in options)
        sets[(qs.region.path if qs.region else "", qs.kind)] = _SetData(qs.catalogue_version, rows)
    # A kind with no default row at all (a database emptied between tests) asks the built-in one.
    for kind, defaults in DEFAULT_SETS.items():
        rows = tuple((role, key, label, True, "") for role, key, label in defaults)
        sets.setdefault(("", kind), _SetData("", rows))
    return _Snapshot(stamp=stamp, checked_at=time.monotonic(), sets=sets)


def _current() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    if snap is not None and time.monotonic() - snap.checked_at < REFRESH_SECONDS:
        return snap
    with _lock:
        snap = _snapshot
        if snap is not None and time.monotonic() - snap.checked_at < REFRESH_SECONDS:
            return snap
        stamp = _stamp()
        if snap is not None and snap.stamp == stamp:
            snap.checked_at = time.monotonic()
        else:
            snap = _snapshot = _load(stamp)
        return snap


def _nearest(sets: dict[tuple[str, str], _SetData], region_path: str, kind: str) -> _SetData:
    """The region's own set of `kind`, else its nearest ancestor's, else the default."""
    parts = [p for p in region_path.split("/") if p]
    for depth in range(len(parts), 0, -1):
        found = sets.get(("/" + "/".join(parts[:depth]) + "/", kind))
        if found is not None:
            return found
    return sets[("", kind)]


def _merge(sets: dict[tuple[str, str], _SetData], region_path: str, kinds: tuple[str, ...]) -> rules.Questionnaire:
    offered: dict[str, dict[str, rules.Option]] = {rules.QUESTION: {}, rules.REASON: {}}
    known: dict[tuple[str, str], rules.Option] = {}
    for kind in kinds:
        data = _nearest(sets, region_path, kind)
        for role, key, label, active, code in data.options:
            option = rules.Option(key=key, label=label, kind=kind, code=code, version=data.version if code else "")
            known.setdefault((role, key), option)
            if active and role in offered:
                offered[role].setdefault(key, known[(role, key)])
    # The catch-all tag (其他) stays last, after the tags the later sets add, where people look for it.
    reasons = sorted(offered[rules.REASON].values(), key=lambda o: o.key == rules.OTHER_REASON)
    return rules.Questionnaire(
        kinds=kinds,
        questions=tuple(offered[rules.QUESTION].values()),
        reasons=tuple(reasons),
        known=MappingProxyType(known),
    )


def questionnaire_for(region_path: str, kinds: tuple[str, ...]) -> rules.Questionnaire:
    """R8, R9: the questionnaire a rating in the region at `region_path` is asked, for the kinds
    of object it rates (`rules.questionnaire_kinds`); from the process's cache, no query."""
    snap = _current()
    found = snap.merged.get((region_path, kinds))
    if found is None:
        found = snap.merged[(region_path, kinds)] = _merge(snap.sets, region_path, kinds)
    return found


def rated_kinds(rated: Mapping[str, Any]) -> tuple[str, ...]:
    """R9 over an evaluation's (or a slot's `rated_ids`) ids of what it rates."""
    return rules.questionnaire_kinds(
        institution=rated.get("institution_id") is not None,
        platform=rated.get("platform_id") is not None,
        window=rated.get("window_id") is not None,
        staff=rated.get("staff_id") is not None,
    )


def questionnaire_of_evaluation(ev: Evaluation, region_path: str) -> rules.Questionnaire:
    """The questionnaire a stored rating was (or would now be) asked: its keys' labels and codes."""
    return questionnaire_for(region_path, rated_kinds(vars(ev)))


def option_labels(role: str) -> dict[str, str]:
    """Every key of `role` any set knows (offered or retired, any region) → its label, for showing
    stored ratings where the region or object is not at hand; the default's label first."""
    snap = _current()
    labels: dict[str, str] = {}
    for _where, data in sorted(snap.sets.items(), key=lambda item: item[0]):
        for r, key, label, _active, _code in data.options:
            if r == role:
                labels.setdefault(key, label)
    return labels


def hall_questionnaire(region_path: str) -> rules.Questionnaire:
    """R9 with R11: a rating of a hall's overall management is asked what its unit and its on-site
    service are (no window, staff member or platform is rated)."""
    return questionnaire_for(region_path, (rules.INSTITUTION, rules.ONSITE))


def questionnaire_choices(questionnaire: rules.Questionnaire) -> dict[str, list[tuple[str, str]]]:
    """A questionnaire as a page's choices: (key, Chinese label) of its questions and reason tags."""
    return {
        "questions": [(o.key, o.label) for o in questionnaire.questions],
        "reasons": [(o.key, o.label) for o in questionnaire.reasons],
    }


def hall_service_questionnaire(region_path: str) -> rules.Questionnaire:
    """R9: what a service in a hall, at a window, is asked (its unit, its staff member, on-site
    service): a paper form, printed for a hall's services before anyone knows which, offers these;
    each form keyed in is then held to its own service's questionnaire."""
    return questionnaire_for(region_path, (rules.INSTITUTION, rules.STAFF, rules.ONSITE))


def reason_labels_of(ev: Evaluation, region_path: str) -> list[str]:
    """A stored rating's reason tags by their labels: its own questionnaire's (retired options too),
    else any set's, else the key itself, so that old ratings still read."""
    questionnaire = questionnaire_of_evaluation(ev, region_path)
    anywhere: dict[str, str] | None = None
    labels = []
    for key in ev.reasons or []:
        option = questionnaire.option(rules.REASON, key)
        if option is None:
            anywhere = anywhere if anywhere is not None else option_labels(rules.REASON)
            labels.append(anywhere.get(key, key))
        else:
            labels.append(option.label)
    return labels
