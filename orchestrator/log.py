"""The one output module: the plan, a line per cell, a log block per bad cell, a summary."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from orchestrator.estimate import Estimator
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
    github: bool = field(default_factory=lambda: os.environ.get("GITHUB_ACTIONS") == "true")
    bad: list[CellRecord] = field(default_factory=list)  # failed or erred, listed at the end
    estimate: Estimator | None = None  # what is left, from the plan (given with it)
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
        filled = BAR_WIDTH * self.runnable_done // max(self.runnable, 1)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        return f"[{bar}] {self.runnable_done}/{self.runnable} · {self._progress()}"

    def event(self, text: str) -> None:
        self.line(f"  [{self._elapsed()}] {text}")

    def plan(self, plan: Plan, images: ImageNeeds, estimate: Estimator | None = None) -> None:
        self.estimate = estimate
        runnable = sum(len(group.cells) for group in plan.groups)
        self.total = len(plan.cells)
        self.runnable = runnable
        missing = set(images.sdk_missing)
        skipped = sum(len(g.cells) for g in plan.groups if g.key.image in missing)
        self.line(
            f"linkmatrix: {len(plan.cells)} cells: {runnable - skipped} to build and run in "
            f"{len(plan.groups)} container(s), {skipped} to skip (no SDK), "
            f"{len(plan.cells) - runnable} not applicable (recorded, not listed one by one)"
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
        if record.status is Status.NOT_APPLICABLE:
            return  # counted in the plan's line and in the results, not one line each
        self.runnable_done += 1
        cached = ", cached" if record.cached else ""
        self.line(
            f"[{self.runnable_done}/{self.runnable}] {symbol(record.status)} "
            f"{record.status.value:<14} {record.id}  ({record.duration_s:.1f} s{cached}) · "
            f"{self._progress()}"
        )
        if not record.status.ok:
            self.bad.append(record)
            self._block(record)

    def _block(self, record: CellRecord) -> None:
        lines = record.detail.splitlines()[-LOG_BLOCK_LINES:]
        reason = record.reason.value if record.reason else None
        if self.github:  # a fold per failing cell's log, and an annotation on the run
            self.line(f"::error title={record.id}::{reason}: {record.why}")
            self.line(f"::group::{record.id}: {reason}")
        self.line(f"  ┌─ {record.id}: {reason}")
        if record.link_error is not None:  # what the linker said, before rustc's "failed"
            for text in record.link_error.lines:
                self.line(f"  │ the linker: {text}")
        for text in lines:
            self.line(f"  │ {text}")
        if record.log:
            self.line(f"  └─ full log: {record.log}")
        else:
            self.line("  └─")
        if self.github:
            self.line("::endgroup::")

    def summary(self, counts: Mapping[Status, int], paths: Sequence[str]) -> None:
        self.total = self.runnable = 0  # no bar under the summary
        shown = ", ".join(f"{n} {status.value}" for status, n in counts.items() if n)
        self.line(f"linkmatrix: {shown} in {self._elapsed()}")
        for record in self.bad:
            reason = record.reason.value if record.reason else "-"
            where = f"  (log: {record.log})" if record.log else ""
            self.line(f"  {record.status.value}: {record.id}: {reason}{where}")
        for path in paths:
            self.line(f"  wrote {path}")

    def _progress(self) -> str:
        """Elapsed time and, given an estimator, what is left of the run (estimate.py)."""
        now = time.monotonic()
        elapsed = now - self.started
        if self.estimate is None or self.runnable_done >= self.runnable:
            return f"{_minutes(elapsed)} elapsed"
        left = self.estimate.left(now)
        total = elapsed + left
        return f"{_minutes(elapsed)} elapsed, ~{_rough(left)} left (total ~{_rough(total)})"

    def _elapsed(self) -> str:
        return _minutes(time.monotonic() - self.started)


def _minutes(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"


def _rough(seconds: float) -> str:
    """An estimate as precise as it is: whole minutes, seconds only under a minute."""
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
