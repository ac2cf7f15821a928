"""summary.md: what a CI job's step summary shows: verdict counts, regressions, failing cells."""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.report.symbols import symbol
from orchestrator.results.completeness import completeness
from orchestrator.results.diff import Change, ResultsDiff
from orchestrator.results.model import CellRecord, ResultsDocument
from orchestrator.status import Status

# A step summary is capped at 1 MiB; beyond these many rows a table says how many it left out.
MAX_ROWS = 100


def render_step_summary(document: ResultsDocument, diff: ResultsDiff | None = None) -> str:
    """Markdown for `$GITHUB_STEP_SUMMARY`."""
    counts = document.summary
    provenance = document.provenance
    verdicts = " · ".join(f"{symbol(s)} {counts[s]} {s.value}" for s in Status if counts.get(s))
    run = f"run `{provenance.run_id}`, finished {provenance.finished or '(unfinished)'}"
    done = completeness(document)
    lines = ["## linkmatrix", ""]
    if done.incomplete:
        lines += [f"> **⚠ {done.sentence()}.**", ""]
    lines += [f"**{verdicts or 'no cells'}** ({len(document.cells)} cells; {run})", ""]
    if diff is not None:
        lines += _changes(diff)
    lines += _failing(document.cells, incomplete=done.incomplete)
    if done.missing:
        lines += ["", f"### Planned, without a result ({len(done.missing)})", ""]
        lines += [f"- `{cell_id}`" for cell_id in done.missing[:MAX_ROWS]]
        lines += _left_out(len(done.missing))
    return "\n".join(lines).rstrip() + "\n"


def _changes(diff: ResultsDiff) -> list[str]:
    lines = ["### Since the baseline", "", f"Baseline: {diff.old_run}. {diff.summary_line()}.", ""]
    moved = diff.notable()
    if not moved:
        return [*lines, "No cell changed its status.", ""]
    lines += ["| change | cell | before → now | detail |", "|---|---|---|---|"]
    for item in moved[:MAX_ROWS]:
        label = f"**{item.change.label}**" if item.change is Change.REGRESSED else item.change.label
        lines.append(
            f"| {label} | `{item.id}` | {_cell_text(item.transition)} | {_cell_text(item.detail)} |"
        )
    return [*lines, *_left_out(len(moved)), ""]


def _failing(cells: Sequence[CellRecord], *, incomplete: bool) -> list[str]:
    bad = [r for r in cells if not r.status.ok]
    if not bad:
        if incomplete:
            return ["Every cell with a result is pass, xfail, skip or not-applicable."]
        return ["Every cell is pass, xfail, skip or not-applicable."]
    lines = [
        f"### Failing cells ({len(bad)}: fail, error, xpass)",
        "",
        "| cell | verdict | reason | detail |",
        "|---|---|---|---|",
    ]
    for record in bad[:MAX_ROWS]:
        detail = next((line for line in record.detail.splitlines() if line.strip()), "")
        reason = record.reason.value if record.reason else ""
        lines.append(
            f"| `{record.id}` | {symbol(record.status)} {record.status.value} | "
            f"{reason} | {_cell_text(detail)} |"
        )
    return [*lines, *_left_out(len(bad))]


def _left_out(total: int) -> list[str]:
    if total <= MAX_ROWS:
        return []
    return ["", f"… and {total - MAX_ROWS} more: see the HTML report or matrix.md."]


def _cell_text(text: str, limit: int = 300) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped, not too long."""
    one_line = " ".join(text.split()).replace("|", "\\|")
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
