"""The views of a whole matrix stay readable and light (issue 13, items 2-4).

tests/unit/full_matrix.py makes a document shaped like the whole matrix and heavier than the
real catalogue (its largest symbol page weighed 4.5 MB before the pages were folded, the real
one's 1.45 MB): every symbol page must stay under 500 KB, with the noise folded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.report import write_views
from orchestrator.report.symbol_table import NOISE_LISTED, SQUARES_MAX, symbol_table
from orchestrator.results.model import ResultsDocument
from tests.unit.full_matrix import full_matrix

PAGE_LIMIT = 500_000  # bytes: no symbol page over this for the current catalogue
LINE_LIMIT = 400  # characters: matrix.md lists names one per line


@pytest.fixture(scope="module")
def document() -> ResultsDocument:
    return full_matrix()


@pytest.fixture(scope="module")
def views(document: ResultsDocument, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full")
    write_views(document, out)
    return out


def test_the_fixture_is_the_whole_matrix(document: ResultsDocument) -> None:
    assert len(document.cells) == 442
    assert {c.status.value for c in document.cells} == {
        "pass",
        "fail",
        "xfail",
        "xpass",
        "skip",
        "not-applicable",
        "error",
    }


def test_no_symbol_page_is_over_500_kb(views: Path) -> None:
    pages = sorted((views / "symbols").glob("*.html"))
    assert len(pages) == 17
    sizes = {page.name: page.stat().st_size for page in pages}
    largest = max(sizes, key=sizes.__getitem__)
    assert sizes[largest] < PAGE_LIMIT, f"{largest}: {sizes[largest]} bytes"
    assert sum(sizes.values()) < 17 * PAGE_LIMIT / 4  # the whole set, a few MB at most


def test_llvm_internal_names_are_folded_and_counted(document: ResultsDocument, views: Path) -> None:
    table = symbol_table(document, "staticlib-contents")
    assert table.noise  # the anon.*.llvm.* names of every staticlib
    assert all(".llvm." in item.name or item.name.startswith("anon.") for item in table.noise)
    assert not any(".llvm." in row.name for row in (*table.differing, *table.common))
    page = (views / "symbols" / "staticlib-contents.html").read_text(encoding="utf-8")
    folded = f"<strong>{table.noise_total} LLVM-internal and hash-only names are folded</strong>"
    assert folded in page
    assert len(table.noise) == min(table.noise_total, NOISE_LISTED)  # listed up to a limit
    if table.noise_total > NOISE_LISTED:
        assert f"… and {table.noise_total - NOISE_LISTED} more" in page
    assert '<details id="noise"><summary>' in page  # folded by default: no `open`
    assert '<details id="noise" open' not in page


def test_a_page_draws_at_most_its_squares_and_lists_the_rest(document: ResultsDocument) -> None:
    for scenario in ("crt-static-crate-types", "symbol-mangling"):
        table = symbol_table(document, scenario)
        assert len(table.differing) * len(table.columns) <= SQUARES_MAX


def test_symbol_pages_mark_stand_ins_and_keep_headers_in_view(views: Path) -> None:
    page = (views / "symbols" / "cdylib-exports.html").read_text(encoding="utf-8")
    assert 'macos <span class="standin" title="a stand-in route' in page
    assert ".symbols thead { position: sticky; top: 0;" in page
    assert ".symbols td.n, .symbols th.n { position: sticky; left: 0;" in page
    assert "min-width: 22ch" in page  # a readable name column, not 55 px
    detail = "../index.html#cell-glibc_x86_64-unknown-linux-gnu_cdylib-exports"
    assert f'<a href="{detail}" title=' in page  # each column's verdict links to its cell


def test_the_grid_fits_and_says_why_in_a_word(views: Path) -> None:
    html = (views / "index.html").read_text(encoding="utf-8")
    grid = html[html.index('<table class="grid">') : html.index("<h3>Legend</h3>")]
    heads = grid[: grid.index("</thead>")]
    # glibc first, default release first, the SDK routes (all sdk-missing) collapsed
    assert heads.index(">glibc<") < heads.index(">musl<") < heads.index(">ptx<")
    assert heads.index('title="glibc/x86_64-unknown-linux-gnu">1.96') < heads.index(
        'title="glibc@1.85/x86_64-unknown-linux-gnu">1.85'
    )
    assert heads.count("collapsed-head") == 2
    assert grid.count('class="collapsed v-skip"') == 2
    assert "all 34 cells skip: sdk-missing" in grid
    assert "all 68 cells skip: sdk-missing" in grid
    assert "<small>link</small>" in grid  # the reason, without hovering
    assert ".grid thead { position: sticky; top: 0;" in html
    assert ".grid th.scenario { position: sticky; left: 0;" in html
    # 26 release columns less the 6 collapsed: 20 squares and 2 collapsed columns per row
    body = grid[grid.index("<tbody>") :]
    first_row = body[: body.index("</tr>")]
    assert first_row.count("<td") == 22


def test_release_comparison_in_the_html_one_name_per_line(views: Path) -> None:
    html = (views / "index.html").read_text(encoding="utf-8")
    section = html[html.index('<h2 id="releases">') : html.index('<h2 id="routes">')]
    assert '<h3 id="releases-staticlib-contents">staticlib-contents</h3>' in section
    assert "compiler-rt builtin names" in section or "mangled Rust names" in section
    assert "<li>answer</li>" in section or "status:" in section
    assert '<a href="#cell-glibc_1.85_x86_64-unknown-linux-gnu_' in section
    matrix = (views / "matrix.md").read_text(encoding="utf-8")
    prose = [line for line in matrix.splitlines() if not line.startswith("|")]  # not the grid
    longest = max(prose, key=len)
    assert len(longest) < LINE_LIMIT, longest[:200]
