"""The gather-and-flush thread: batches of what arrives together, every waiter woken once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection

from haoping.lib.batching import BatchThread


class Recorder(BatchThread[int]):
    """Notes each batch; keeps the negative items to wake them itself, and fails on 13."""

    def __init__(self, **timing: float) -> None:
        super().__init__(name="test-batches", max_batch=4, **{"gather": 2.0, "pause": 0.5, **timing})
        self.batches: list[list[int]] = []
        self.kept: list[int] = []
        self.ended = 0

    def flush(self, batch: list[int]) -> Collection[int]:
        self.batches.append(list(batch))
        if 13 in batch:
            raise RuntimeError("unlucky")
        self.kept += [n for n in batch if n < 0]
        return [n for n in batch if n < 0]

    def thread_ending(self) -> None:
        self.ended += 1


def _submit_together(thread: Recorder, items: list[int]) -> list[int]:
    """Submit `items` from as many threads at once; the items whose waiters were woken."""
    start = threading.Barrier(len(items))
    woken: list[int] = []

    def submit(n: int) -> None:
        start.wait()
        thread.submit(n)
        woken.append(n)

    threads = [threading.Thread(target=submit, args=(n,)) for n in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return woken


def test_items_arriving_together_share_a_batch_up_to_its_size() -> None:
    thread = Recorder()
    try:
        woken = _submit_together(thread, [1, 2, 3, 4, 5, 6])
    finally:
        thread.stop()
    assert sorted(woken) == [1, 2, 3, 4, 5, 6]
    assert sorted(len(b) for b in thread.batches) == [2, 4]
    assert sorted(n for b in thread.batches for n in b) == [1, 2, 3, 4, 5, 6]
    assert thread.ended == 1


def test_an_item_flush_keeps_waits_until_woken_and_a_failed_batch_wakes_its_waiters() -> None:
    thread = Recorder(gather=0.0, pause=0.0)
    waited = threading.Thread(target=thread.submit, args=(-1,))
    waited.start()
    try:
        waited.join(1)
        assert waited.is_alive() and thread.kept == [-1]  # flushed, not yet answered
        thread.wake([-1])
        waited.join(5)
        assert not waited.is_alive()
        # A batch whose flush fails still wakes everyone in it, and the thread goes on.
        assert _submit_together(thread, [13]) == [13]
        assert _submit_together(thread, [7]) == [7]
    finally:
        thread.stop()
    assert [b for b in thread.batches if 13 in b] == [[13]] and [7] in thread.batches


def test_an_event_loop_awaits_its_item() -> None:
    thread = Recorder(gather=0.0, pause=0.0)

    async def scenario() -> None:
        await asyncio.gather(thread.submit_async(1), thread.submit_async(2))

    try:
        asyncio.run(asyncio.wait_for(scenario(), 10))
    finally:
        thread.stop()
    assert sorted(n for b in thread.batches for n in b) == [1, 2]
