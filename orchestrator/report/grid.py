"""The grid every view shares: scenarios as rows, (toolchain, rustc release, target) as columns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.layout import slug
from orchestrator.results.model import CellRecord


def cell_anchor(cell_id: str) -> str:
    """The HTML id of a cell's detail: `cell-` and the id as the run names its log file."""
    return "cell-" + slug(cell_id)


def page_name(scenario: str) -> str:
    """A scenario's name as a file name."""
    return slug(scenario)


@dataclass(frozen=True, kw_only=True)
class Column:
    """One (toolchain, release, target) and the route its cells link with."""

    key: str
    toolchain: str
    release: str
    target: str
    linker: str
    libraries: str
    stand_in: bool


@dataclass(frozen=True, kw_only=True)
class ToolchainSpan:
    """A run of adjacent columns of one toolchain: one header cell spanning them."""

    toolchain: str
    width: int
    stand_in: bool


def grid_columns(cells: Iterable[CellRecord]) -> list[Column]:
    """Every column once, ordered by toolchain, release, then target."""
    columns: dict[str, Column] = {}
    for record in cells:
        if record.column not in columns:
            columns[record.column] = Column(
                key=record.column,
                toolchain=record.toolchain,
                release=record.release,
                target=record.target,
                linker=record.route.linker,
                libraries=record.route.libraries,
                stand_in=record.route.stand_in,
            )
    return sorted(columns.values(), key=lambda c: (c.toolchain, c.release, c.target))


def toolchain_spans(columns: list[Column]) -> list[ToolchainSpan]:
    spans: list[ToolchainSpan] = []
    for column in columns:
        if spans and spans[-1].toolchain == column.toolchain:
            last = spans[-1]
            spans[-1] = ToolchainSpan(
                toolchain=last.toolchain, width=last.width + 1, stand_in=last.stand_in
            )
        else:
            spans.append(
                ToolchainSpan(toolchain=column.toolchain, width=1, stand_in=column.stand_in)
            )
    return spans


def scenario_names(cells: Iterable[CellRecord]) -> list[str]:
    return sorted({record.scenario for record in cells})


def cells_by_place(cells: Iterable[CellRecord]) -> dict[tuple[str, str], CellRecord]:
    """(scenario, column key) → the cell there."""
    return {(record.scenario, record.column): record for record in cells}
