"""matrix.md: scenarios × (toolchain, target), a legend, then what failed and why."""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.report.symbols import MEANINGS, SYMBOLS, symbol
from orchestrator.results.model import CellRecord, ResultsDocument
from orchestrator.results.release_diff import release_diffs, render_release_diff
from orchestrator.status import Status

__all__ = ["render_markdown"]

DETAIL_LINES = 30


def render_markdown(document: ResultsDocument) -> str:
    """The whole Markdown view of one results document."""
    cells = document.cells
    columns = list(dict.fromkeys(r.column for r in cells))
    scenarios = sorted({r.scenario for r in cells})
    by_place = {(r.scenario, r.column): r for r in cells}
    lines = ["# linkmatrix results", "", _provenance(document), "", _counts(document), ""]
    lines += [
        "| scenario | " + " | ".join(f"`{c}`" for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for scenario in scenarios:
        marks = [_mark(by_place.get((scenario, c))) for c in columns]
        lines.append(f"| {scenario} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "**Legend:** " + " · ".join(f"{SYMBOLS[s]} {s.value}: {MEANINGS[s]}" for s in Status),
        "",
        _toolchains(cells),
    ]
    lines += render_release_diff(release_diffs(document))
    lines += _problems(cells)
    return "\n".join(lines).rstrip() + "\n"


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
    rows = ["| column | rustc | linker | libraries | stand-in |", "|---|---|---|---|---|"]
    seen: set[str] = set()
    for record in cells:
        if record.column in seen or record.rustc is None:
            continue
        seen.add(record.column)
        route = record.route
        rows.append(
            f"| `{record.column}` | {record.rustc} | {record.linker.name}: "
            f"{record.linker.version} | {route.libraries} | "
            f"{'yes: not the vendor libraries' if route.stand_in else 'no'} |"
        )
    return "\n".join(["## Toolchains", "", *rows, ""])


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
            "```text",
            detail,
            "```",
            "",
        ]
        if record.log:
            lines += [f"Full build log: `{record.log}`", ""]
    return lines
