"""index.html and the per-scenario symbol pages, rendered by Jinja2 from results.json."""

from __future__ import annotations

import functools
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import markupsafe

from orchestrator.inspect.demangle import is_mangled_rust
from orchestrator.report.grid import (
    Column,
    cell_anchor,
    cells_by_place,
    grid_columns,
    page_name,
    scenario_names,
    toolchain_spans,
)
from orchestrator.report.logs import LogTail, read_log_tail
from orchestrator.report.symbol_table import Mark, symbol_table
from orchestrator.report.symbols import MEANINGS, check_symbol, colour, symbol
from orchestrator.results.diff import CHANGE_MEANINGS, CellChange, Change, ResultsDiff
from orchestrator.results.model import CellRecord, ResultsDocument
from orchestrator.status import Status

SYMBOL_PAGES = "symbols"
# Export/import lists longer than this start folded in a cell's detail.
FOLD_NAMES_OVER = 40
# A staticlib lists every std symbol (thousands, and again demangled): a cell's lists show this
# many names each, plain (C-level) names before mangled Rust ones, and say how many more
# results.json holds; all of them would make the page weigh 100 MB.
NAMES_SHOWN = 100


@dataclass(frozen=True, kw_only=True)
class CellView:
    """One cell as the HTML shows it: its record, its log's tail, and its change since baseline."""

    record: CellRecord
    anchor: str
    log: LogTail | None
    change: CellChange | None

    @property
    def status(self) -> Status:
        return self.record.status

    @property
    def needs_a_look(self) -> bool:
        """Failing cells and regressions start unfolded."""
        return not self.status.ok or (
            self.change is not None and self.change.change is Change.REGRESSED
        )


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("orchestrator.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        symbol=symbol,
        colour=colour,
        check_symbol=check_symbol,
        command_line=command_line,
        first_line=first_line,
        breakable=breakable,
        plain_first=plain_first,
        squares=squares,
    )
    env.globals.update(
        statuses=list(Status),
        meanings=MEANINGS,
        changes=list(Change),
        change_meanings=CHANGE_MEANINGS,
        fold_names_over=FOLD_NAMES_OVER,
        names_shown=NAMES_SHOWN,
        symbol_pages=SYMBOL_PAGES,
        page_name=page_name,
        cell_anchor=cell_anchor,
    )
    return env


# One square of a symbol page per (name, column): built here, not by a template macro, because
# a page holds tens of thousands of them and a macro call per square was most of a warm run.
SQUARES: dict[Mark, str] = {
    Mark.EXPORTED: '<td class="has">●</td>',
    Mark.EXTRA: '<td class="extra" title="exported here, by fewer than half of this '
    "artifact's columns\">●</td>",
    Mark.MISSING: '<td class="missing" title="not exported here; at least half of this '
    "artifact's columns export it\">✗</td>",
    Mark.ABSENT: "<td></td>",
}


def squares(marks: Iterable[Mark]) -> markupsafe.Markup:
    """A symbol-table row's squares, one `<td>` per column."""
    return markupsafe.Markup("".join(SQUARES[mark] for mark in marks))  # noqa: S704 - fixed text


def plain_first(names: Iterable[str]) -> list[str]:
    """C-level names first, then mangled Rust names; each part in its given order."""
    return sorted(names, key=is_mangled_rust)


def command_line(command: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """`K=V cargo rustc ...` as one could paste it into a shell."""
    assignments = [f"{key}={shlex.quote(value)}" for key, value in sorted((env or {}).items())]
    return " ".join([*assignments, shlex.join(command)])


def breakable(name: str) -> markupsafe.Markup:
    """`x86_64-unknown-linux-gnu` with a line-break opportunity after each `-`."""
    return markupsafe.Markup("-<wbr>").join(markupsafe.escape(part) for part in name.split("-"))


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def render_index(
    document: ResultsDocument, results_dir: Path, diff: ResultsDiff | None = None
) -> str:
    """The whole report: grid, legend, routes, changes since baseline, every cell's detail."""
    cells = document.cells
    changes = diff.by_id() if diff else {}
    views = {
        record.id: CellView(
            record=record,
            anchor=cell_anchor(record.id),
            log=read_log_tail(results_dir, record.log),
            change=changes.get(record.id),
        )
        for record in cells
    }
    columns = grid_columns(cells)
    scenarios = scenario_names(cells)
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            document=document,
            provenance=document.provenance,
            summary=document.summary,
            columns=columns,
            spans=toolchain_spans(columns),
            scenarios=scenarios,
            place={key: views[r.id] for key, r in cells_by_place(cells).items()},
            scenario_cells={s: [views[r.id] for r in cells if r.scenario == s] for s in scenarios},
            route_cells=_route_cells(cells, columns),
            diff=diff,
            removed=diff.of(Change.REMOVED) if diff else (),
        )
    )


def _route_cells(
    cells: Iterable[CellRecord], columns: Iterable[Column]
) -> dict[str, CellRecord | None]:
    """Per column, one cell that ran (it knows rustc and the linker version), if any did."""
    ran: dict[str, CellRecord | None] = {c.key: None for c in columns}
    for record in cells:
        if ran[record.column] is None and record.rustc is not None:
            ran[record.column] = record
    return ran


def render_symbol_page(document: ResultsDocument, scenario: str) -> str:
    """One scenario's exported names, side by side across toolchains."""
    return (
        environment()
        .get_template("symbols.html.j2")
        .render(provenance=document.provenance, table=symbol_table(document, scenario))
    )
