"""summary.md: what a CI job's step summary shows, most urgent first.

1. A headline: planned against present cells (`incomplete: N of M cells` when so), the
   verdict counts, the run, and the link to the published report when it is known.
2. With a baseline: the cells that regressed, then the other changes (folded).
3. The failing cells (fail, error, xpass) with their reason and why: for a failed link the
   linker's own first error line, not rustc's "linking with `cc` failed".
4. A table per toolchain and release: how many cells of each verdict, and without a result.
5. The planned cells without a result, and the link to the report again.

GitHub caps a step summary at 1 MiB: every list stops at MAX_ROWS rows and says how many it
left out, and no table cell is longer than CELL_TEXT_LIMIT characters, so a whole matrix with
every cell regressed stays far below it (tests/unit/test_step_summary.py measures it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from orchestrator.report.grid import cell_anchor
from orchestrator.report.symbols import symbol
from orchestrator.results.completeness import Completeness, completeness
from orchestrator.results.diff import CellChange, Change, ResultsDiff
from orchestrator.results.model import CellRecord, ResultsDocument
from orchestrator.status import Status

# beyond these many rows a list says how many it left out (the HTML report has them all)
MAX_ROWS = 100
CELL_TEXT_LIMIT = 300
# the per-toolchain table's columns: every verdict, bad ones first after pass
TABLE_STATUSES = (
    Status.PASS,
    Status.XFAIL,
    Status.FAIL,
    Status.ERROR,
    Status.XPASS,
    Status.SKIP,
    Status.NOT_APPLICABLE,
)
NO_RESULT = "no result"


def render_step_summary(
    document: ResultsDocument, diff: ResultsDiff | None = None, report_url: str | None = None
) -> str:
    """Markdown for `$GITHUB_STEP_SUMMARY`; `report_url`: where the HTML report is published."""
    done = completeness(document)
    links = _Links(report_url)
    lines = ["## linkmatrix", "", *_headline(document, done, links)]
    if diff is not None:
        lines += _regressions(diff, links)
        lines += _other_changes(diff, links)
    lines += _failing(document.cells, links, incomplete=done.incomplete)
    lines += _per_toolchain(document.cells, done.missing)
    if done.missing:
        lines += [f"### Planned, without a result ({len(done.missing)})", ""]
        lines += [f"- `{cell_id}`" for cell_id in done.missing[:MAX_ROWS]]
        lines += [*_left_out(len(done.missing)), ""]
    lines += links.footer()
    return "\n".join(lines).rstrip() + "\n"


class _Links:
    """Links into the published report, when its address is known."""

    def __init__(self, report_url: str | None) -> None:
        # a page's address as given; a folder's gets its index page (Pages serves it at `/`)
        self.page = None
        if report_url:
            self.page = report_url if report_url.endswith(".html") else report_url.rstrip("/") + "/"

    def cell(self, cell_id: str) -> str:
        """The cell's id in code, linked to its detail in the report when there is one."""
        if self.page is None:
            return f"`{cell_id}`"
        return f"[`{cell_id}`]({self.page}#{cell_anchor(cell_id)})"

    def headline(self) -> str:
        return f" · [full report]({self.page})" if self.page else ""

    def footer(self) -> list[str]:
        if self.page is None:
            return [
                (
                    "The HTML report (index.html beside results.json) has every cell's detail, "
                    "its build log's tail and the symbol pages."
                )
            ]
        return [
            (
                f"**Full report: {self.page}** (every cell's detail, its build log's tail, "
                "the symbol pages)."
            )
        ]


def _headline(document: ResultsDocument, done: Completeness, links: _Links) -> list[str]:
    counts = document.summary
    verdicts = " · ".join(f"{symbol(s)} {counts[s]} {s.value}" for s in Status if counts.get(s))
    made = document.provenance
    run = f"run `{made.run_id}`, finished {made.finished or '(unfinished)'}"
    lines = [f"> **⚠ {done.sentence()}.**", ""] if done.incomplete else []
    return [
        *lines,
        f"**{done.headline}** · **{verdicts or 'no cells'}** ({run}){links.headline()}",
        "",
    ]


