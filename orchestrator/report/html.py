"""index.html and the per-scenario symbol pages, rendered by Jinja2 from results.json."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import markupsafe

from orchestrator.inspect.demangle import is_mangled_rust
from orchestrator.report.grid import (
    Collapsed,
    Column,
    cell_anchor,
    collapsed_toolchain,
    grid_columns,
    missing_places,
    page_name,
    scenario_names,
    short_target,
    short_word,
    toolchain_rank,
)
from orchestrator.report.logs import LogTail, read_log_tail
from orchestrator.report.memo import RUN_ID, Memo, as_shown, digest
from orchestrator.report.symbol_table import (
    COMMON_LISTED,
    ListedName,
    Mark,
    SymbolTable,
    symbol_table,
)
from orchestrator.report.symbols import MEANINGS, check_symbol, colour, symbol
from orchestrator.results.completeness import Completeness, completeness
from orchestrator.results.diff import CHANGE_MEANINGS, CellChange, Change, ResultsDiff
from orchestrator.results.model import CellRecord, ResultsDocument, records_runners
from orchestrator.results.names import NameSummary, summarize_names
from orchestrator.results.release_diff import PlaceDiff, ReleaseChange, release_diffs
from orchestrator.status import Status

SYMBOL_PAGES = "symbols"
# Export/import lists longer than this start folded in a cell's detail.
FOLD_NAMES_OVER = 40
# A staticlib lists every std symbol (thousands, and again demangled): a cell's lists show this
# many names each, plain (C-level) names before mangled Rust ones, and say how many more
# results.json holds; all of them would make the page weigh 100 MB.
NAMES_SHOWN = 100
# The release comparison lists this many plain names per change; the rest, and every mangled,
# compiler-rt or LLVM-internal name, is counted.
RELEASE_NAMES_SHOWN = 40


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
        breakable=breakable,
        plain_first=plain_first,
        squares=squares,
        name_summary=name_summary,
        name_items=name_items,
        links=links,
        listed_names=listed_names,
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
# End tags are left out (HTML allows it for td and tr) and the meaning of each mark is in the
# page's key, not in a title per square: a square is a few bytes.
SQUARES: dict[Mark, str] = {
    Mark.EXPORTED: "<td>●",
    Mark.EXTRA: "<td class=e>●",
    Mark.MISSING: "<td class=m>✗",
    Mark.ABSENT: "<td>",
}


def squares(marks: Iterable[Mark]) -> markupsafe.Markup:
    """A symbol-table row's squares, one `<td>` per column."""
    return markupsafe.Markup("".join(SQUARES[mark] for mark in marks))  # noqa: S704 - fixed text


def symbol_rows(table: SymbolTable) -> markupsafe.Markup:
    """The body of a symbol table, as one string: differing rows with a square per column, the
    LLVM-internal names' counts per column, then the names the same everywhere, listed under
    the artifacts whose every column exports them.
    """
    escape = markupsafe.escape
    width = len(table.columns) + 1
    more = f", {table.overflow_total} more listed below" if table.overflow_total else ""
    heading = f"names that differ across toolchains ({len(table.differing)}{more})"
    out = [f'<tr><th colspan="{width}" class="n">{heading}</th></tr>']
    out += [
        f"<tr class=d><td class=n>{escape(row.name)}{''.join(SQUARES[m] for m in row.marks)}</tr>"
        for row in table.differing
    ]
    if not table.differing:
        out.append(
            f'<tr><td colspan="{width}" class="muted">none: every artifact exports the same '
            "names on every toolchain</td></tr>"
        )
    if table.noise_total:
        counts = "".join(f"<td>{n or ''}" for n in table.noise_counts)
        out.append(
            f'<tr class=d><td class=n><a href="#noise">{table.noise_total} LLVM-internal and '
            f"hash-only names</a>: how many each column exports{counts}</tr>"
        )
    out.append(
        f'<tr><th colspan="{width}" class="n">names the same everywhere ({len(table.common)})'
        "</th></tr>"
    )
    out += _common_lists(table, width)
    return markupsafe.Markup("\n".join(out))  # noqa: S704 - every name escaped in it


