"""The HTML views' memo: a warm re-run reuses what the last run rendered, and only that."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from orchestrator.report import INDEX_HTML, write_views
from orchestrator.report.grid import page_name
from orchestrator.report.html import SYMBOL_PAGES
from orchestrator.results.model import ResultsDocument
from tests.unit.test_schema import SAMPLE, load_sample

MARK = "<p>kept from the last run</p>"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The sample's results folder (its logs are read for the failing cells' tails)."""
    shutil.copytree(SAMPLE.parent, tmp_path / "report")
    return tmp_path / "report"


def mark_every_fragment(memo: Path) -> None:
    """Put MARK in place of every fragment the memo holds: what is reused shows it."""
    for path in memo.glob("*.json"):
        kept = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(dict.fromkeys(kept, MARK)), encoding="utf-8")


def replayed(document: ResultsDocument) -> ResultsDocument:
    """The same document as a warm re-run makes it: every cell cached, another run id."""
    return dataclasses.replace(
        document,
        cells=tuple(dataclasses.replace(c, cached=c.rustc is not None) for c in document.cells),
        provenance=dataclasses.replace(document.provenance, run_id="warm-run"),
    )


def test_a_warm_rerun_reuses_every_fragment_and_says_once_what_it_replayed(
    folder: Path, tmp_path: Path
) -> None:
    document = load_sample()
    write_views(document, folder, memo_dir=tmp_path / "memo")
    cold = (folder / INDEX_HTML).read_text(encoding="utf-8")
    mark_every_fragment(tmp_path / "memo")
    write_views(replayed(document), folder, memo_dir=tmp_path / "memo")
    index = (folder / INDEX_HTML).read_text(encoding="utf-8")
    built = sum(c.rustc is not None for c in document.cells)
    assert index.count(MARK) == len(document.cells)  # every cell's detail reused
    assert f"built {built} cells and replayed 0" in cold
    assert f"built 0 cells and replayed {built}" in index
    scenario = document.cells[0].scenario
    page = (folder / SYMBOL_PAGES / f"{page_name(scenario)}.html").read_text(encoding="utf-8")
    assert page == MARK  # the whole page reused; its run id is the placeholder's to fill


def test_the_run_id_is_filled_in_a_kept_symbol_page(folder: Path, tmp_path: Path) -> None:
    document = load_sample()
    write_views(document, folder, memo_dir=tmp_path / "memo")
    write_views(replayed(document), folder, memo_dir=tmp_path / "memo")
    scenario = document.cells[0].scenario
    page = (folder / SYMBOL_PAGES / f"{page_name(scenario)}.html").read_text(encoding="utf-8")
    assert "run <code>warm-run</code>" in page
    assert "\x00" not in page and document.provenance.run_id not in page


def test_a_changed_cell_is_rendered_again_with_its_scenarios_page_only(
    folder: Path, tmp_path: Path
) -> None:
    document = load_sample()
    write_views(document, folder, memo_dir=tmp_path / "memo")
    mark_every_fragment(tmp_path / "memo")
    changed = document.cells[0]
    edited = dataclasses.replace(changed, detail="an edited detail, shown at once")
    cells = (edited, *document.cells[1:])
    write_views(dataclasses.replace(document, cells=cells), folder, memo_dir=tmp_path / "memo")
    index = (folder / INDEX_HTML).read_text(encoding="utf-8")
    assert "an edited detail, shown at once" in index
    assert index.count(MARK) == len(document.cells) - 1
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (folder / SYMBOL_PAGES).iterdir()}
    assert pages.pop(page_name(changed.scenario)) != MARK
    assert all(page == MARK for page in pages.values())


def test_a_damaged_memo_costs_a_render_and_changes_nothing(folder: Path, tmp_path: Path) -> None:
    document = load_sample()
    write_views(document, folder)
    expected = {p: p.read_bytes() for p in folder.rglob("*.html")}
    memo = tmp_path / "memo"
    memo.mkdir()
    (memo / "index.json").write_text("{not json", encoding="utf-8")
    (memo / f"symbols-{page_name(document.cells[0].scenario)}.json").write_text("[1]")
    write_views(document, folder, memo_dir=memo)
    assert {p: p.read_bytes() for p in folder.rglob("*.html")} == expected
    assert json.loads((memo / "index.json").read_text(encoding="utf-8"))  # rewritten whole


def test_the_memo_keeps_only_what_the_last_run_used(folder: Path, tmp_path: Path) -> None:
    document = load_sample()
    write_views(document, folder, memo_dir=tmp_path / "memo")
    fewer = dataclasses.replace(document, cells=document.cells[:3])
    write_views(fewer, folder, memo_dir=tmp_path / "memo")
    kept = json.loads((tmp_path / "memo" / "index.json").read_text(encoding="utf-8"))
    assert len(kept) == 3
