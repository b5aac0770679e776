"""R12/R14 deadlines, by the rules a region follows. Computed when a step starts and stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

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

    def for_category(self, category: str) -> Span | None:
        """How long the handling step of a category may take; None where no deadline applies."""
        return {"simple": self.simple, "general": self.general, "complex": self.complex}.get(category)

    def handling(self, category: str) -> Span:
        """The handling step's time for a category; explaining, and asking to invalidate, take no
        longer than a general case."""
        return self.for_category(category) or self.general

    def step(self, state: str, category: str) -> Span | None:
        """The span the step a case is in is counted by: contact, then handling (None when nothing is due)."""
        if state in ("open", "contacted"):
            return self.contact
        if state in ("handling", "extension_requested", "invalidation_requested"):
            return self.handling(category)
        return None


# "Simple: solve at once" is read as: by the end of the day it was classified.
AT_ONCE = Span(0, "days")

PRESETS: dict[str, Rules] = {
    # 51号 and GB/T 39735 do not fix the units; the national default reads the days as working days.
    "default": Rules(Span(48, "hours"), AT_ONCE, Span(5, "workdays"), Span(15, "workdays")),
    # Ezhou rules 15: 48 小时内回访核实; 5 个自然日; 15 个自然日.
    "ezhou_rules": Rules(Span(48, "hours"), AT_ONCE, Span(5, "days"), Span(15, "days")),
    # Ezhou plan 二(三)2: 1 个工作日内联系; 5 个工作日; 15 个工作日.
    "ezhou_plan": Rules(Span(1, "workdays"), AT_ONCE, Span(5, "workdays"), Span(15, "workdays")),
    # Siping 8.1: 48h 内回访核实; 15d 内整改.
    "siping": Rules(Span(48, "hours"), AT_ONCE, Span(15, "days"), Span(15, "days")),
}

# R14 (Siping 9.2, 9.3): an appeal within 2 working days of receiving the bad review; decided within 5.
APPEAL_FILE = Span(2, "workdays")
APPEAL_DECIDE = Span(5, "workdays")
# An extension adds at most this many days, in the unit of the step it extends.
MAX_EXTENSION_DAYS = 30


def rules_for(name: str) -> Rules:
    return PRESETS.get(name, PRESETS["default"])