def _regressions(diff: ResultsDiff, links: _Links) -> list[str]:
    regressed = diff.of(Change.REGRESSED)
    said = f"Baseline: {diff.old_run}. {diff.summary_line()}."
    if not regressed:
        return ["### No regression since the baseline", "", said, ""]
    lines = [f"### ❗ Regressed since the baseline ({len(regressed)})", "", said, ""]
    lines += ["| cell | before → now | why |", "|---|---|---|"]
    lines += [
        f"| {links.cell(c.id)} | {_text(c.transition)} | {_text(c.detail)} |"
        for c in regressed[:MAX_ROWS]
    ]
    return [*lines, *_left_out(len(regressed)), ""]


def _other_changes(diff: ResultsDiff, links: _Links) -> list[str]:
    """Every other change (fixed, still failing, missing, new, ...), folded: one click away."""
    others = [c for c in diff.notable() if c.change is not Change.REGRESSED]
    if not others:
        return []
    counted = Counter(c.change for c in others)
    said = ", ".join(f"{counted[change]} {change.label}" for change in Change if counted[change])
    lines = [
        f"<details><summary>Other changes since the baseline: {said}</summary>",
        "",
        "| change | cell | before → now | why |",
        "|---|---|---|---|",
    ]
    lines += [_change_row(c, links) for c in others[:MAX_ROWS]]
    return [*lines, *_left_out(len(others)), "", "</details>", ""]


def _change_row(change: CellChange, links: _Links) -> str:
    return (
        f"| {change.change.label} | {links.cell(change.id)} | {_text(change.transition)} | "
        f"{_text(change.detail)} |"
    )


def _failing(cells: Sequence[CellRecord], links: _Links, *, incomplete: bool) -> list[str]:
    bad = [r for r in cells if not r.status.ok]
    if not bad:
        which = "with a result " if incomplete else ""
        return [f"Every cell {which}is pass, xfail, skip or not-applicable.", ""]
    lines = [
        f"### Failing cells ({len(bad)}: fail, error, xpass)",
        "",
        "| cell | verdict | reason | why |",
        "|---|---|---|---|",
    ]
    for record in bad[:MAX_ROWS]:
        reason = record.reason.value if record.reason else ""
        lines.append(
            f"| {links.cell(record.id)} | {symbol(record.status)} {record.status.value} | "
            f"{reason} | {_text(record.why)} |"
        )
    return [*lines, *_left_out(len(bad)), ""]


def _per_toolchain(cells: Sequence[CellRecord], missing: Sequence[str]) -> list[str]:
    """Verdicts per (toolchain, release), and the planned cells without a result."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for record in cells:
        counts.setdefault((record.toolchain, record.release), Counter())[record.status.value] += 1
    default = _default_release(cells)
    for cell_id in missing:
        counts.setdefault(_place_of(cell_id, default), Counter())[NO_RESULT] += 1
    if not counts:
        return []
    columns = [s.value for s in TABLE_STATUSES] + ([NO_RESULT] if missing else [])
    heads = [f"{symbol(s)} {s.value}" for s in TABLE_STATUSES] + (["? no result"] * bool(missing))
    lines = [
        "### Per toolchain and release",
        "",
        "| toolchain | release | " + " | ".join(heads) + " |",
        "|---|---|" + "---:|" * len(columns),
    ]
    # by toolchain, each one's default release first (the grid's order of columns)
    for toolchain, release in sorted(counts, key=lambda p: (p[0], p[1] != default, p[1])):
        counted = counts[toolchain, release]
        numbers = " | ".join(str(counted[c]) if counted[c] else "·" for c in columns)
        lines.append(f"| {toolchain} | {release} | {numbers} |")
    total: Counter[str] = sum(counts.values(), Counter())
    lines.append("| **all** | | " + " | ".join(f"**{total[c]}**" for c in columns) + " |")
    return [*lines, ""]


def _default_release(cells: Sequence[CellRecord]) -> str:
    """The release a cell id without `@release` is of (the matrix's default), as cells show it."""
    return next((r.release for r in cells if "@" not in r.column), "default")


def _place_of(cell_id: str, default_release: str) -> tuple[str, str]:
    """(toolchain, release) of a planned cell without a result: it has its id only.

    An id reads `toolchain[@release]/target/scenario`; no toolchain or release holds a `/`.
    """
    toolchain, _, release = cell_id.split("/", 1)[0].partition("@")
    return toolchain, release or default_release


def _left_out(total: int) -> list[str]:
    if total <= MAX_ROWS:
        return []
    return ["", f"… and {total - MAX_ROWS} more: see the HTML report or matrix.md."]


def _text(text: str, limit: int = CELL_TEXT_LIMIT) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped, not too long."""
    one_line = " ".join(text.split()).replace("|", "\\|")
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
