"""matrix.md: scenarios × (toolchain, target), a legend, where the releases differ, what failed
and why, and which known upstream failures (xfail) the matrix expects.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.report.grid import grid_columns, missing_places, scenario_names
from orchestrator.report.symbols import MEANINGS, SYMBOLS, symbol
from orchestrator.results.completeness import completeness
from orchestrator.results.model import (
    CellRecord,
    LinkErrorRecord,
    ResultsDocument,
    RunnerRecord,
    records_runners,
)
from orchestrator.results.release_diff import release_diffs, render_release_diff
from orchestrator.status import CheckOutcome, Status

__all__ = ["render_markdown"]

DETAIL_LINES = 30


def render_markdown(document: ResultsDocument) -> str:
    """The whole Markdown view of one results document."""
    cells = document.cells
    done = completeness(document)
    columns = [column.key for column in grid_columns(cells, done.missing)]
    scenarios = scenario_names(cells, done.missing)
    by_place = {(r.scenario, r.column): r for r in cells}
    lacking = missing_places(done.missing)
    lines = ["# linkmatrix results", ""]
    if done.incomplete:
        lines += [f"> **⚠ {done.sentence()}.** The table holds only the cells with a result.", ""]
    lines += [_provenance(document), "", _counts(document), ""]
    lines += [
        "| scenario | " + " | ".join(f"`{c}`" for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for scenario in scenarios:
        marks = [
            "? no result" if (scenario, c) in lacking else _mark(by_place.get((scenario, c)))
            for c in columns
        ]
        lines.append(f"| {scenario} | " + " | ".join(marks) + " |")
    lines += [
        "",
        # one verdict a line (one paragraph still): the whole legend would be a 500-column line
        "**Legend:** " + " ·\n".join(f"{SYMBOLS[s]} {s.value}: {MEANINGS[s]}" for s in Status),
        "",
        _toolchains(cells),
    ]
    lines += render_release_diff(release_diffs(document))
    lines += _problems(cells)
    lines += _expected_failures(cells)
    if done.missing:
        lines += [f"## Planned, without a result ({len(done.missing)})", ""]
        lines += [f"- `{cell_id}`" for cell_id in done.missing]
    return "\n".join(lines).rstrip() + "\n"


def _expected_failures(cells: Sequence[CellRecord]) -> list[str]:
    """Each xfail cell with the known upstream issue its failing checks name."""
    expected = [r for r in cells if r.status is Status.XFAIL]
    if not expected:
        return []
    lines = ["## Expected failures (xfail: known upstream issues)", ""]
    for record in expected:
        known = {
            (c.xfail_reason or c.detail, c.xfail_link)
            for c in record.checks
            if c.outcome is CheckOutcome.XFAIL
        }
        reasons = "; ".join(
            f"{reason} ({link})" if link else reason for reason, link in sorted(known, key=str)
        )
        lines.append(f"- `{record.id}`: {reasons or _first_line(record.detail)}")
    return [*lines, ""]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _mark(record: CellRecord | None) -> str:
    if record is None:
        return " "
    return f"{symbol(record.status)} {record.status.value}"


def _provenance(document: ResultsDocument) -> str:
    provenance = document.provenance
    return (
        f"{provenance.orchestrator} on {provenance.host}, started {provenance.started}, "
        f"finished {provenance.finished or '(unfinished)'}."
    )


def _counts(document: ResultsDocument) -> str:
    counts = document.summary
    return ", ".join(f"{n} {status.value}" for status, n in counts.items() if n) or "no cells"


def _toolchains(cells: Sequence[CellRecord]) -> str:
    runners = records_runners(cells)
    head = ["column", "rustc", "linker", *(["runner"] if runners else []), "libraries", "stand-in"]
    rows = [_row(head), "|" + "---|" * len(head)]
    seen: set[str] = set()
    for record in cells:
        if record.column in seen or record.rustc is None:
            continue
        seen.add(record.column)
        route = record.route
        rows.append(
            _row(
                [
                    f"`{record.column}`",
                    record.rustc,
                    f"{record.linker.name}: {record.linker.version}",
                    *([_runner(record.runner)] if runners else []),
                    route.libraries,
                    "yes: not the vendor libraries" if route.stand_in else "no",
                ]
            )
        )
    return "\n".join(["## Toolchains", "", *rows, ""])


def _row(items: Sequence[str]) -> str:
    return "| " + " | ".join(items) + " |"


def _runner(runner: RunnerRecord | None) -> str:
    """The runner of a column that ran: its command and the version its probe printed."""
    if runner is None:
        return "none (not run in the cell)"
    command = f"`{' '.join(runner.command)}`"
    return f"{command}: {runner.version}" if runner.version else f"{command} (no version probe)"


def _link_error(error: LinkErrorRecord) -> list[str]:
    """What the linker itself said, above rustc's generic "linking with `cc` failed"."""
    said = f"The linker, building `{error.artifact}` (rustc: {error.message})"
    if not error.lines:
        return [f"{said}: no line of its own recognised, see the log.", ""]
    return [f"{said}:", "", "```text", *error.lines, "```", ""]


def _problems(cells: Sequence[CellRecord]) -> list[str]:
    bad = [r for r in cells if r.status in (Status.FAIL, Status.ERROR, Status.XPASS)]
    if not bad:
        return []
    lines = ["## Failing and erroring cells", ""]
    for record in bad:
        detail = "\n".join(record.detail.splitlines()[-DETAIL_LINES:])
        reason = record.reason.value if record.reason else None
        lines += [
            f"### {symbol(record.status)} `{record.id}`: {record.status.value} ({reason})",
            "",
        ]
        if record.link_error is not None:
            lines += _link_error(record.link_error)
        lines += ["```text", detail, "```", ""]
        if record.log:
            lines += [f"Full build log: `{record.log}`", ""]
    return lines
