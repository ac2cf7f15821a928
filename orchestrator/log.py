"""The one output module: the plan, a line per cell, a log block per bad cell, a summary."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from orchestrator.images.build import ImageNeeds
from orchestrator.plan import Plan
from orchestrator.report.symbols import symbol
from orchestrator.results.model import CellRecord
from orchestrator.status import Status

LOG_BLOCK_LINES = 40


BAR_WIDTH = 30


def wants_bar(stream: TextIO) -> bool:
    """A live progress bar on an interactive terminal; plain lines in CI logs and pipes."""
    return stream.isatty() and os.environ.get("CI") != "true" and os.environ.get("TERM") != "dumb"


@dataclass(kw_only=True)
class Reporter:
    """Plain lines, fit for CI logs; on a terminal also a progress bar under them."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    started: float = field(default_factory=time.monotonic)
    total: int = 0
    done: int = 0
    runnable: int = 0
    runnable_done: int = 0
    bar: bool | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def line(self, text: str) -> None:
        """One line above the bar (lines come from the image thread too: one at a time)."""
        with self._lock:
            show_bar = self.bar if self.bar is not None else wants_bar(self.stream)
            clear = "\r\x1b[2K" if show_bar else ""
            print(f"{clear}{text}", file=self.stream, flush=not show_bar)
            if show_bar and self.total:
                print(self._bar(), end="", file=self.stream, flush=True)

    def _bar(self) -> str:
        filled = BAR_WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        return f"[{bar}] {self.done}/{self.total} · {self._progress()}"

    def event(self, text: str) -> None:
        self.line(f"  [{self._elapsed()}] {text}")

    def plan(self, plan: Plan, images: ImageNeeds) -> None:
        runnable = sum(len(group.cells) for group in plan.groups)
        self.total = len(plan.cells)
        self.runnable = runnable
        self.line(
            f"linkmatrix: {len(plan.cells)} cells: {runnable} to run in {len(plan.groups)} "
            f"container(s), {len(plan.cells) - runnable} not applicable"
        )
        for group in plan.groups:
            self.line(f"  {group.key}: {len(group.cells)} cells")
        built = ", ".join(images.to_build) if images.to_build else "none (all present)"
        self.line(f"  images to build: {built}")
        if images.sdk_missing:
            self.line(
                f"  no SDK supplied, cells skipped: {', '.join(images.sdk_missing)} "
                "(see images/<name>/README.md)"
            )

    def cell(self, record: CellRecord) -> None:
        self.done += 1
        if record.status is not Status.NOT_APPLICABLE:
            self.runnable_done += 1
        cached = ", cached" if record.cached else ""
        self.line(
            f"[{self.done}/{self.total}] {symbol(record.status)} {record.status.value:<14} "
            f"{record.id}  ({record.duration_s:.1f} s{cached}) · {self._progress()}"
        )
        if not record.status.ok:
            self._block(record)

    def _block(self, record: CellRecord) -> None:
        lines = record.detail.splitlines()[-LOG_BLOCK_LINES:]
        reason = record.reason.value if record.reason else None
        self.line(f"  ┌─ {record.id}: {reason}")
        for text in lines:
            self.line(f"  │ {text}")
        if record.log:
            self.line(f"  └─ full log: {record.log}")
        else:
            self.line("  └─")

    def summary(self, counts: Mapping[Status, int], paths: Sequence[str]) -> None:
        self.total = 0  # no bar under the summary
        shown = ", ".join(f"{n} {status.value}" for status, n in counts.items() if n)
        self.line(f"linkmatrix: {shown} in {self._elapsed()}")
        for path in paths:
            self.line(f"  wrote {path}")

    def _progress(self) -> str:
        """Elapsed time and a plain estimate of what is left (image builds included)."""
        elapsed = time.monotonic() - self.started
        left = self.runnable - self.runnable_done
        if left <= 0 or self.runnable_done == 0:
            return f"{_minutes(elapsed)} elapsed"
        estimate = elapsed / self.runnable_done * left
        return f"{_minutes(elapsed)} elapsed, ~{_minutes(estimate)} left"

    def _elapsed(self) -> str:
        return _minutes(time.monotonic() - self.started)


def _minutes(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"
