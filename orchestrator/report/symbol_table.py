"""One scenario's exported names side by side: rows are names, columns (cell, artifact) pairs.

Columns of one artifact sit together. Within an artifact, a name that at least half of its
columns export is *missing* where it is not exported; a name fewer than half export is *extra*
where it is. So a name one toolchain lacks, a `_` prefix or a minified name stands out.

What a reader does not need a square for is folded: LLVM-internal and hash-only names
(`anon.<hash>.N.llvm.N`, `.L…`, `__llvm…`; see orchestrator.results.names) are counted per
column and listed apart, names the same everywhere are listed under the artifacts that export
them, and a page draws at most SQUARES_MAX squares in DRAWN_ROWS_MAX rows: names past that are
listed with how many columns export them. Every list is capped, the rest counted, so no page
grows past a few hundred kilobytes whatever the catalogue holds.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass

from orchestrator.inspect.demangle import is_mangled_rust
from orchestrator.inspect.model import ArtifactFormat
from orchestrator.report.grid import cell_anchor, grid_columns, short_target
from orchestrator.results.model import ArtifactRecord, CellRecord, ResultsDocument
from orchestrator.results.names import NameKind, name_kind
from orchestrator.status import Status

# Where the artifacts export more mangled Rust names than this (a staticlib or a Mach-O
# executable carries std's), the page leaves them out: one row per std symbol per page would
# weigh tens of megabytes, and their hashes differ per toolchain and release anyway.
MANGLED_ROWS_MAX = 200
# What one page draws and lists at most, so that none weighs 500 KB: (name, column) squares
# and rows of them; differing names past those, listed with how many columns export them; the
# LLVM-internal names listed (all are counted); the names the same everywhere, listed.
SQUARES_MAX = 30_000
DRAWN_ROWS_MAX = 1_000
OVERFLOW_LISTED = 1_000
NOISE_LISTED = 200
COMMON_LISTED = 2_000


@dataclass(frozen=True, kw_only=True)
class SymbolColumn:
    """One artifact of one cell, with what it exports."""

    cell_id: str
    column: str
    toolchain: str
    release: str
    target: str
    artifact: str
    format: ArtifactFormat
    file_type: str | None
    status: Status
    anchor: str
    stand_in: bool
    exports: frozenset[str]

    @property
    def short_target(self) -> str:
        return short_target(self.target)


@dataclass(frozen=True, kw_only=True)
class ArtifactGroup:
    """Adjacent columns of one artifact name."""

    artifact: str
    width: int


class Mark(enum.StrEnum):
    """What one (name, column) square of the table shows."""

    EXPORTED = "exported"
    EXTRA = "extra"  # exported here, but by fewer than half of this artifact's columns
    MISSING = "missing"  # not exported here, though at least half of this artifact's columns do
    ABSENT = "absent"


@dataclass(frozen=True, kw_only=True)
class SymbolRow:
    """One name and its mark in each column."""

    name: str
    marks: tuple[Mark, ...]

    @property
    def differs(self) -> bool:
        return any(mark in (Mark.EXTRA, Mark.MISSING) for mark in self.marks)


@dataclass(frozen=True, kw_only=True)
class ListedName:
    """A name listed rather than drawn as a row: how many of the page's columns export it."""

    name: str
    columns: int


@dataclass(frozen=True, kw_only=True)
class SymbolTable:
    scenario: str
    columns: tuple[SymbolColumn, ...]
    groups: tuple[ArtifactGroup, ...]
    differing: tuple[SymbolRow, ...]
    common: tuple[SymbolRow, ...]
    mangled_omitted: int = 0  # mangled Rust names left out (see MANGLED_ROWS_MAX)
    # LLVM-internal and hash-only names: counted per column; the first NOISE_LISTED listed
    noise: tuple[ListedName, ...] = ()
    noise_total: int = 0
    noise_counts: tuple[int, ...] = ()  # per column
    # differing names past what a page draws, listed (the first OVERFLOW_LISTED of them)
    overflow: tuple[ListedName, ...] = ()
    overflow_total: int = 0


