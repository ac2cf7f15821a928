"""A run that stopped early, or a merge that lacks a shard, says so everywhere (issue 13, item 1).

results.json records the planned cells and whether the run went through its plan; every view
says "incomplete: N of M cells"; `diff` calls a planned cell without a result *missing* (never
"removed") and, like `merge`, refuses an incomplete input (exit 7) unless --allow-incomplete.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.errors import ResultsError
from orchestrator.report import write_views
from orchestrator.report.html import render_index
from orchestrator.report.markdown import render_markdown
from orchestrator.report.summary import render_step_summary
from orchestrator.results.codec import load_results, stored_data
from orchestrator.results.completeness import completeness
from orchestrator.results.diff import Change, diff_results, render_diff_text
from orchestrator.results.document import ResultsFile, summarize
from orchestrator.results.merge import ShardResults, merge_documents
from orchestrator.results.model import ResultsDocument, Selection
from tests.unit.test_schema import SAMPLE, assert_valid_results, load_sample

FIRST = 5  # the sample's first 5 cells are present in the stopped run


def planned(document: ResultsDocument, *, complete: bool | None = True) -> ResultsDocument:
    """`document` recording its own cells as its plan."""
    made = dataclasses.replace(
        document.provenance, planned=tuple(c.id for c in document.cells), complete=complete
    )
    return dataclasses.replace(document, provenance=made)


def stopped_after(document: ResultsDocument, count: int) -> ResultsDocument:
    """What a run of `document`'s plan stopped after `count` cells wrote."""
    whole = planned(document, complete=False)
    cells = whole.cells[:count]
    return dataclasses.replace(whole, cells=cells, summary=summarize(cells))


def write(path: Path, document: ResultsDocument) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored_data(document)), encoding="utf-8")
    return path


def test_a_stopped_run_records_its_plan_and_that_it_stopped(tmp_path: Path) -> None:
    results = ResultsFile(
        path=tmp_path / "results.json",
        matrix="matrix.yaml",
        selection=Selection(only=(), shard=None),
        run_id="stopped000",
        planned=tuple(c.id for c in load_sample().cells),
    )
    for record in load_sample().cells[:FIRST]:
        results.add(record)
    results.finish(complete=False)
    data = json.loads(results.path.read_text(encoding="utf-8"))
    assert_valid_results(data)
    assert data["provenance"]["complete"] is False
    assert len(data["provenance"]["planned"]) == len(load_sample().cells)
    done = completeness(load_results(results.path))
    assert done.incomplete
    assert done.headline == f"incomplete: {FIRST} of {len(load_sample().cells)} cells"
    assert len(done.missing) == len(load_sample().cells) - FIRST


def test_while_a_run_goes_on_its_file_says_it_is_not_complete(tmp_path: Path) -> None:
    results = ResultsFile(
        path=tmp_path / "results.json",
        matrix="matrix.yaml",
        selection=Selection(only=(), shard=None),
        run_id="running000",
        planned=("a/b/c", "a/b/d"),
    )
    assert results.document().provenance.complete is False
    results.finish()
    assert results.document().provenance.complete is True


def test_a_complete_run_and_an_older_document_read_as_complete() -> None:
    whole = planned(load_sample())
    assert not completeness(whole).incomplete
    assert (
        completeness(whole).headline == f"complete: {len(whole.cells)} of {len(whole.cells)} cells"
    )
    assert not completeness(load_sample()).incomplete  # no plan recorded: nothing says otherwise


