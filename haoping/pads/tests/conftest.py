from __future__ import annotations

import pytest

from haoping.pads.push import pad_windows_forget


@pytest.fixture(autouse=True)
def _pad_windows_read_afresh() -> None:
    pad_windows_forget()
