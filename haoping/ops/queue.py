"""huey's SQLite queue, with locks that expire as they do on Redis.

huey's SQLite storage refuses a lock's time to live; without one, a lock held by a consumer that
was killed mid-task is never released. Here a lock with a time to live keeps its expiry as its
value, and taking it replaces an expired one in the same transaction.
"""

from __future__ import annotations

import time
from typing import Any

from huey import SqliteHuey
from huey.storage import SqliteStorage


class ExpiringLockSqliteStorage(SqliteStorage):  # type: ignore[misc]
    def put_if_empty(self, key: str, value: Any, ttl: float | None = None) -> bool:
        if ttl is None:
            return bool(super().put_if_empty(key, value))
        now = time.time()
        with self.db(commit=True) as cursor:  # `begin exclusive`: no other taker in between
            cursor.execute(
                "delete from kv where queue = ? and key = ? and cast(value as real) <= ?", (self.name, key, now)
            )
            cursor.execute(
                "insert or ignore into kv (queue, key, value) values (?, ?, ?)",
                (self.name, key, self.to_blob(repr(now + ttl).encode())),
            )
            return bool(cursor.rowcount == 1)


class ExpiringLockSqliteHuey(SqliteHuey):  # type: ignore[misc]
    storage_class = ExpiringLockSqliteStorage
