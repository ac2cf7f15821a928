"""`linkmatrix diff`: every cell classed as crater does, regressions first, exit 1 on one."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.results.codec import stored_data
from orchestrator.results.diff import Change, classify, diff_results, render_diff_text
from orchestrator.results.document import summarize
from orchestrator.results.model import CellRecord, ResultsDocument
from orchestrator.status import Reason, Status
from tests.unit.conftest import ProjectFactory, replace_cell
from tests.unit.test_schema import load_sample, load_sample_data

OK = [Status.PASS, Status.XFAIL, Status.SKIP, Status.NOT_APPLICABLE]
BAD = [Status.FAIL, Status.ERROR, Status.XPASS]

FAILING = "musl/x86_64-unknown-linux-musl/reexport-staticlib"
PASSING = "glibc/x86_64-unknown-linux-gnu/cdylib-exports"
XFAILING = "glibc/x86_64-unknown-linux-gnu/reexport-staticlib"


@pytest.mark.parametrize("old", OK)
@pytest.mark.parametrize("new", BAD)
def test_ok_to_bad_is_a_regression_except_xfail_to_xpass(old: Status, new: Status) -> None:
    expected = (
        Change.FIXED_UPSTREAM if (old, new) == (Status.XFAIL, Status.XPASS) else Change.REGRESSED
    )
    assert classify(old, new) is expected


@pytest.mark.parametrize("old", BAD)
@pytest.mark.parametrize("new", OK)
def test_bad_to_ok_is_fixed(old: Status, new: Status) -> None:
    assert classify(old, new) is Change.FIXED


@pytest.mark.parametrize("old", BAD)
@pytest.mark.parametrize("new", BAD)
def test_bad_to_bad_is_still_failing(old: Status, new: Status) -> None:
    assert classify(old, new) is Change.STILL_FAILING


@pytest.mark.parametrize("old", OK)
@pytest.mark.parametrize("new", OK)
def test_ok_to_ok_is_unchanged(old: Status, new: Status) -> None:
    assert classify(old, new) is Change.UNCHANGED


def test_absent_cells_are_new_or_removed() -> None:
    assert classify(None, Status.FAIL) is Change.NEW
    assert classify(Status.PASS, None) is Change.REMOVED
    with pytest.raises(ValueError, match="at least one"):
        classify(None, None)


def with_status(
    document: ResultsDocument, cell_id: str, status: Status, reason: Reason | None
) -> ResultsDocument:
    return replace_cell(document, cell_id, status=status, reason=reason)


def with_cells(document: ResultsDocument, cells: tuple[CellRecord, ...]) -> ResultsDocument:
    return dataclasses.replace(document, cells=cells, summary=summarize(cells))


def baseline_and_current() -> tuple[ResultsDocument, ResultsDocument]:
    """The sample as `current`; a baseline where FAILING passed, PASSING failed, XFAILING too."""
    current = load_sample()
    baseline = dataclasses.replace(
        current, provenance=dataclasses.replace(current.provenance, run_id="baseline00")
    )
    baseline = with_status(baseline, FAILING, Status.PASS, None)
    baseline = with_status(baseline, PASSING, Status.FAIL, Reason.SYMBOL_MISSING)
    current = with_status(current, XFAILING, Status.XPASS, Reason.UNEXPECTED_PASS)
    removed = dataclasses.replace(
        baseline.cells[0], id="gone/x86_64-unknown-linux-gnu/cdylib-exports"
    )
    baseline = with_cells(baseline, (*baseline.cells, removed))
    current = with_cells(current, tuple(c for c in current.cells if not c.id.startswith("ptx/")))
    return baseline, current


def test_diff_classes_every_cell_regressions_first() -> None:
    baseline, current = baseline_and_current()
    diff = diff_results(baseline, current)
    assert diff.regressed
    assert [(c.id, c.change) for c in diff.changes[:3]] == [
        (FAILING, Change.REGRESSED),
        (XFAILING, Change.FIXED_UPSTREAM),
        (PASSING, Change.FIXED),
    ]
    assert {c.id for c in diff.of(Change.REMOVED)} == {
        "gone/x86_64-unknown-linux-gnu/cdylib-exports",
        "ptx/nvptx64-nvidia-cuda/cdylib-exports",
        "ptx/nvptx64-nvidia-cuda/ptx-kernel",
    }
    counts = diff.counts()
    assert sum(counts.values()) == len(baseline.cells)
    assert counts[Change.UNCHANGED] == len(current.cells) - 3
    regression = diff.of(Change.REGRESSED)[0]
    assert regression.transition == "pass → fail (check-failed)"
    assert "attribute cannot be used on foreign functions" in regression.detail


def test_text_lists_each_class_with_its_meaning() -> None:
    text = render_diff_text(diff_results(*baseline_and_current()))
    lines = text.splitlines()
    assert lines[0] == "baseline: run baseline00 (2026-11-21T16:40:00+00:00)"
    assert lines[2] == "1 regressed, 1 fixed upstream?, 1 fixed, 3 removed, 11 unchanged"
    assert "regressed (1): ok before (pass, xfail, skip, not-applicable)" in text
    assert f"  {FAILING}  pass → fail (check-failed): lib: diagnostics" in text
    assert f"  {XFAILING}  xfail (known-upstream) → xpass (unexpected-pass)" in text
    assert "unchanged (" not in text
    assert "unchanged (11)" in render_diff_text(
        diff_results(*baseline_and_current()), show_unchanged=True
    )


def write(path: Path, document: ResultsDocument | dict[str, object]) -> Path:
    data = document if isinstance(document, dict) else stored_data(document)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_cli_diff_exits_1_on_a_regression_0_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline, current = baseline_and_current()
    old, new = write(tmp_path / "old.json", baseline), write(tmp_path / "new.json", current)
    assert main(["diff", str(old), str(new)]) == 1
    assert "regressed (1)" in capsys.readouterr().out
    assert main(["diff", str(new), str(new)]) == 0
    assert "0 regressed" not in capsys.readouterr().out
    assert main(["diff", str(old), str(new), "--markdown"]) == 1
    markdown = capsys.readouterr().out
    assert "### ❗ Regressed since the baseline (1)" in markdown
    assert f"| `{FAILING}` | pass → fail (check-failed) |" in markdown


def test_cli_diff_refuses_unreadable_or_foreign_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = write(tmp_path / "new.json", load_sample())
    assert main(["diff", str(tmp_path / "missing.json"), str(new)]) == 7
    assert "missing.json: cannot read results" in capsys.readouterr().err
    future = load_sample_data()
    future["schema_version"] = 6
    old = write(tmp_path / "old.json", future)
    assert main(["diff", str(old), str(new)]) == 7
    assert "schema_version 6; this linkmatrix reads 1, 2, 3, 4 and 5" in capsys.readouterr().err


def test_a_move_between_ok_statuses_is_unchanged_but_listed() -> None:
    baseline = load_sample()
    current = with_status(baseline, PASSING, Status.SKIP, Reason.SDK_MISSING)
    diff = diff_results(baseline, current)
    assert not diff.regressed
    assert [(c.id, c.change) for c in diff.notable()] == [
        (FAILING, Change.STILL_FAILING),
        (PASSING, Change.UNCHANGED),
    ]
    text = render_diff_text(diff)
    assert (
        f"unchanged, but moved between ok statuses (1)\n  {PASSING}  pass → skip (sdk-missing)"
        in text
    )
    same = render_diff_text(diff_results(baseline, baseline))
    assert same.splitlines()[2] == "1 still failing, 15 unchanged"
    assert "moved between ok statuses" not in same


def test_run_reads_its_baseline_before_reaching_an_engine(
    make_project: ProjectFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = make_project()
    missing = tmp_path / "previous.json"
    assert main(["run", "--matrix", str(matrix), "--baseline", str(missing)]) == 7
    assert f"{missing}: cannot read results" in capsys.readouterr().err
    write(missing, load_sample())
    assert main(["run", "--matrix", str(matrix), "--baseline", str(missing)]) == 5  # no engine