def test_every_view_says_incomplete_first(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    shutil.copytree(SAMPLE.parent, folder)
    stopped = stopped_after(load_sample(), FIRST)
    total = len(load_sample().cells)
    headline = f"incomplete: {FIRST} of {total} cells"
    write_views(stopped, folder)
    html = (folder / "index.html").read_text(encoding="utf-8")
    banner = html.index('<p class="incomplete"')
    assert headline in html[banner : html.index("</p>", banner)]
    assert banner < html.index('<h2 id="grid">')
    assert "the run stopped before the end of its plan" in html
    for name in ("matrix.md", "summary.md"):
        text = (folder / name).read_text(encoding="utf-8")
        first_lines = "\n".join(text.splitlines()[:6])
        assert headline in first_lines, name
    summary = render_step_summary(stopped)
    assert "Every cell is pass" not in summary
    assert f"{total - FIRST} planned cells have no result" in summary
    # the grid marks a planned cell with no result as such, not as an empty square
    assert html.count('class="missing-cell"') >= total - FIRST
    assert headline not in render_index(planned(load_sample()), folder)
    assert "incomplete" not in render_markdown(planned(load_sample())).split("\n", 4)[2]


def test_diff_calls_a_planned_cell_without_result_missing_not_removed() -> None:
    whole = planned(load_sample())
    stopped = stopped_after(load_sample(), FIRST)
    diff = diff_results(whole, stopped)
    assert {c.change for c in diff.changes[FIRST:]} >= {Change.MISSING}
    assert not diff.of(Change.REMOVED)
    assert len(diff.of(Change.MISSING)) == len(whole.cells) - FIRST
    assert "incomplete: 5 of 16 cells" in diff.new_run
    text = render_diff_text(diff)
    assert "missing (11): planned, but without a result" in text
    # a cell the new run did not plan at all is still "removed"
    fewer = planned(dataclasses.replace(whole, cells=whole.cells[1:]))
    assert [c.change for c in diff_results(whole, fewer).changes if c.id == whole.cells[0].id] == [
        Change.REMOVED
    ]
    # and a cell the stopped baseline planned but lacks is missing there, not new
    back = diff_results(stopped, whole)
    assert len(back.of(Change.MISSING)) == len(whole.cells) - FIRST
    assert not back.of(Change.NEW)


def test_diff_refuses_an_incomplete_file_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path / "old.json", planned(load_sample()))
    new = write(tmp_path / "new.json", stopped_after(load_sample(), FIRST))
    assert main(["diff", str(old), str(new)]) == 7
    error = capsys.readouterr().err
    assert f"{new} is incomplete: 5 of 16 cells" in error
    assert "--allow-incomplete" in error
    assert main(["diff", str(old), str(new), "--allow-incomplete"]) == 0
    assert "missing (11)" in capsys.readouterr().out
    assert main(["diff", str(new), str(old)]) == 7  # an incomplete baseline too


def shards(*documents: ResultsDocument) -> list[ShardResults]:
    return [
        ShardResults(path=Path(f"shard-{i}/results.json"), document=d)
        for i, d in enumerate(documents, 1)
    ]


def as_shard(document: ResultsDocument, shard: str, cells: slice) -> ResultsDocument:
    part = document.cells[cells]
    made = dataclasses.replace(
        document.provenance,
        run_id=f"shard{shard.replace('/', 'of')}",
        selection=Selection(only=(), shard=shard),
        planned=tuple(c.id for c in part),
        complete=True,
    )
    return dataclasses.replace(document, provenance=made, cells=part, summary=summarize(part))


def test_merge_refuses_a_stopped_shard_unless_allowed() -> None:
    sample = load_sample()
    first = as_shard(sample, "1/2", slice(0, 8))
    second = as_shard(sample, "2/2", slice(8, None))
    stopped = dataclasses.replace(
        second,
        provenance=dataclasses.replace(second.provenance, complete=False),
        cells=second.cells[:3],
    )
    with pytest.raises(ResultsError, match=r"shard-2/results.json is incomplete: 3 of 8 cells"):
        merge_documents(shards(first, stopped))
    merged = merge_documents(shards(first, stopped), allow_incomplete=True)
    done = completeness(merged)
    assert done.incomplete
    assert done.headline == "incomplete: 11 of 16 cells"
    assert merged.provenance.complete is False
    complete = merge_documents(shards(first, second))
    assert not completeness(complete).incomplete
    assert complete.provenance.complete is True
    assert complete.provenance.planned == tuple(sorted(c.id for c in sample.cells))


def test_merge_refuses_a_missing_shard_unless_allowed(tmp_path: Path) -> None:
    sample = load_sample()
    parts = [as_shard(sample, f"{i}/3", slice((i - 1) * 6, i * 6)) for i in (1, 2, 3)]
    with pytest.raises(ResultsError, match=r"shard 2/3 is missing"):
        merge_documents(shards(parts[0], parts[2]))
    merged = merge_documents(shards(parts[0], parts[2]), allow_incomplete=True)
    done = completeness(merged)
    assert done.missing_shards == ("2/3",)
    assert done.headline == "incomplete: 10 of more than 10 cells"
    assert merged.provenance.complete is False
    first = write(tmp_path / "a" / "results.json", parts[0])
    third = write(tmp_path / "c" / "results.json", parts[2])
    out = tmp_path / "merged"
    assert main(["merge", str(first), str(third), "--out", str(out)]) == 7
    assert not (out / "results.json").exists()
    assert main(["merge", str(first), str(third), "--out", str(out), "--allow-incomplete"]) == 0
    assert "incomplete: 10 of more than 10 cells" in (out / "summary.md").read_text()
    assert_valid_results(json.loads((out / "results.json").read_text()))