def name_order(name: str) -> tuple[str, str]:
    """Sort `_foo`, `__foo` and `foo` next to each other."""
    return (name.lstrip("_").lower(), name)


def symbol_table(document: ResultsDocument, scenario: str) -> SymbolTable:
    """The exports of every inspected artifact of `scenario`'s cells."""
    cells = [r for r in document.cells if r.scenario == scenario]
    column_order = {c.key: i for i, c in enumerate(grid_columns(cells))}
    artifact_order: dict[str, int] = {}
    columns: list[SymbolColumn] = []
    for record in cells:
        for artifact in record.artifacts:
            if artifact.format is None:
                continue
            artifact_order.setdefault(artifact.name, len(artifact_order))
            columns.append(_column(record, artifact, artifact.format))
    columns.sort(key=lambda c: (artifact_order[c.artifact], column_order[c.column]))
    groups = _groups(columns)
    every = _all_names(columns)
    noise = [name for name in every if name_kind(name) is NameKind.LLVM]
    folded = frozenset(noise)
    names = [name for name in every if name not in folded] if noise else every
    plain = [name for name in names if not is_mangled_rust(name)]
    omitted = len(names) - len(plain) if len(names) - len(plain) > MANGLED_ROWS_MAX else 0
    rows = [_row(name, columns) for name in (plain if omitted else names)]
    differing = [r for r in rows if r.differs]
    drawn = max(1, min(DRAWN_ROWS_MAX, SQUARES_MAX // max(1, len(columns))))
    overflow = differing[drawn : drawn + OVERFLOW_LISTED]
    return SymbolTable(
        scenario=scenario,
        columns=tuple(columns),
        groups=tuple(groups),
        differing=tuple(differing[:drawn]),
        common=tuple(r for r in rows if not r.differs),
        mangled_omitted=omitted,
        noise=tuple(_listed(name, columns) for name in noise[:NOISE_LISTED]),
        noise_total=len(noise),
        noise_counts=tuple(len(c.exports & folded) for c in columns),
        overflow=tuple(_listed(row.name, columns) for row in overflow),
        overflow_total=max(0, len(differing) - drawn),
    )


def _listed(name: str, columns: list[SymbolColumn]) -> ListedName:
    return ListedName(name=name, columns=sum(name in column.exports for column in columns))


def _column(
    record: CellRecord, artifact: ArtifactRecord, inspected_as: ArtifactFormat
) -> SymbolColumn:
    return SymbolColumn(
        cell_id=record.id,
        column=record.column,
        toolchain=record.toolchain,
        release=record.release,
        target=record.target,
        artifact=artifact.name,
        format=inspected_as,
        file_type=artifact.file_type,
        status=record.status,
        anchor=cell_anchor(record.id),
        stand_in=record.route.stand_in,
        exports=frozenset(artifact.exports or ()),
    )


def _groups(columns: list[SymbolColumn]) -> list[ArtifactGroup]:
    groups: list[ArtifactGroup] = []
    for column in columns:
        if groups and groups[-1].artifact == column.artifact:
            groups[-1] = ArtifactGroup(artifact=column.artifact, width=groups[-1].width + 1)
        else:
            groups.append(ArtifactGroup(artifact=column.artifact, width=1))
    return groups


def _all_names(columns: list[SymbolColumn]) -> list[str]:
    return sorted({name for column in columns for name in column.exports}, key=name_order)


def _row(name: str, columns: list[SymbolColumn]) -> SymbolRow:
    width = Counter(column.artifact for column in columns)
    exporting = Counter(column.artifact for column in columns if name in column.exports)

    def mark(column: SymbolColumn) -> Mark:
        common = 2 * exporting[column.artifact] >= width[column.artifact]
        if name in column.exports:
            return Mark.EXPORTED if common else Mark.EXTRA
        return Mark.MISSING if common and exporting[column.artifact] else Mark.ABSENT

    return SymbolRow(name=name, marks=tuple(mark(column) for column in columns))
