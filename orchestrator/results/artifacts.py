"""A run's artifact files: hardlinked from the cell cache into the output folder, and exported.

The output folder's `artifacts/<slug>/` entries are hardlinks to the cell cache's files (a
whole-matrix run would otherwise copy over a gigabyte on every run); only when a link cannot be
made (the output folder on another filesystem) is a file copied, and counted. `export` copies
the files of selected cells out, as real files a user may keep or change.
"""

from __future__ import annotations

import fnmatch
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from orchestrator.errors import ResultsError, SelectionError
from orchestrator.layout import ARTIFACTS
from orchestrator.results.model import CellRecord, ResultsDocument


@dataclass(kw_only=True)
class LinkStats:
    """What putting the artifacts in the output folder cost: files and bytes linked or copied."""

    linked_files: int = 0
    linked_bytes: int = 0
    copied_files: int = 0
    copied_bytes: int = 0

    def line(self) -> str:
        mib = 1024 * 1024
        return (
            f"artifacts: {self.linked_files} files ({self.linked_bytes / mib:.1f} MiB) linked "
            f"from the cell cache, {self.copied_files} ({self.copied_bytes / mib:.1f} MiB) copied"
        )


def link_tree(source: Path, target: Path, stats: LinkStats) -> None:
    """Make `target` hold `source`'s files as hardlinks (copies across filesystems).

    A target that already links every file of the source, and nothing else, is left alone:
    a warm re-run touches nothing.
    """
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else []
    if not _links_already(source, target, files):
        shutil.rmtree(target, ignore_errors=True)
        for file in files:
            _link_or_copy(file, target / file.relative_to(source), stats)
        return
    for file in files:
        stats.linked_files += 1
        stats.linked_bytes += file.stat().st_size


def _links_already(source: Path, target: Path, files: Sequence[Path]) -> bool:
    if not target.is_dir():
        return False
    present = sorted(p for p in target.rglob("*") if p.is_file())
    expected = [target / file.relative_to(source) for file in files]
    return present == expected and all(
        file.samefile(link) for file, link in zip(files, expected, strict=True)
    )


def _link_or_copy(source: Path, target: Path, stats: LinkStats) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    size = source.stat().st_size
    try:
        target.hardlink_to(source)
    except OSError:  # another filesystem (EXDEV), or one without hardlinks
        shutil.copyfile(source, target)
        stats.copied_files += 1
        stats.copied_bytes += size
    else:
        stats.linked_files += 1
        stats.linked_bytes += size


@dataclass(frozen=True, kw_only=True)
class Exported:
    cells: int
    files: int
    bytes: int


def export_artifacts(
    document: ResultsDocument, folder: Path, out_dir: Path, only: Sequence[str]
) -> Exported:
    """Copy the artifact files of the cells matching `only` (every cell when empty) to `out_dir`.

    `folder` holds the results.json the document was read from; each file keeps its path under
    `artifacts/` (`<out_dir>/<cell slug>/<artifact>/<file>`). A file that is gone is a
    ResultsError naming the cell, before anything is copied.
    """
    cells = [cell for cell in document.cells if _selected(cell.id, only)]
    if only and not cells:
        raise SelectionError(f"no cell of the results matches {', '.join(only)}.")
    files = [(cell, path) for cell in cells for path in _artifact_paths(cell)]
    if missing := [(cell, path) for cell, path in files if not (folder / path).is_file()]:
        cell, path = missing[0]
        raise ResultsError(
            f"{len(missing)} artifact files are gone, e.g. {folder / path} of cell {cell.id}; "
            f"run `linkmatrix run --only '{cell.id}' --out {folder}` to link them from the cell "
            "cache again (or build them, if the cache lost them too)."
        )
    copied = 0
    for _, path in files:
        target = out_dir / _under_artifacts(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / path, target)
        copied += target.stat().st_size
    return Exported(cells=len(cells), files=len(files), bytes=copied)


def _selected(cell_id: str, only: Sequence[str]) -> bool:
    return not only or any(fnmatch.fnmatchcase(cell_id, pattern) for pattern in only)


def _artifact_paths(cell: CellRecord) -> list[str]:
    """Every file of the cell's artifacts, as results.json names them (primary ones first)."""
    primary = [a.file for a in cell.artifacts if a.file]
    return primary + [other.path for a in cell.artifacts for other in a.other_files]


def _under_artifacts(path: str) -> PurePosixPath:
    """`artifacts/<slug>/...` → `<slug>/...`; a path outside `artifacts/` is refused."""
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or parts[0] != ARTIFACTS or ".." in parts:
        raise ResultsError(f"artifact path {path!r} is not under {ARTIFACTS}/.")
    return PurePosixPath(*parts[1:])
