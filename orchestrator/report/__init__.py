"""Views rendered from results.json: each one is a pure function of the results document.

`write_views` writes them all beside results.json: matrix.md, index.html, symbols/<scenario>.html
and summary.md (for a CI step summary); with a baseline document, the HTML and the summary show
what changed since it (see orchestrator.results.diff).
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.report.grid import page_name, scenario_names
from orchestrator.report.html import SYMBOL_PAGES, render_index, render_symbol_page
from orchestrator.report.markdown import render_markdown
from orchestrator.report.summary import render_step_summary
from orchestrator.results.diff import diff_results
from orchestrator.results.model import ResultsDocument

MATRIX_MD = "matrix.md"
INDEX_HTML = "index.html"
SUMMARY_MD = "summary.md"


def write_views(
    document: ResultsDocument,
    out_dir: Path,
    baseline: ResultsDocument | None = None,
    report_url: str | None = None,
) -> list[Path]:
    """Write every view of `document` into `out_dir` (where its results.json is); their paths.

    Build logs are read from `out_dir` (each cell's `log` is relative to it). `report_url`:
    where `out_dir` will be published, for summary.md's links (a CI step summary is read
    elsewhere than the report).
    """
    diff = diff_results(baseline, document) if baseline is not None else None
    pages: dict[Path, str] = {
        out_dir / MATRIX_MD: render_markdown(document),
        out_dir / INDEX_HTML: render_index(document, out_dir, diff),
        out_dir / SUMMARY_MD: render_step_summary(document, diff, report_url),
    }
    for scenario in scenario_names(document.cells):
        path = out_dir / SYMBOL_PAGES / f"{page_name(scenario)}.html"
        pages[path] = render_symbol_page(document, scenario)
    for path, text in pages.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(pages)
