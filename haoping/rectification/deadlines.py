"""R12/R14 deadlines, by the rules a region follows. Computed when a step starts and stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from haoping.workdays.selectors import Due, add_days, add_hours, add_workdays

Unit = Literal["hours", "days", "workdays"]


@dataclass(frozen=True)
class Span:
    amount: int
    unit: Unit

    def after(self, start: dt.datetime) -> Due:
        if self.unit == "hours":
            return add_hours(start, self.amount)
        if self.unit == "days":
            return add_days(start, self.amount)
        return add_workdays(start, self.amount)


@dataclass(frozen=True)
class Rules:
    contact: Span
    simple: Span
    general: Span
    complex: Span
    # Classifying, once the evaluator has been contacted; None where the rules give contact and
    # classification one deadline (the contact deadline then keeps running until the case is classified).
    classify: Span | None

    def for_category(self, category: str) -> Span | None:
        """How long the handling step of a category may take; None where no deadline applies."""
        return {"simple": self.simple, "general": self.general, "complex": self.complex}.get(category)

    def handling(self, category: str) -> Span:
        """The handling step's time for a category; explaining, and asking to invalidate, take no
        longer than a general case."""
        return self.for_category(category) or self.general

    def step(self, state: str, category: str) -> Span | None:
        """The span the step a case is in is counted by (step_of): contact, classification (the
        contact's where the rules bundle them), then handling; None when nothing is due."""
        step = step_of(state)
        if step == CONTACT:
            return self.contact
        if step == CLASSIFY:
            return self.classify or self.contact
        if step == HANDLING:
            return self.handling(category)
        return None


# "Simple: solve at once" is read as: by the end of the day it was classified.
AT_ONCE = Span(0, "days")

# The sources time the contact (回访核实) and the rectification with its answer (整改反馈), not the
# classification between them: it is read as a step of its own, one working day (24 clock hours
# where the rules count natural time) after the contact, so that a case contacted on time is not
# made late by the contact deadline.
CLASSIFY_WORKDAY = Span(1, "workdays")
CLASSIFY_DAY = Span(24, "hours")

PRESETS: dict[str, Rules] = {
    # 51号 and GB/T 39735 do not fix the units; the national default reads the days as working days.
    "default": Rules(Span(48, "hours"), AT_ONCE, Span(5, "workdays"), Span(15, "workdays"), CLASSIFY_WORKDAY),
    # Ezhou rules 15: 48 小时内回访核实; 5 个自然日; 15 个自然日.
    "ezhou_rules": Rules(Span(48, "hours"), AT_ONCE, Span(5, "days"), Span(15, "days"), CLASSIFY_DAY),
    # Ezhou plan 二(三)2: 1 个工作日内联系; 5 个工作日; 15 个工作日.
    "ezhou_plan": Rules(Span(1, "workdays"), AT_ONCE, Span(5, "workdays"), Span(15, "workdays"), CLASSIFY_WORKDAY),
    # Siping 8.1: 48h 内回访核实; 15d 内整改.
    "siping": Rules(Span(48, "hours"), AT_ONCE, Span(15, "days"), Span(15, "days"), CLASSIFY_DAY),
}

# R14 (Siping 9.2, 9.3): an appeal within 2 working days of receiving the bad review; decided within 5.
APPEAL_FILE = Span(2, "workdays")
APPEAL_DECIDE = Span(5, "workdays")
# An extension adds at most this many days, in the unit of the step it extends.
MAX_EXTENSION_DAYS = 30


# A case a lower-level system works and reports (haoping.exchange.intake): no deadline rules apply
# here, nobody here acts on it, it is only counted.
IMPORTED_RULES = "imported"


def rules_for(name: str) -> Rules:
    return PRESETS.get(name, PRESETS["default"])


# R12: the timed steps of a case. Each deadline is stored on the case when its step starts; the
# states in which a step runs, and what its deadline covers, are named here once.
CONTACT, CLASSIFY, HANDLING = "contact", "classify", "handling"
STEP_STATES: dict[str, frozenset[str]] = {
    CONTACT: frozenset({"open"}),
    CLASSIFY: frozenset({"contacted"}),
    # Waiting for a manager's decision does not stop the handling time (an approved extension moves it).
    HANDLING: frozenset({"handling", "extension_requested", "invalidation_requested", "resolved"}),
}
STEP_NAMES: dict[str, Promise] = {
    CONTACT: _("contact and verification"),
    CLASSIFY: _("classification"),
    # 整改反馈: one deadline for the rectification (or explanation) and the answer to the evaluator.
    HANDLING: _("rectification and answer"),
}
# The steps that share the handling deadline, as the sources bundle them (整改反馈).
HANDLING_COVERS: tuple[Promise, ...] = (_("rectification or explanation"), _("answer to the evaluator"))


def step_of(state: str) -> str | None:
    """The timed step a case in this state is in; None when nothing is due (awaiting the revisit, closed)."""
    return next((step for step, states in STEP_STATES.items() if state in states), None)
