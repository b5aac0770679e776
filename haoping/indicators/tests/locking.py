"""How long the current thread's connection keeps each transaction open.

On SQLite (IMMEDIATE mode) a transaction holds the database's one write lock from BEGIN to COMMIT;
on PostgreSQL it holds its row locks as long. Every atomic block is timed from its first statement
(on SQLite, from the moment BEGIN has the lock; on PostgreSQL, from leaving autocommit, even for
statements sent past Django's cursor) to its commit or rollback, and every write statement run
outside one counts as a transaction of its own (a read alone takes no lock).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection


@dataclass
class Transactions:
    durations: list[float] = field(default_factory=list)
    _started: float | None = None

    @property
    def longest_ms(self) -> float:
        return max(self.durations, default=0.0) * 1000

    def _end(self) -> None:
        if self._started is not None:
            self.durations.append(time.perf_counter() - self._started)
            self._started = None


@contextlib.contextmanager
def timed_transactions() -> Iterator[Transactions]:
    seen = Transactions()

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("BEGIN"):
            # SQLite's BEGIN IMMEDIATE waits for the lock: the transaction holds it once it returns.
            result = execute(sql, params, many, context)
            seen._started = time.perf_counter()
            return result
        if connection.get_autocommit() and not connection.in_atomic_block:
            if sql.lstrip().upper().startswith(("SELECT", "WITH")):
                return execute(sql, params, many, context)  # a read alone takes no lock
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                seen.durations.append(time.perf_counter() - start)
        if seen._started is None:
            seen._started = time.perf_counter()
        return execute(sql, params, many, context)

    def ending(original: Callable[[], None]) -> Callable[[], None]:
        def end() -> None:
            try:
                original()
            finally:
                seen._end()

        return end

    def autocommit(original: Callable[[bool], None]) -> Callable[[bool], None]:
        def switch(on: bool) -> None:
            original(on)
            if not on:  # PostgreSQL: the transaction begins (at the latest) now
                seen._started = time.perf_counter()

        return switch

    connection.ensure_connection()
    commit, rollback = connection._commit, connection._rollback  # type: ignore[attr-defined]
    connection._commit = ending(commit)  # type: ignore[attr-defined]
    connection._rollback = ending(rollback)  # type: ignore[attr-defined]
    connection._set_autocommit = autocommit(connection._set_autocommit)  # type: ignore[attr-defined]
    try:
        with connection.execute_wrapper(wrapper):
            yield seen
    finally:
        del connection._commit, connection._rollback, connection._set_autocommit  # type: ignore[attr-defined]
