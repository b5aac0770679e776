"""Historical ratings of the demo's ratable services, as unsaved evaluation rows.

`evaluation_submit` rates at the current time only, so history is built with `evaluation_build`
under the same rules: one evaluation per slot (R4), one rating for a whole batch (R5), a theme's
overall rating on each linked record (R6), rated by the agent or the applicant (R7), within the
slot's window (R2, R3). Recent slots stay unrated so that people can try the rating page.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from haoping.demo.catalog import (
    AGENT_GOOD_COMMENTS,
    BAD_COMMENTS,
    GOOD_COMMENTS,
    MIDDLE_COMMENTS,
    ONLINE_GOOD_COMMENTS,
    ONLINE_REASONS,
    ONSITE_REASONS,
    SUGGESTIONS,
    THEME_GOOD_COMMENTS,
    ItemSpec,
)
from haoping.directory.models import Platform
from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.evaluations.questionnaire_defaults import DEFAULT_SETS
from haoping.evaluations.services import evaluation_build, new_receipt
from haoping.records.models import Bundle, RatingSlot, ServiceRecord

KEEP_OPEN = dt.timedelta(days=3)
BAD_SHARE = 0.015
# A small demo still gets enough bad reviews to show a case in every state and every way of closing
# one, as long as they stay a tenth of its ratings at most.
MIN_BAD = 16
THEME_OVERALL_SHARE = 0.7
HOT_STAFF = 2  # staff members whose services draw more bad reviews, for the rankings to find

# Channel weights by where the rating happens; overall close to pad 35, QR 20, mobile 20, PC 10…
CHANNELS: dict[str, dict[str, float]] = {
    "window": {"pad": 46, "qrcode": 24, "mobile": 12, "sms": 8, "phone": 3, "paper": 3},
    "mixed": {"pad": 25, "qrcode": 15, "mobile": 25, "pc": 20, "sms": 10, "phone": 5},
    "web": {"pc": 80, "mobile": 4, "sms": 12, "phone": 4},
    "mobile": {"mobile": 88, "sms": 8, "phone": 4},
    "kiosk": {"kiosk": 92, "qrcode": 8},
    "hotline": {"phone": 90, "sms": 10},
    "theme": {"pad": 50, "qrcode": 20, "mobile": 20, "sms": 10},
}
UNRATED = {"window": 0.10, "mixed": 0.15, "web": 0.25, "mobile": 0.18, "kiosk": 0.2, "hotline": 0.3, "theme": 0.1}
# Minutes from the service to the rating, by channel (low, high).
DELAY_MINUTES: dict[str, tuple[float, float]] = {
    "pad": (0.3, 5),
    "kiosk": (0.3, 3),
    "paper": (1, 15),
    "qrcode": (1, 90),
    "mobile": (5, 2 * 1440),
    "pc": (5, 1440),
    "sms": (30, 4 * 1440),
    "phone": (1440, 6 * 1440),
}
SCREEN = {"pc", "mobile", "qrcode"}
# R8, R9: the questions every rating is asked (the handling unit's, in the default sets).
INSTITUTION_QUESTIONS = tuple(key for role, key, _label in DEFAULT_SETS[rules.INSTITUTION] if role == rules.QUESTION)


@dataclass
class Group:
    """Slots rated by one submission."""

    slots: list[RatingSlot]
    context: str
    theme: bool = False
    level: int = 0
    channel: str = ""
    rated_at: dt.datetime | None = None

    @property
    def record(self) -> ServiceRecord:
        record = self.slots[0].record
        assert record is not None
        return record


class Rater:
    def __init__(self, rng: random.Random, now: dt.datetime, specs: dict[str, ItemSpec]) -> None:
        self.rng = rng
        self.now = now
        self.specs = specs  # item code → spec
        self.hot_staff: set[int] = set()
        self.bundle_kinds = dict(Bundle.objects.values_list("pk", "kind"))
        self.platform_kinds = dict(Platform.objects.values_list("pk", "kind"))

    def evaluations(self, slots: list[RatingSlot]) -> list[Evaluation]:
        staff = sorted({s.record.staff_id for s in slots if s.record and s.record.staff_id})
        self.hot_staff = set(self.rng.sample(staff, min(HOT_STAFF, len(staff))))
        groups = [g for g in self._groups(slots) if self._decide(g)]
        self._make_bad(groups)
        rows = [row for g in groups for row in self._rows(g)]
        rows.sort(key=lambda ev: ev.rated_at)
        return rows

    # --- who is rated together ----------------------------------------------------------

    def _groups(self, slots: list[RatingSlot]) -> list[Group]:
        groups: list[Group] = []
        batches: dict[tuple[int, str, int | None, dt.date], list[RatingSlot]] = defaultdict(list)
        themes: dict[int, list[RatingSlot]] = defaultdict(list)
        for slot in slots:
            record = slot.record
            assert record is not None
            bundle_kind = self.bundle_kinds.get(record.bundle_id or 0)
            if record.bundle_id and bundle_kind == Bundle.Kind.BATCH:
                # R5: one rating per batch, per window visit day for visits.
                window = slot.visit.window_id if slot.visit else None
                day = timezone.localtime(slot.opens_at).date()
                batches[(record.bundle_id, slot.kind, window, day)].append(slot)
            elif record.bundle_id and slot.kind == RatingSlot.Kind.COMPLETION:
                themes[record.bundle_id].append(slot)
            else:
                groups.append(Group([slot], self._context(slot)))
        groups += [Group(members, self._context(members[0])) for members in batches.values()]
        for members in themes.values():
            groups += self._theme_groups(members)
        return groups

    def _theme_groups(self, members: list[RatingSlot]) -> list[Group]:
        """R6: mostly one overall rating for every linked record open then, else each on its own."""
        if self.rng.random() < THEME_OVERALL_SHARE:
            channel = self._pick(CHANNELS["theme"])
            at = max(s.opens_at for s in members) + self._delay(channel)
            linked = [s for s in members if s.opens_at <= at <= s.closes_at]  # type: ignore[operator]
            rest = [s for s in members if s not in linked]
            groups = [Group([s], self._context(s)) for s in rest]
            if linked:
                groups.append(Group(linked, "theme", theme=True, channel=channel, rated_at=at))
            return groups
        return [Group([s], self._context(s)) for s in members]

    def _context(self, slot: RatingSlot) -> str:
        record = slot.record
        assert record is not None
        if slot.kind == RatingSlot.Kind.VISIT or record.mode == ServiceRecord.Mode.ONSITE:
            return "window"
        if record.mode == ServiceRecord.Mode.MIXED:
            return "mixed"
        return self.platform_kinds.get(record.platform_id or 0, "web")

    # --- whether, when, how -------------------------------------------------------------

    def _decide(self, group: Group) -> bool:
        opens = max(s.opens_at for s in group.slots)
        closes = min(s.closes_at for s in group.slots if s.closes_at is not None)
        if opens > self.now - KEEP_OPEN:
            return False  # left open for people to try
        if self.rng.random() < UNRATED[group.context]:
            return False  # R2: becomes a default rating when its window closes
        if not group.channel:
            group.channel = self._pick(CHANNELS[group.context])
            group.rated_at = opens + self._delay(group.channel)
        assert group.rated_at is not None
        group.rated_at = min(group.rated_at, closes - dt.timedelta(minutes=1), self.now - dt.timedelta(minutes=1))
        group.level = self._level(group)
        return group.rated_at >= opens

    def _delay(self, channel: str) -> dt.timedelta:
        low, high = DELAY_MINUTES[channel]
        # Most people rate soon after the service; a long tail rates days later.
        return dt.timedelta(minutes=low + (high - low) * self.rng.random() ** 3)

    def _level(self, group: Group) -> int:
        middle = 0.04 * self._hot(group)
        r = self.rng.random()
        return 3 if r < middle else 4 if r < middle + 0.14 else 5

    def _hot(self, group: Group) -> float:
        record = group.record
        spec = self.specs.get(record.item.code)
        staff = 5.0 if record.staff_id in self.hot_staff else 1.0
        return (spec.hot if spec else 1.0) * staff

    def _make_bad(self, groups: list[Group]) -> None:
        """About 1.5% bad reviews (R1), drawn where hot items and hot staff make them likelier."""
        floor = min(MIN_BAD, len(groups) // 10)
        count = min(len(groups), max(2, floor, round(len(groups) * BAD_SHARE)))
        keyed = sorted(groups, key=lambda g: self.rng.random() ** (1 / self._hot(g)), reverse=True)
        for group in keyed[:count]:
            group.level = 2 if self.rng.random() < 0.7 else 1

    def _pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), list(weights.values()))[0]

    # --- the rows -----------------------------------------------------------------------

    def _rows(self, group: Group) -> list[Evaluation]:
        assert group.rated_at is not None
        reasons, comment = self._words(group)
        record = group.record
        rated_by = "agent" if record.agent_id and self.rng.random() < 0.6 else "applicant"
        created_at = group.rated_at
        if group.channel == "paper":  # forms are keyed in a day or so later
            created_at = min(self.now, created_at + dt.timedelta(hours=self.rng.uniform(4, 48)))
        receipt = new_receipt()  # R5, R6: one receipt for every row of the submission
        answers = self._answers(group)
        return [
            evaluation_build(
                slot,
                level=group.level,
                source=Evaluation.Source.ACTIVE,
                channel=group.channel,
                rated_by=rated_by,
                rated_at=group.rated_at,
                created_at=created_at,
                answers=answers,
                reasons=reasons,
                comment=comment,
                receipt=receipt,
                client_ref="",
            )
            for slot in group.slots
        ]

    def _words(self, group: Group) -> tuple[list[str], str]:
        if rules.is_bad(group.level):
            pool = ONLINE_REASONS if group.context in ("web", "mobile", "kiosk") else ONSITE_REASONS
            reasons = self.rng.sample(pool, self.rng.choice((1, 1, 2)))
            # R8: screens require a reason; most bad reviewers also say what happened.
            comment = self.rng.choice(BAD_COMMENTS[reasons[0]]) if self.rng.random() < 0.9 else ""
            return reasons, comment
        if group.level == 3:
            return [], self.rng.choice(MIDDLE_COMMENTS) if self.rng.random() < 0.3 else ""
        if self.rng.random() < 0.08:
            return [], self.rng.choice(self._praise(group))
        return [], ""

    def _praise(self, group: Group) -> tuple[str, ...]:
        if group.theme:
            return THEME_GOOD_COMMENTS
        if group.record.agent_id:
            return AGENT_GOOD_COMMENTS
        if group.context in ("web", "mobile"):
            return ONLINE_GOOD_COMMENTS
        return GOOD_COMMENTS

    def _answers(self, group: Group) -> dict[str, object]:
        """R8: some online raters fill in the questionnaire."""
        if group.channel not in SCREEN or self.rng.random() >= 0.3:
            return {}
        answers: dict[str, object] = {
            key: max(1, min(5, group.level + self.rng.choice((-1, 0, 0, 0, 1)))) for key in INSTITUTION_QUESTIONS
        }
        if self.rng.random() < 0.2:
            answers["suggestion"] = self.rng.choice(SUGGESTIONS)
        return answers
