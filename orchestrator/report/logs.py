"""The tail of a cell's build log, read beside the results file it is recorded in."""

from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path

LOG_TAIL_LINES = 60


@dataclass(frozen=True, kw_only=True)
class LogTail:
    """The last lines of a log, where they start, and how long the whole log is."""

    path: str
    text: str
    first_line: int
    total_lines: int

    @property
    def whole(self) -> bool:
        return self.first_line <= 1


def read_log_tail(
    results_dir: Path, recorded: str | None, *, lines: int = LOG_TAIL_LINES
) -> LogTail | None:
    """The last `lines` lines of `results_dir/recorded`; None when absent or outside the folder."""
    if not recorded:
        return None
    root = results_dir.resolve()
    path = (root / recorded).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    total = 0
    tail: collections.deque[str] = collections.deque(maxlen=lines)
    with path.open(encoding="utf-8", errors="replace") as stream:
        for line in stream:
            total += 1
            tail.append(line.rstrip("\n"))
    return LogTail(
        path=recorded, text="\n".join(tail), first_line=total - len(tail) + 1, total_lines=total
    )
