"""The run's output: a line per cell with elapsed time and an estimate of what is left."""

from __future__ import annotations

import dataclasses
import io

import pytest

from orchestrator.config.matrix import Matrix
from orchestrator.estimate import CellDone, CellWork, Durations, Estimator, GroupWork, Priors, Work
from orchestrator.images.build import ImageNeeds
from orchestrator.log import Reporter, wants_bar
from orchestrator.plan import Plan, make_plan
from orchestrator.results.model import CellRecord, LinkErrorRecord
from orchestrator.status import Reason, Status
from tests.unit.conftest import make_cell


def record(cell_id: str, status: Status) -> CellRecord:
    return make_cell(
        cell_id,
        status,
        Reason.SYMBOL_MISSING,
        detail="missing foo",
        duration_s=1.0,
        cached=False,
        log="logs/x.log",
    )


def glibc_estimate(plan: Plan) -> Estimator:
    """An estimate of the plan's cells, 30 s each (no history), two cells in one group."""
    cells = tuple(
        CellWork(id=cell.id, toolchain=cell.toolchain, std=None, cached=False)
        for cell in plan.groups[0].cells
    )
    group = GroupWork(image="glibc", release="1.96", cells=cells, after=0, skipped=False)
    work = Work(images=(), groups=(group,))
    return Estimator(
        work, Durations(), started=0.0, priors=Priors(cell_s=30.0, cells_by_toolchain={})
    )


def test_lines_carry_progress_and_bad_cells_their_block(
    matrix: Matrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter([60.0, 120.0])
    monkeypatch.setattr("orchestrator.log.time.monotonic", lambda: next(clock))
    stream = io.StringIO()
    reporter = Reporter(stream=stream, started=0.0)
    plan = make_plan(matrix, only=["glibc/*"])
    estimate = glibc_estimate(plan)
    reporter.plan(plan, ImageNeeds(to_build=["rust@1.96", "glibc@1.96"]), estimate)
    estimate.cell_finished(
        CellDone(id=plan.groups[0].cells[0].id, seconds=90.0, cached=False, image_id="sha256:1"),
        at=90.0,
    )
    reporter.cell(record("glibc/x86_64-unknown-linux-gnu/alpha", Status.PASS))
    reporter.cell(record("glibc/x86_64-unknown-linux-gnu/beta", Status.FAIL))
    lines = stream.getvalue().splitlines()
    assert lines[0] == (
        "linkmatrix: 2 cells: 2 to build and run in 1 container(s), 0 to skip (no SDK), "
        "0 not applicable (recorded, not listed one by one)"
    )
    assert "images to build: rust@1.96, glibc@1.96" in lines[2]
    # the one left: the first one's 90 s drawn toward the prior's 30 s, scaled by the run so
    # far ((90 + 100) / (30 + 100)), weighed as 3 cells: (90 + 3 * 30 * 190 / 130) / 4 = 55 s
    assert lines[3].endswith("(1.0 s) · 1m00s elapsed, ~55 s left (total ~2 min)")
    assert lines[4].endswith("(1.0 s) · 2m00s elapsed")
    assert "┌─ glibc/x86_64-unknown-linux-gnu/beta: symbol-missing" in lines[5]
    assert lines[-1] == "  └─ full log: logs/x.log"


def test_a_terminal_gets_a_bar_under_the_lines(
    matrix: Matrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("orchestrator.log.time.monotonic", lambda: 30.0)
    stream = io.StringIO()
    reporter = Reporter(stream=stream, started=0.0, bar=True)
    plan = make_plan(matrix, only=["glibc/*"])
    reporter.plan(plan, ImageNeeds(), glibc_estimate(plan))
    reporter.cell(record("glibc/x86_64-unknown-linux-gnu/alpha", Status.PASS))
    screen = stream.getvalue()
    # the pipeline tells the estimate, not the reporter: both cells are still to come (60 s)
    assert screen.endswith(
        "[" + "#" * 15 + "." * 15 + "] 1/2 · 0m30s elapsed, ~1 min left (total ~2 min)"
    )
    assert "\r\x1b[2K[1/2] ✅ pass" in screen


def test_without_an_estimate_only_the_elapsed_time_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("orchestrator.log.time.monotonic", lambda: 30.0)
    stream = io.StringIO()
    reporter = Reporter(stream=stream, started=0.0, bar=False)
    reporter.runnable = 2
    reporter.cell(record("glibc/x86_64-unknown-linux-gnu/alpha", Status.PASS))
    assert stream.getvalue().rstrip().endswith("(1.0 s) · 0m30s elapsed")


def test_ci_logs_get_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    terminal = io.StringIO()
    monkeypatch.setattr(terminal, "isatty", lambda: True)
    assert not wants_bar(terminal)
    monkeypatch.delenv("CI")
    monkeypatch.setenv("TERM", "xterm")
    assert wants_bar(terminal)


def test_the_summary_counts_each_status_that_occurred(matrix: Matrix) -> None:
    stream = io.StringIO()
    reporter = Reporter(stream=stream, started=0.0, bar=False)
    counts = dict.fromkeys(Status, 0) | {Status.PASS: 3, Status.NOT_APPLICABLE: 2}
    reporter.summary(counts, ["out/results.json"])
    first, wrote = stream.getvalue().splitlines()
    assert first.startswith("linkmatrix: 3 pass, 2 not-applicable in ")
    assert wrote == "  wrote out/results.json"


def test_not_applicable_cells_are_counted_not_listed_and_failures_end_the_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("orchestrator.log.time.monotonic", lambda: 60.0)
    stream = io.StringIO()
    reporter = Reporter(stream=stream, started=0.0, github=True)
    reporter.runnable = 2
    reporter.cell(record("glibc/x86_64-unknown-linux-gnu/alpha", Status.NOT_APPLICABLE))
    reporter.cell(record("glibc/x86_64-unknown-linux-gnu/beta", Status.FAIL))
    reporter.summary({Status.FAIL: 1, Status.NOT_APPLICABLE: 1}, ["out/results.json"])
    text = stream.getvalue()
    assert "alpha" not in text  # not applicable: in the plan's count and the results only
    assert "[1/2]" in text  # counted among the 2 cells that run, not the 2 of the plan
    assert "::error title=glibc/x86_64-unknown-linux-gnu/beta::symbol-missing: missing foo" in text
    assert "::group::glibc/x86_64-unknown-linux-gnu/beta: symbol-missing" in text
    assert "::endgroup::" in text
    assert text.splitlines()[-2] == (
        "  fail: glibc/x86_64-unknown-linux-gnu/beta: symbol-missing  (log: logs/x.log)"
    )


def test_a_link_error_is_annotated_with_the_linkers_own_line() -> None:
    stream = io.StringIO()
    reporter = Reporter(stream=stream, started=0.0, github=True, bar=False)
    reporter.runnable = 1
    failed = dataclasses.replace(
        record("glibc/x86_64-unknown-linux-gnu/beta", Status.ERROR),
        reason=Reason.LINK_ERROR,
        detail="building artifact 'exe' failed (exit 101): linking with `cc` failed",
        link_error=LinkErrorRecord(
            artifact="exe",
            message="linking with `cc` failed: exit status: 1",
            lines=("rust-lld: error: undefined symbol: foo",),
        ),
    )
    reporter.cell(failed)
    text = stream.getvalue()
    assert (
        "::error title=glibc/x86_64-unknown-linux-gnu/beta::link-error: "
        "exe: rust-lld: error: undefined symbol: foo\n"
    ) in text
    assert "  │ the linker: rust-lld: error: undefined symbol: foo\n  │ building artifact" in text
