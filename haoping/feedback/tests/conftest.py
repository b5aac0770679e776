"""The indicator tests' hand-computed district, published."""

from __future__ import annotations

from haoping.indicators.tests.conftest import district

__all__ = ["district"]
