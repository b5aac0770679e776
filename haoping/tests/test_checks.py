"""The project's system checks speak Chinese, as everything a user reads."""

from __future__ import annotations

from typing import Any

from haoping.checks import master_key_set


def test_missing_master_key_is_reported_in_chinese(settings: Any) -> None:
    settings.HAOPING_MASTER_KEY = ""
    (warning,) = master_key_set(None)
    assert warning.id == "haoping.W001"
    assert str(warning.msg).startswith("未设置 HAOPING_MASTER_KEY")
    assert "64 位十六进制数" in str(warning.hint)


def test_a_set_master_key_is_not_reported(settings: Any) -> None:
    settings.HAOPING_MASTER_KEY = "ab" * 32
    assert master_key_set(None) == []
