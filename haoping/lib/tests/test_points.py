from __future__ import annotations

from haoping.lib.points import points_between, signed_points


def test_a_change_that_rounds_to_nothing_is_zero_without_a_sign() -> None:
    # 0.9500 → 0.9496 is a fall of 0.04 points: one decimal shows no change, so no minus either.
    assert signed_points(points_between(0.9496, 0.95)) == "0.0"
    assert signed_points(points_between(0.9504, 0.95)) == "0.0"
    assert str(points_between(0.9496, 0.95)) == "0.0"


def test_real_changes_keep_their_sign() -> None:
    assert signed_points(points_between(0.90, 0.95)) == "-5.0"
    assert signed_points(points_between(0.975, 0.95)) == "+2.5"
