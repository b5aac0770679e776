"""The directory's version: every change to the directory gives it a new one, so that lookups
cached by any process (haoping.records.lookups) are dropped at that process's next request.

The version lives in Django's cache when that is shared by every process (Redis, with
`REDIS_URL`); otherwise (each process's own memory) in a file under `VAR_DIR`, which every process
of the host sees. A change made through a model's save or delete is caught by the signals below;
the directory import writes in bulk, which sends no signals, and calls `directory_changed()` itself.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

VERSION_KEY = "directory:version"
PER_PROCESS_CACHES = ("LocMemCache", "DummyCache")


def _shared_cache() -> bool:
    return not settings.CACHES["default"]["BACKEND"].endswith(PER_PROCESS_CACHES)


def _version_file() -> Path:
    return Path(settings.VAR_DIR) / "directory-version"


def directory_version() -> str:
    """The directory's current version; a fresh one if the cache lost it (a restarted cache)."""
    if not _shared_cache():
        try:
            found = os.stat(_version_file())
        except FileNotFoundError:
            return "none"
        return f"{found.st_ino}:{found.st_mtime_ns}"
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return str(version)


def _bump() -> None:
    if not _shared_cache():
        # A new file in place of the old: a new inode, so a version read before never comes back.
        path = _version_file()
        fresh = path.with_name(f"{path.name}.{uuid.uuid4().hex}")
        fresh.write_text(uuid.uuid4().hex)
        os.replace(fresh, path)
        return
    # A random token rather than a counter: a cache that lost the key never hands out an old
    # version again.
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def directory_changed() -> None:
    """The directory changed: a new version now, and again once the change is committed, so that
    no process keeps what it read between the two (the uncommitted rows) as the new version."""
    _bump()
    transaction.on_commit(_bump)


def _changed(sender: Any, **kwargs: Any) -> None:
    directory_changed()


def connect() -> None:
    from haoping.directory.models import (
        Department,
        Institution,
        Platform,
        Region,
        RegionPolicy,
        ServiceItem,
        Staff,
        Window,
    )

    for model in (Region, RegionPolicy, Department, Institution, Window, Platform, ServiceItem, Staff):
        uid = f"directory-version-{model.__name__}"
        post_save.connect(_changed, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=uid + "-delete")
