"""Where a run's files go: the output folder's artifacts and logs, and the cache's folders. Pure.

Every stage that names one of these paths asks this module, so the runner (which writes the
report path into each file it fetches), the pipeline (which copies files and logs there) and the
report agree by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ARTIFACTS = "artifacts"
LOGS = "logs"
# `linkmatrix check`'s snapshot, beside the checked crate: no source of it (never copied into a
# cell, never part of its cache key, so a --bless rebuilds nothing)
SNAPSHOT_FILE = "linkmatrix.lock.toml"
# what is never a source of a scenario or checked crate: build output and version control
NOT_SOURCE_DIRS = frozenset({"target", ".git"})


def is_source(relative: PurePosixPath) -> bool:
    """Whether a file of a scenario's (or checked crate's) folder is one of its sources."""
    return not NOT_SOURCE_DIRS & set(relative.parts) and relative.as_posix() != SNAPSHOT_FILE


def slug(text: str) -> str:
    """`text` as one file name: every run of other characters becomes `_`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def artifact_report_path(cell_slug: str, artifact: str, file: str) -> str:
    """`artifacts/<slug>/<artifact>/<file>`: a fetched file's path, relative to the output."""
    return PurePosixPath(ARTIFACTS, cell_slug, artifact, file).as_posix()


def log_report_path(cell_slug: str) -> str:
    """`logs/<slug>.log`: a cell's log, relative to the output folder."""
    return PurePosixPath(LOGS, f"{cell_slug}.log").as_posix()


@dataclass(frozen=True, kw_only=True)
class Layout:
    """The output folder (results, views, artifacts, logs) and the cache folder of one run."""

    out_dir: Path
    cache_dir: Path

    def artifacts(self, cell_slug: str) -> Path:
        """A cell's copied files, one folder per artifact."""
        return self.out_dir / ARTIFACTS / cell_slug

    def log(self, cell_slug: str) -> Path:
        return self.out_dir / log_report_path(cell_slug)

    @property
    def phases(self) -> Path:
        """Where the run's time went (`phases.json`, read by `nox -s bench`)."""
        return self.out_dir / "phases.json"

    def relative(self, path: Path) -> str:
        """A path inside the output folder as results.json names it."""
        return path.relative_to(self.out_dir).as_posix()

    @property
    def cells(self) -> Path:
        """The cell cache: `<key>/` per cell."""
        return self.cache_dir / "cells"

    @property
    def inspections(self) -> Path:
        """The inspection cache: `<sha256>-<inspector version>.json` per file."""
        return self.cache_dir / "inspections"

    @property
    def views(self) -> Path:
        """The HTML views' memo: what they rendered last run (orchestrator/report/memo.py)."""
        return self.cache_dir / "views"

    @property
    def durations(self) -> Path:
        """What earlier runs took, for the console's estimate (`durations.json`)."""
        return self.cache_dir / "durations.json"

    @property
    def downloads(self) -> Path:
        return self.cache_dir / "downloads"

    @property
    def vendor(self) -> Path:
        return self.cache_dir / "vendor"