def _common_lists(table: SymbolTable, width: int) -> list[str]:
    """The names the same everywhere, one list per set of artifacts that exports them."""
    starts = list(itertools.accumulate((g.width for g in table.groups), initial=0))[:-1]
    by_artifacts: dict[tuple[str, ...], list[str]] = {}
    for row in table.common[:COMMON_LISTED]:
        exporting = tuple(
            group.artifact
            for start, group in zip(starts, table.groups, strict=True)
            if row.marks[start] is Mark.EXPORTED
        )
        by_artifacts.setdefault(exporting, []).append(row.name)
    out = []
    for artifacts, names in by_artifacts.items():
        who = ", ".join(f"<code>{markupsafe.escape(a)}</code>" for a in artifacts)
        items = "".join(f"<li>{markupsafe.escape(name)}" for name in names)
        out.append(
            f'<tr><td colspan="{width}" class="common">exported by every column of {who} '
            f'({len(names)}):<ul class="noise">{items}</ul></td></tr>'
        )
    if len(table.common) > COMMON_LISTED:
        out.append(
            f'<tr><td colspan="{width}" class="muted">… and {len(table.common) - COMMON_LISTED} '
            "more: each cell's list in results.json has them.</td></tr>"
        )
    return out


def listed_names(items: Iterable[ListedName], total: int) -> markupsafe.Markup:
    """Names listed, not drawn, each with how many columns export it; how many are left out."""
    escape = markupsafe.escape
    shown = list(items)
    lines = "".join(
        f'<li>{escape(item.name)} <span class="muted">{item.columns}</span>' for item in shown
    )
    rest = (
        f'<p class="muted">… and {total - len(shown)} more: each cell\'s list in results.json '
        "has them.</p>"
        if total > len(shown)
        else ""
    )
    return markupsafe.Markup(f'<ul class="noise">{lines}</ul>{rest}')  # noqa: S704 - escaped


def name_items(names: Iterable[str], readable: Mapping[str, str]) -> markupsafe.Markup:
    """`<li>` items of a cell's name list, each mangled name with its readable form; one string
    (a template macro call per name was most of the index page's rendering).
    """
    escape = markupsafe.escape
    items = []
    for name in names:
        shown = readable.get(name)
        after = f' <span class="muted">→ {escape(shown)}</span>' if shown else ""
        items.append(f"<li>{escape(name)}{after}</li>")
    return markupsafe.Markup("".join(items))  # noqa: S704 - escaped above


@functools.lru_cache(maxsize=1 << 17)  # the same std names fill every staticlib's lists
def _mangled(name: str) -> bool:
    return is_mangled_rust(name)


def plain_first(names: Iterable[str]) -> list[str]:
    """C-level names first, then mangled Rust names; each part in its given order."""
    return sorted(names, key=_mangled)


def command_line(command: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """`K=V cargo rustc ...` as one could paste it into a shell."""
    assignments = [f"{key}={shlex.quote(value)}" for key, value in sorted((env or {}).items())]
    return " ".join([*assignments, shlex.join(command)])


def breakable(name: str) -> markupsafe.Markup:
    """`x86_64-unknown-linux-gnu` with a line-break opportunity after each `-`."""
    return markupsafe.Markup("-<wbr>").join(markupsafe.escape(part) for part in name.split("-"))


URL = re.compile(r"https?://[^\s<>\"'`)\]]+")


def links(text: str) -> markupsafe.Markup:
    """`text` escaped, with every http(s) URL in it a link (an upstream issue in a detail)."""
    parts = []
    last = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:")
        end = match.start() + len(url)
        parts.append(markupsafe.escape(text[last : match.start()]))
        parts.append(markupsafe.Markup('<a href="{0}">{0}</a>').format(url))
        last = end
    parts.append(markupsafe.escape(text[last:]))
    return markupsafe.Markup("").join(parts)


def render_index(
    document: ResultsDocument,
    results_dir: Path,
    diff: ResultsDiff | None = None,
    memo: Path | None = None,
) -> str:
    """The whole report: grid, legend, routes, changes since baseline, every cell's detail.

    `memo`: where the cell details of the last run are kept (see orchestrator.report.memo).
    """
    cells = document.cells
    changes = diff.by_id() if diff else {}
    views = {
        record.id: CellView(
            record=as_shown(record),
            anchor=cell_anchor(record.id),
            log=read_log_tail(results_dir, record.log),
            change=changes.get(record.id),
        )
        for record in cells
    }
    details = _cell_details(views.values(), Memo.load(memo))
    done = completeness(document)
    columns = grid_columns(cells, done.missing)
    scenarios = scenario_names(cells, done.missing)
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            document=document,
            provenance=document.provenance,
            summary=document.summary,
            done=done,
            columns=columns,
            grid=_grid(views, columns, scenarios, done.missing),
            scenarios=scenarios,
            scenario_cells={s: [views[r.id] for r in cells if r.scenario == s] for s in scenarios},
            route_cells=_route_cells(cells, columns),
            runners=records_runners(cells),
            releases=_release_sections(document),
            diff=diff,
            removed=diff.of(Change.REMOVED) if diff else (),
            missing=done.missing,
            details=details,
            replayed=Replayed.of(cells),
        )
    )


