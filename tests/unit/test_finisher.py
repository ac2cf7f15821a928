"""The finisher: host work for finished cells, in order, beside the next cell's build."""

from __future__ import annotations

import functools
import threading

import pytest

from orchestrator.finisher import Finisher


def test_tasks_run_in_the_order_they_were_handed_over_in_one_other_thread() -> None:
    finisher = Finisher()
    seen: list[tuple[int, str]] = []

    def record(number: int) -> None:
        seen.append((number, threading.current_thread().name))

    for number in range(20):
        finisher.submit(functools.partial(record, number))
    finisher.drain()
    finisher.close()
    assert [n for n, _ in seen] == list(range(20))
    assert {name for _, name in seen} != {threading.current_thread().name}
    assert len({name for _, name in seen}) == 1


def test_a_failed_task_is_raised_at_the_next_hand_over_once_it_has_run() -> None:
    finisher = Finisher()
    release = threading.Event()

    def fail() -> None:
        release.wait(5)
        raise OSError("disk full")

    finisher.submit(fail)
    finisher.submit(lambda: None)  # the failing task has not run yet: nothing to raise
    release.set()
    with pytest.raises(OSError, match="disk full"):
        finisher.drain()
    finisher.close()


def test_close_waits_for_every_queued_task_and_raises_nothing() -> None:
    finisher = Finisher()
    done: list[int] = []
    gate = threading.Event()

    def slow() -> None:
        gate.wait(5)
        done.append(1)

    finisher.submit(slow)
    finisher.submit(lambda: done.append(2))
    gate.set()
    finisher.close()  # as on Ctrl-C: every built cell is still published
    assert done == [1, 2]
