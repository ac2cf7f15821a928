"""Finish cells in the background, in order, while the next cell runs in its container.

A built cell's inspection (LIEF over its files), judgement and publishing (artifact links, its
log, results.json) are the host's work; the next cell's build is the container's, during which
the host only waits on the engine's socket. One worker thread takes the first while the main
thread drives the second, so the two overlap instead of adding up. One worker, not more: cells
finish, are reported and are written in the order they ran, and no two threads ever touch the
results file or the console's counters.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class Finisher:
    """An ordered queue of host work for one run.

    `submit` queues a task and raises the error of any task that already failed (the run stops
    at the next cell, as it would have without the queue); `drain` waits for every task and
    raises the first error; `close` waits for what is queued, so a run stopped by Ctrl-C or an
    error still publishes every cell that was built, and raises nothing of its own.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="linkmatrix-finish")
        self._pending: deque[Future[None]] = deque()

    def submit(self, task: Callable[[], None]) -> None:
        self._raise_failed(wait=False)
        self._pending.append(self._pool.submit(task))

    def drain(self) -> None:
        self._raise_failed(wait=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._pending.clear()

    def _raise_failed(self, *, wait: bool) -> None:
        while self._pending and (wait or self._pending[0].done()):
            self._pending.popleft().result()  # re-raises the task's error in this thread