def _cell_details(views: Iterable[CellView], memo: Memo) -> dict[str, markupsafe.Markup]:
    """Each cell's detail, from the memo where the cell shows what it showed last run."""
    macro = environment().get_template("cell.html.j2").module.cell_detail  # type: ignore[attr-defined]
    # Markup: the macro's own escaped output, or that output as the last run kept it
    details = {
        view.record.id: markupsafe.Markup(  # noqa: S704 - rendered by the template, escaped there
            memo.get(digest("cell", view), functools.partial(_rendered, macro, view))
        )
        for view in views
    }
    memo.save()
    return details


def _rendered(macro: Callable[[CellView], object], view: CellView) -> str:
    return str(macro(view))


# A page's header lists the cells of the smaller side (built or replayed) up to this many.
REPLAYED_LISTED = 40


@dataclass(frozen=True, kw_only=True)
class Replayed:
    """Which cells this run built and which it replayed from the cell cache: a fact of the run,
    said once per page, not in each cell's detail (which stays the same from run to run).
    """

    built: tuple[str, ...]
    cached: tuple[str, ...]

    @classmethod
    def of(cls, cells: Iterable[CellRecord]) -> Replayed:
        ran = [record for record in cells if record.rustc is not None]
        return cls(
            built=tuple(r.id for r in ran if not r.cached),
            cached=tuple(r.id for r in ran if r.cached),
        )

    @property
    def listed(self) -> tuple[str, tuple[str, ...]]:
        """The smaller side, by name (`built` or `replayed`), when short enough to list."""
        side, ids = min((("built", self.built), ("replayed", self.cached)), key=lambda s: len(s[1]))
        return (side, ids) if 0 < len(ids) <= REPLAYED_LISTED else ("", ())


@dataclass(frozen=True, kw_only=True)
class TargetSpan:
    target: str
    short: str
    width: int


@dataclass(frozen=True, kw_only=True)
class GridGroup:
    """One toolchain's columns in the grid, or the one column it collapses to."""

    toolchain: str
    stand_in: bool
    columns: tuple[Column, ...]
    targets: tuple[TargetSpan, ...]
    collapsed: Collapsed | None


@dataclass(frozen=True, kw_only=True)
class Grid:
    groups: tuple[GridGroup, ...]
    rows: tuple[tuple[str, tuple[markupsafe.Markup, ...]], ...]  # scenario, its expanded cells


def _grid(
    views: Mapping[str, CellView],
    columns: Sequence[Column],
    scenarios: Sequence[str],
    missing: Sequence[str],
) -> Grid:
    place = {(v.record.scenario, v.record.column): v for v in views.values()}
    lacking = missing_places(missing)
    groups = []
    for toolchain, members in itertools.groupby(columns, key=lambda c: c.toolchain):
        group = tuple(members)
        keys = {c.key for c in group}
        records = [v.record for (s, k), v in place.items() if k in keys]
        quiet = None if any(k in keys for _, k in lacking) else collapsed_toolchain(records)
        targets = [
            TargetSpan(target=target, short=short_target(target), width=len(list(same)))
            for target, same in itertools.groupby(group, key=lambda c: c.target)
        ]
        groups.append(
            GridGroup(
                toolchain=toolchain,
                stand_in=any(c.stand_in for c in group),
                columns=group,
                targets=tuple(targets),
                collapsed=quiet,
            )
        )
    shown = [c for g in groups if g.collapsed is None for c in g.columns]
    rows = tuple(
        (
            scenario,
            tuple(
                _grid_cell(place.get((scenario, c.key)), missing=(scenario, c.key) in lacking)
                for c in shown
            ),
        )
        for scenario in scenarios
    )
    return Grid(groups=tuple(groups), rows=rows)


