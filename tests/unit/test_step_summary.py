"""The CI step summary (issue 13): completeness first, regressions, failing cells with the
linker's own line, a table per toolchain and release, the report's link; small for the whole
matrix (GitHub refuses a step summary over 1 MiB).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.report.grid import cell_anchor
from orchestrator.report.summary import MAX_ROWS, render_step_summary
from orchestrator.results.codec import write_results
from orchestrator.results.diff import diff_results
from orchestrator.results.document import summarize
from orchestrator.results.model import ResultsDocument
from orchestrator.status import Reason, Status
from tests.unit.full_matrix import full_matrix, stopped
from tests.unit.test_schema import SAMPLE

GITHUB_LIMIT = 1024 * 1024  # bytes: GitHub's cap on one step's summary
OUR_LIMIT = 128 * 1024  # bytes: what the whole matrix may take, every cell regressed
URL = "https://octo.github.io/linkmatrix"


def every_cell_passed(document: ResultsDocument) -> ResultsDocument:
    """A baseline in which every cell of `document` passed: each bad cell now a regression."""
    cells = tuple(dataclasses.replace(c, status=Status.PASS, reason=None) for c in document.cells)
    return dataclasses.replace(document, cells=cells, summary=summarize(cells))


def every_cell_failed(document: ResultsDocument) -> ResultsDocument:
    """The worst case: every cell fails, each with a long detail."""
    cells = tuple(
        dataclasses.replace(
            c, status=Status.FAIL, reason=Reason.SYMBOL_MISSING, detail=f"{c.id}: " + "x" * 2000
        )
        for c in document.cells
    )
    return dataclasses.replace(document, cells=cells, summary=summarize(cells))


def section_order(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("###")]


@pytest.fixture(scope="module")
def whole() -> ResultsDocument:
    return full_matrix()


def test_the_whole_matrix_every_cell_regressed_stays_small(whole: ResultsDocument) -> None:
    text = render_step_summary(whole, diff_results(every_cell_passed(whole), whole), URL)
    assert len(text.encode("utf-8")) < OUR_LIMIT // 2
    failed = every_cell_failed(whole)
    text = render_step_summary(failed, diff_results(whole, failed), URL)
    size = len(text.encode("utf-8"))
    assert size < OUR_LIMIT < GITHUB_LIMIT, size
    assert f"… and {442 - MAX_ROWS} more: see the HTML report or matrix.md." in text
    assert max(len(line) for line in text.splitlines()) < 1000


def test_sections_come_most_urgent_first(whole: ResultsDocument) -> None:
    text = render_step_summary(whole, diff_results(every_cell_passed(whole), whole), URL)
    assert text.splitlines()[2].startswith("**complete: 442 of 442 cells** · **✅ ")
    assert [re.sub(r" \(.*", "", s) for s in section_order(text)] == [
        "### ❗ Regressed since the baseline",
        "### Failing cells",
        "### Per toolchain and release",
    ]
    assert text.rstrip().endswith(
        f"**Full report: {URL}/** (every cell's detail, its build log's tail, the symbol pages)."
    )


def test_an_incomplete_run_says_so_first_and_counts_what_has_no_result() -> None:
    document = stopped(after=300)
    text = render_step_summary(document)
    head = "\n".join(text.splitlines()[:5])
    assert "incomplete: 300 of 442 cells" in head
    assert "142 planned cells have no result" in head
    table = text[text.index("### Per toolchain and release") :]
    assert "| ? no result |" in table.splitlines()[2]
    total = next(line for line in table.splitlines() if line.startswith("| **all**"))
    numbers = [int(n) for n in re.findall(r"\*\*(\d+)\*\*", total)]
    assert sum(numbers) == 442
    assert numbers[-1] == 142
    assert "### Planned, without a result (142)" in text


def test_the_table_counts_each_toolchain_and_release(whole: ResultsDocument) -> None:
    text = render_step_summary(whole)
    rows = {
        tuple(cells[:2]): cells[2:]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith(("| toolchain", "| **all**"))
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
        if len(cells) == 9
    }
    glibc = [c for c in whole.cells if (c.toolchain, c.release) == ("glibc", "1.85")]
    statuses = ["pass", "xfail", "fail", "error", "xpass", "skip", "not-applicable"]
    expected = [sum(1 for c in glibc if c.status.value == s) for s in statuses]
    assert rows["glibc", "1.85"] == [str(n) if n else "·" for n in expected]
    assert len(rows) == 22  # 11 toolchains, 2 releases each
    assert list(rows).index(("glibc", "1.96")) < list(rows).index(("glibc", "1.85"))
    assert "| ? no result |" not in text  # a complete run has no such column


def test_failing_cells_show_the_linkers_line_not_rustcs(whole: ResultsDocument) -> None:
    text = render_step_summary(whole)
    failing = text[text.index("### Failing cells") : text.index("### Per toolchain")]
    linked = [c for c in whole.cells if c.reason is Reason.LINK_ERROR]
    assert linked
    for record in linked[:5]:
        assert record.link_error is not None
        row = next(line for line in failing.splitlines() if f"`{record.id}`" in line)
        assert f"{record.link_error.artifact}: {record.link_error.lines[0]}" in row
        assert "linking with `cc` failed" not in row


def test_cells_link_to_their_detail_when_the_report_url_is_known(whole: ResultsDocument) -> None:
    cell = next(c for c in whole.cells if not c.status.ok)
    anchor = cell_anchor(cell.id)
    assert anchor.startswith("cell-")
    with_url = render_step_summary(whole, report_url=URL + "/")
    assert f"[`{cell.id}`]({URL}/#{anchor})" in with_url
    assert f"· [full report]({URL}/)" in with_url.splitlines()[2]
    without = render_step_summary(whole)
    assert f"| `{cell.id}` |" in without
    assert "](" not in without
    page = render_step_summary(whole, report_url=f"{URL}/index.html")
    assert f"({URL}/index.html#{anchor})" in page


def test_no_regression_is_said_and_other_changes_fold(whole: ResultsDocument) -> None:
    text = render_step_summary(whole, diff_results(whole, whole))
    assert "### No regression since the baseline" in text
    bad = sum(1 for c in whole.cells if not c.status.ok)
    assert f"<details><summary>Other changes since the baseline: {bad} still failing<" in text
    fixed = every_cell_passed(whole)
    text = render_step_summary(fixed, diff_results(whole, fixed))
    assert "<details><summary>Other changes since the baseline: " in text
    assert " fixed" in text.split("<details><summary>", 1)[1].split("</summary>", 1)[0]
    assert "Every cell is pass, xfail, skip or not-applicable." in text


def test_the_report_url_comes_from_the_option_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "report"
    shutil.copytree(SAMPLE.parent, folder)
    results = folder / "results.json"
    assert main(["report", str(results), "--report-url", URL]) == 0
    assert f"**Full report: {URL}/**" in (folder / "summary.md").read_text()
    monkeypatch.setenv("LINKMATRIX_REPORT_URL", "https://example.org/m/")
    assert main(["report", str(results)]) == 0
    assert "**Full report: https://example.org/m/**" in (folder / "summary.md").read_text()
    assert main(["diff", str(results), str(results), "--markdown"]) == 0
    assert "[full report](https://example.org/m/)" in capsys.readouterr().out
    monkeypatch.setenv("LINKMATRIX_REPORT_URL", "")  # set but empty: no report known
    assert main(["report", str(results)]) == 0
    assert "Full report:" not in (folder / "summary.md").read_text()


@pytest.mark.parametrize("bad", ["example.org/report", "file:///tmp/x", "https://a b"])
def test_a_report_url_that_is_not_http_is_a_usage_error(
    tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.json"
    write_results(results, full_matrix(keep=()))
    with pytest.raises(SystemExit) as stop:
        main(["report", str(results), "--report-url", bad])
    assert stop.value.code == 2
    assert "is not an http(s) URL" in capsys.readouterr().err
