"""One thread that gathers the work waiting at each moment and does it as one batch.

Requests hand over an item and wait (a thread) or await (an event loop); the batch thread takes
all the items waiting, up to `max_batch`, after letting the batch fill while items keep arriving
(at most `pause` seconds apart, `gather` seconds in all), and calls `flush` with them. Under load,
many items share one round of statements and one commit; alone, an item waits one `pause`.
Whoever waits for an item is woken once `flush` returns, unless `flush` kept the item to wake it
itself later (`wake`). Waiters are found by the item's identity: each item is an object of its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Collection, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")
# Whoever waits for an item: a thread's event, or an event loop with its future.
Waiter = threading.Event | tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]

logger = logging.getLogger(__name__)


class BatchThread(Generic[T]):
    """A gather-and-flush thread per process; subclasses say what `flush` does with a batch."""

    def __init__(self, *, name: str, max_batch: int, gather: float, pause: float) -> None:
        self.name = name
        self.max_batch = max_batch
        self.gather = gather
        self.pause = pause
        self._queue: deque[T] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        # Whoever waits for each item queued and not yet woken, by the item's identity.
        self._waiting: dict[int, Waiter] = {}

    def flush(self, batch: list[T]) -> Collection[T]:
        """Do the work of `batch`, on the batch thread; return the items `wake` will answer later."""
        raise NotImplementedError

    def thread_ending(self) -> None:
        """Called on the batch thread as it ends, with nothing queued (e.g. to give back a connection)."""

    def submit(self, item: T) -> None:
        """Queue `item` for the next batch and wait until it has been flushed."""
        done = threading.Event()
        self._enqueue(item, done)
        done.wait()

    async def submit_async(self, item: T) -> None:
        """As `submit`, for a request served by an event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._enqueue(item, (loop, future))
        await future

    def _enqueue(
        self, item: T, waiter: threading.Event | tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]
    ) -> None:
        with self._ready:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._waiting[id(item)] = waiter
            self._queue.append(item)
            # The first item wakes a waiting thread, a full batch one that is gathering.
            if len(self._queue) == 1 or len(self._queue) >= self.max_batch:
                self._ready.notify()

    def wake(self, items: Iterable[T]) -> None:
        """Wake whoever waits for each item: a thread, or an event loop (once per loop and call)."""
        futures: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        with self._ready:
            waiters = [self._waiting.pop(id(item), None) for item in items]
        for waiter in waiters:
            if isinstance(waiter, threading.Event):
                waiter.set()
            elif waiter is not None:
                futures.setdefault(waiter[0], []).append(waiter[1])
        for loop, waiting in futures.items():
            try:
                loop.call_soon_threadsafe(_resolve, waiting)
            except RuntimeError:
                pass  # that loop is closed: nobody waits there any more

    def stop(self) -> None:
        """Flush what is queued, then end the thread (a later item starts a new one)."""
        with self._ready:
            self._stopping = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _flushed(self, batch: list[T]) -> None:
        kept: Collection[T] = ()
        try:
            kept = self.flush(batch)
        except Exception as exc:
            # `flush` answers its own failures; one it did not leaves the batch unanswered (its
            # waiters then take their other way), never the thread stopped with items queued. Only
            # the error's type is logged: its text may quote what was sent.
            logger.error("%s: a batch failed (%s)", self.name, type(exc).__name__)
        finally:
            held = {id(item) for item in kept}
            self.wake([item for item in batch if id(item) not in held])

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                if not self._queue:
                    self._thread = None  # the next item starts a new thread
                    break
                # Gather while items keep arriving, up to a full batch or the longest wait.
                deadline = time.monotonic() + self.gather
                while len(self._queue) < self.max_batch and not self._stopping:
                    seen = len(self._queue)
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._ready.wait(min(left, self.pause))
                    if len(self._queue) == seen:
                        break
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
            self._flushed(batch)
        self.thread_ending()


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)