def _grid_cell(view: CellView | None, *, missing: bool) -> markupsafe.Markup:
    """One grid square: the verdict's symbol, the reason in a word, a link to the detail."""
    if view is None:
        if missing:
            return markupsafe.Markup(
                '<td class="missing-cell" title="planned, but no result: the run stopped '
                'first or its shard is missing">?<small>no result</small></td>'
            )
        return markupsafe.Markup('<td class="empty" title="not in this run"></td>')
    record = view.record
    title = f"{record.id}: {record.why}"
    badge = ""
    if view.change is not None and view.change.change is not Change.UNCHANGED:
        badge = markupsafe.Markup(
            '<span class="chg chg-{}" title="since the baseline: {}">{}</span>'
        ).format(view.change.change.value, view.change.transition, view.change.change.label)
    if record.status is Status.NOT_APPLICABLE:
        return markupsafe.Markup('<td class="na"><a href="#{}" title="{}">–</a>{}</td>').format(
            view.anchor, title, badge
        )
    return markupsafe.Markup(
        '<td class="v v-{}"><a href="#{}" title="{}">{}<small>{}</small></a>{}</td>'
    ).format(
        record.status.value, view.anchor, title, symbol(record.status), short_word(record), badge
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioReleases:
    """One scenario's release changes: those worth a row, and those of bulk names only."""

    scenario: str
    rows: tuple[tuple[PlaceDiff, ReleaseChange], ...]
    bulk: tuple[tuple[PlaceDiff, ReleaseChange], ...]


@dataclass(frozen=True, kw_only=True)
class ReleaseSections:
    """The release comparison of the HTML: per scenario, the places whose releases differ."""

    scenarios: tuple[ScenarioReleases, ...]
    differing: int  # places
    identical: tuple[PlaceDiff, ...]

    @property
    def places(self) -> int:
        return self.differing + len(self.identical)


def _release_sections(document: ResultsDocument) -> ReleaseSections:
    diffs = release_diffs(document)
    by_scenario: dict[str, list[PlaceDiff]] = {}
    for diff in diffs:
        if diff.differs:
            by_scenario.setdefault(diff.scenario, []).append(diff)

    def place_order(diff: PlaceDiff) -> tuple[int, str, str]:
        return (toolchain_rank(diff.toolchain), diff.toolchain, diff.target)

    scenarios = []
    for scenario, places in sorted(by_scenario.items()):
        changes = [
            (place, change)
            for place in sorted(places, key=place_order)
            for change in place.changes
            if not change.empty
        ]
        scenarios.append(
            ScenarioReleases(
                scenario=scenario,
                rows=tuple((p, c) for p, c in changes if not c.bulk_only),
                bulk=tuple((p, c) for p, c in changes if c.bulk_only),
            )
        )
    return ReleaseSections(
        scenarios=tuple(scenarios),
        differing=sum(len(places) for places in by_scenario.values()),
        identical=tuple(diff for diff in diffs if not diff.differs),
    )


def name_summary(names: Iterable[str]) -> NameSummary:
    """A list of names for the page: plain ones (up to NAMES_SHOWN), the bulk counted."""
    return summarize_names(names, limit=RELEASE_NAMES_SHOWN)


def _route_cells(
    cells: Iterable[CellRecord], columns: Iterable[Column]
) -> dict[str, CellRecord | None]:
    """Per column, one cell that ran (it knows rustc and the linker version), if any did."""
    ran: dict[str, CellRecord | None] = {c.key: None for c in columns}
    for record in cells:
        if ran.get(record.column) is None and record.rustc is not None:
            ran[record.column] = record
    return ran


def render_symbol_page(document: ResultsDocument, scenario: str, memo: Path | None = None) -> str:
    """One scenario's exported names, side by side across toolchains.

    `memo`: where this page is kept from the last run, with a placeholder for the run's id
    (see orchestrator.report.memo): rendered again only when its cells show something new.
    """
    done = completeness(document)
    cells = tuple(as_shown(r) for r in document.cells if r.scenario == scenario)
    shown = dataclasses.replace(
        document, cells=cells, provenance=dataclasses.replace(document.provenance, run_id=RUN_ID)
    )
    key = digest("symbols", scenario, cells, document.provenance.orchestrator, done.headline)
    kept = Memo.load(memo)
    page = kept.get(key, functools.partial(_symbol_page, shown, scenario, done))
    kept.save()
    return page.replace(RUN_ID, str(markupsafe.escape(document.provenance.run_id)))


def _symbol_page(document: ResultsDocument, scenario: str, done: Completeness) -> str:
    table = symbol_table(document, scenario)
    return (
        environment()
        .get_template("symbols.html.j2")
        .render(provenance=document.provenance, table=table, body=symbol_rows(table), done=done)
    )
