"""Directory lookups for record intake, cached per process until the directory changes.

A business system pushes every record, so the items, institutions, windows, staff and platforms
it names (and the rating window of each region's policy) are read once per process, not once per
record. Each request starts with `directory_lookups()`, which compares the directory's version
(haoping.directory.signals, kept in the shared cache) with the one the cached rows were read
under, and drops them when it changed. A batch looks up the codes it does not know yet in one
query per kind. The cached rows are shared between requests and never modified.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from django.db.models import Model

from haoping.directory.models import Institution, Platform, Region, ServiceItem, Staff, Window
from haoping.directory.selectors import policy_for_region
from haoping.directory.signals import directory_version

# What each kind is looked up by, and the related rows the rules read (regions, for access).
KINDS: dict[type[Model], tuple[str, tuple[str, ...]]] = {
    ServiceItem: ("code", ("department__region",)),
    Institution: ("code", ("region",)),
    Platform: ("code", ("region",)),
    Window: ("code", ("institution__region",)),
    Staff: ("staff_no", ("institution__region", "department__region")),
}
# A directory has tens of thousands of rows at most; codes that do not exist are remembered too,
# up to this many per kind, so that a client repeating a wrong code costs no query either.
MAX_ROWS = 200_000
_MISSING = object()


class DirectoryLookups:
    def __init__(self, version: str) -> None:
        self.version = version
        self.rows: dict[type[Model], dict[str, Any]] = {model: {} for model in KINDS}
        self.window_days: dict[int, int] = {}

    def load(self, model: type[Model], codes: Iterable[str | None]) -> dict[str, Any]:
        """Read the rows of `codes` not known yet, in one query; the rows of `codes` found."""
        known = self.rows[model]
        asked = {code for code in codes if code}
        missing = {code for code in asked if code not in known}
        if not missing:
            return {code: known.get(code) for code in asked}
        if len(known) + len(missing) > MAX_ROWS:
            known.clear()
        key, related = KINDS[model]
        rows = model._default_manager.select_related(*related).filter(**{f"{key}__in": missing})
        found = {getattr(obj, key): obj for obj in rows}
        for code in missing:
            known[code] = found.get(code)
        return {code: found.get(code) if code in missing else known.get(code) for code in asked}

    def get(self, model: type[Model], code: str | None) -> Any:
        """The row with this code, or None if there is none."""
        if not code:
            return None
        known = self.rows[model]
        if code in known:
            # Another thread may clear the table between the test and the read: read it again then.
            obj = known.get(code, _MISSING)
            if obj is not _MISSING:
                return obj
        return self.load(model, [code]).get(code)

    def rating_window_days(self, region: Region) -> int:
        """R2: the rating window of the region's policy in force now."""
        days = self.window_days.get(region.pk)
        if days is None:
            days = self.window_days[region.pk] = policy_for_region(region).rating_window_days
        return days


_lock = threading.Lock()
_current: DirectoryLookups | None = None


def directory_lookups() -> DirectoryLookups:
    """This process's lookups for the directory as it is now."""
    global _current
    version = directory_version()
    current = _current
    if current is None or current.version != version:
        with _lock:
            if _current is None or _current.version != version:
                _current = DirectoryLookups(version)
            current = _current
    return current
