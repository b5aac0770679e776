"""Changes of a rate between two periods, in percentage points, as the dashboards and reports show them."""

from __future__ import annotations


def points_between(value: float, previous: float) -> float:
    """Percentage points from `previous` to `value` (both fractions), to one decimal.

    A change that rounds to nothing is 0.0, never -0.0: a fall of 0.04 points is no fall on paper.
    """
    return round((value - previous) * 100, 1) + 0.0


def signed_points(points: float) -> str:
    """'+1.2', '-1.2', or '0.0' when the change rounds to nothing."""
    text = f"{points:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text
