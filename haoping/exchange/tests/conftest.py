from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps


@pytest.fixture(autouse=True)
def presets(db: Any) -> None:
    """The code-table presets, as their data migration loads them: a transactional test elsewhere
    empties the tables after the migrations ran."""
    migration = importlib.import_module("haoping.exchange.migrations.0002_code_table_presets")
    migration.load(apps, None)
