"""matrix.md: scenarios × (toolchain, target), a legend, then what failed and why."""

from __future__ import annotations

from typing import Any

from orchestrator.report.grid import column_of
from orchestrator.report.symbols import MEANINGS, SYMBOLS, symbol
from orchestrator.results.release_diff import release_diffs, render_release_diff
from orchestrator.status import Status

__all__ = ["column_of", "render_markdown"]

DETAIL_LINES = 30


def render_markdown(document: dict[str, Any]) -> str:
    """The whole Markdown view of one results document."""
    cells: list[dict[str, Any]] = document["cells"]
    columns = list(dict.fromkeys(column_of(r) for r in cells))
    scenarios = sorted({r["scenario"] for r in cells})
    by_place = {(r["scenario"], column_of(r)): r for r in cells}
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


def _mark(record: dict[str, Any] | None) -> str:
    if record is None:
        return " "
    return f"{symbol(record['status'])} {record['status']}"


def _provenance(document: dict[str, Any]) -> str:
    provenance = document["provenance"]
    return (
        f"{provenance['orchestrator']} on {provenance['host']}, started {provenance['started']}, "
        f"finished {provenance['finished'] or '(unfinished)'}."
    )


def _counts(document: dict[str, Any]) -> str:
    counts = document["summary"]
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no cells"


def _toolchains(cells: list[dict[str, Any]]) -> str:
    rows = ["| column | rustc | linker | libraries | stand-in |", "|---|---|---|---|---|"]
    seen: set[str] = set()
    for record in cells:
        column = column_of(record)
        if column in seen or record["rustc"] is None:
            continue
        seen.add(column)
        route = record["route"]
        rows.append(
            f"| `{column}` | {record['rustc']} | {record['linker']['name']}: "
            f"{record['linker']['version']} | {route['libraries']} | "
            f"{'yes: not the vendor libraries' if route['stand_in'] else 'no'} |"
        )
    return "\n".join(["## Toolchains", "", *rows, ""])


def _problems(cells: list[dict[str, Any]]) -> list[str]:
    bad = [r for r in cells if r["status"] in (Status.FAIL, Status.ERROR, Status.XPASS)]
    if not bad:
        return []
    lines = ["## Failing and erroring cells", ""]
    for record in bad:
        detail = "\n".join(record["detail"].splitlines()[-DETAIL_LINES:])
        lines += [
            (
                f"### {symbol(record['status'])} `{record['id']}`: {record['status']} "
                f"({record['reason']})"
            ),
            "",
            "```text",
            detail,
            "```",
            "",
        ]
        if record.get("log"):
            lines += [f"Full build log: `{record['log']}`", ""]
    return lines
