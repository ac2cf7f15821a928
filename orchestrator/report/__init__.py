"""Views rendered from results.json: each one is a pure function of the results document.

`write_views` writes them all beside results.json: matrix.md, index.html, symbols/<scenario>.html
and summary.md (for a CI step summary); with a baseline document, the HTML and the summary show
what changed since it (see orchestrator.results.diff).
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
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
# From this many cells on, the pages are rendered by two processes: a whole matrix's index and
# symbol pages took 3 s of a warm re-run on one core while the other sat idle. Below it, the
# start of the processes would cost more than it saves.
PARALLEL_FROM_CELLS = 100

Page = tuple[Path, Callable[[], str]]


def write_views(
    document: ResultsDocument,
    out_dir: Path,
    baseline: ResultsDocument | None = None,
    report_url: str | None = None,
    alongside: Callable[[], None] | None = None,
    *,
    memo_dir: Path | None = None,
) -> list[Path]:
    """Write every view of `document` into `out_dir` (where its results.json is); their paths.

    Build logs are read from `out_dir` (each cell's `log` is relative to it). `report_url`:
    where `out_dir` will be published, for summary.md's links (a CI step summary is read
    elsewhere than the report). `alongside`: the parent's own work while the views render
    (the run's results.json: a second of encoding that need not wait for them). `memo_dir`:
    where the HTML pages keep what they rendered for the next run (orchestrator.report.memo;
    None: render everything).
    """
    memo = functools.partial(_memo_file, memo_dir)
    diff = diff_results(baseline, document) if baseline is not None else None
    pages: list[Page] = [  # the biggest first: two processes then finish together
        (
            out_dir / INDEX_HTML,
            functools.partial(render_index, document, out_dir, diff, memo("index")),
        ),
        (out_dir / MATRIX_MD, functools.partial(render_markdown, document)),
        (out_dir / SUMMARY_MD, functools.partial(render_step_summary, document, diff, report_url)),
    ]
    for scenario in scenario_names(document.cells):
        path = out_dir / SYMBOL_PAGES / f"{page_name(scenario)}.html"
        render = functools.partial(
            render_symbol_page, document, scenario, memo(f"symbols-{page_name(scenario)}")
        )
        pages.append((path, render))
    parallel = len(document.cells) >= PARALLEL_FROM_CELLS and (os.cpu_count() or 1) > 1
    write_pages(pages, processes=2 if parallel else 1, alongside=alongside)
    return [path for path, _ in pages]


def _memo_file(memo_dir: Path | None, page: str) -> Path | None:
    return memo_dir / f"{page}.json" if memo_dir is not None else None


_PAGES: list[Page] = []  # what forked workers render: inherited, never pickled


def write_pages(
    pages: Sequence[Page], *, processes: int, alongside: Callable[[], None] | None = None
) -> None:
    """Render and write `pages`; with 2 processes, in forked children sharing the document,
    while this process does `alongside`.

    A child's error (a page that cannot be written) is raised here, as it would be in one.
    """
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        if alongside is not None:
            alongside()
        for page in pages:
            _write(page)
        return
    _PAGES[:] = pages
    # The document's millions of objects, frozen out of the collector's reach: a collection in
    # a child (rendering allocates a lot) would otherwise walk them all and write to each one's
    # page, copying the parent's memory page by page; in the parent, encoding results.json
    # meanwhile would walk them too (the Python documentation's advice for fork without exec).
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            rendering = [pool.submit(_write_nth, n) for n in range(len(pages))]
            if alongside is not None:
                alongside()
            for done in rendering:
                done.result()
    finally:
        _PAGES.clear()
        gc.unfreeze()


def _write_nth(number: int) -> None:
    _write(_PAGES[number])


def _write(page: Page) -> None:
    path, render = page
    text = render()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
