"""Expectations that say more: `fails_at:` a phase, `flaky:`, and the suggested expectation.

The scenario is loaded from YAML (so the loader is tested too) and judged against hand-made
observations: a cdylib `lib` and an executable `exe` with a run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.cell.observation import BuildRecord, Diagnostic, NotRun, Observation, RunRecord
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.config.scenario import Phase, Property, Scenario
from orchestrator.errors import ConfigError
from orchestrator.judge import Verdict, judge, observed_phase
from orchestrator.plan import Cell, all_cells, cell_work
from orchestrator.results.codec import encode
from orchestrator.results.model import CheckRecord
from orchestrator.status import CheckOutcome, Reason, Status
from orchestrator.suggest import observed_matcher
from tests.unit.conftest import ProjectFactory, make_cell, make_document
from tests.unit.test_judge import build
from tests.unit.test_schema import assert_valid_results

ARTIFACTS = """\
description: expectations that say more
artifacts:
  - name: lib
    package: cdy
    target_kind: lib
    crate_type: cdylib
  - name: exe
    package: exe
    target_kind: bin
"""
RUN = """\
runs:
  - name: start
    artifact: exe
    exit_code: 0
    stdout: { includes: [hello] }
"""

LINK_ERROR = Diagnostic(
    level="error", message="linking with `cc` failed: exit status: 1", code=None, rendered=""
)
COMPILE_ERROR = Diagnostic(
    level="error", message="cannot find value `x`", code="E0425", rendered=""
)


def load(make_project: ProjectFactory, checks: str, runs: str = "") -> Matrix:
    return load_matrix(make_project(scenarios={"alpha": ARTIFACTS + checks + runs}))


def verdict(matrix: Matrix, observation: Observation) -> Verdict:
    cell = glibc(matrix)
    return judge(cell_work(cell, matrix.scenario("alpha")), observation)


def glibc(matrix: Matrix) -> Cell:
    return all_cells(matrix)[0]


def seen(*builds: BuildRecord, runs: tuple[RunRecord, ...] = ()) -> Observation:
    return Observation(
        tools=None,
        builds=builds,
        runs=runs,
        failure=None,
        log="",
        duration_s=1.0,
    )


def run(exit_code: int, stdout: str = "", stderr: str = "") -> RunRecord:
    return RunRecord(
        name="start",
        artifact="exe",
        command=("exe",),
        exit_code=exit_code,
        stdout=stdout,
        stderr=stderr,
        duration_s=0.1,
        not_run=None,
    )


# -- the scenario format ---------------------------------------------------------------------


def test_fails_at_and_flaky_load(make_project: ProjectFactory) -> None:
    checks = """\
checks:
  - artifact: lib
    fails_at: link
  - artifact: exe
    exports: { includes: [main] }
    flaky: https://github.com/rust-lang/rust/issues/1
"""
    runs = RUN + "    flaky: the clock of the runner\n"
    scenario = load(make_project, checks, runs).scenario("alpha")
    phase, flaky = scenario.checks
    assert (phase.property, phase.expected_phase, phase.expected_flag) == (
        Property.FAILS_AT,
        Phase.LINK,
        None,
    )
    assert phase.describe() == "fails at link"
    assert flaky.flaky == "https://github.com/rust-lang/rust/issues/1"
    assert scenario.runs[0].flaky == "the clock of the runner"


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("    fails_at: linking\n", r"fails_at: .*'linking'.*compile, link, load, run"),
        (
            "    built: true\n    xfail: { reason: r, link: l }\n    flaky: varies\n",
            r"flaky: a check is a known upstream failure \(xfail\) or a result that varies",
        ),
        ("    fails_at: link\n    built: false\n", r"exactly one of .*names 2"),
    ],
)
def test_bad_expectations_are_refused(
    make_project: ProjectFactory, check: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load(make_project, "checks:\n  - artifact: lib\n" + check)


# -- where the artifact failed ---------------------------------------------------------------


def test_the_observed_phase_follows_the_artifact_from_compile_to_run() -> None:
    assert observed_phase(build("exe", None, diagnostics=(COMPILE_ERROR,)), ()) is Phase.COMPILE
    assert observed_phase(build("exe", None, diagnostics=(LINK_ERROR,)), ()) is Phase.LINK
    missing = Diagnostic(level="error", message="linker `x` not found", code=None, rendered="")
    assert observed_phase(build("exe", None, diagnostics=(missing,)), ()) is Phase.LINK
    built = build("exe", ("main",))
    assert observed_phase(built, ()) is None
    assert observed_phase(built, (run(0),)) is None
    loader = "exe: error while loading shared libraries: libx.so: cannot open shared object file"
    assert observed_phase(built, (run(127, stderr=loader),)) is Phase.LOAD
    runc = "exec /exe: no such file or directory"
    assert observed_phase(built, (run(1, stderr=runc),)) is Phase.LOAD
    assert observed_phase(built, (run(3, stderr="panicked"),)) is Phase.RUN
    other = replace(run(3), artifact="lib")
    assert observed_phase(built, (other,)) is None  # another artifact's run


def test_fails_at_passes_only_at_exactly_that_phase(make_project: ProjectFactory) -> None:
    matrix = load(make_project, "checks:\n  - artifact: lib\n    fails_at: link\n")
    linked = verdict(
        matrix, seen(build("lib", None, diagnostics=(LINK_ERROR,)), build("exe", ("main",)))
    )
    assert (linked.status, linked.checks[0].detail) == (Status.PASS, "failed at link, as expected")

    compiled = verdict(
        matrix, seen(build("lib", None, diagnostics=(COMPILE_ERROR,)), build("exe", ("main",)))
    )
    assert compiled.status is Status.FAIL
    assert compiled.checks[0].detail == "expected failure at link, observed compile failure"

    succeeded = verdict(matrix, seen(build("lib", ("answer",)), build("exe", ("main",))))
    assert succeeded.status is Status.FAIL
    assert succeeded.checks[0].detail == "expected failure at link, observed success"


def test_an_expected_build_failure_explains_the_other_checks_of_its_artifact(
    make_project: ProjectFactory,
) -> None:
    checks = """\
checks:
  - artifact: lib
    fails_at: compile
  - artifact: lib
    exports: { includes: [answer] }
"""
    matrix = load(make_project, checks)
    judged = verdict(
        matrix, seen(build("lib", None, diagnostics=(COMPILE_ERROR,)), build("exe", ()))
    )
    assert judged.status is Status.PASS  # not error: build-error, not inspection-error
    assert [c.outcome for c in judged.checks] == [CheckOutcome.PASS, CheckOutcome.UNKNOWN]


def test_load_and_run_failures_are_read_from_the_artifacts_runs(
    make_project: ProjectFactory,
) -> None:
    checks = "checks:\n  - artifact: exe\n    fails_at: load\n"
    runs = RUN.replace("exit_code: 0", "exit_code: 127").replace(
        "stdout: { includes: [hello] }", "stderr: { includes: [loading] }"
    )
    matrix = load(make_project, checks, runs)
    loader = "error while loading shared libraries: libapi.so"
    judged = verdict(
        matrix, seen(build("lib", ()), build("exe", ("main",)), runs=(run(127, stderr=loader),))
    )
    assert judged.status is Status.PASS, judged.detail
    ran = verdict(matrix, seen(build("lib", ()), build("exe", ("main",)), runs=(run(2),)))
    assert ran.checks[0].detail == "expected failure at load, observed run failure"
    not_run = replace(run(0), exit_code=None, not_run=NotRun.NO_RUNNER)
    unknown = verdict(matrix, seen(build("lib", ()), build("exe", ("main",)), runs=(not_run,)))
    assert unknown.checks[0].outcome is CheckOutcome.UNKNOWN
    assert "no run of the artifact was carried out" in unknown.checks[0].detail


# -- flaky -----------------------------------------------------------------------------------


def test_a_flaky_check_is_its_own_verdict_whatever_it_did(make_project: ProjectFactory) -> None:
    checks = """\
checks:
  - artifact: lib
    exports: { includes: [answer] }
    flaky: https://example.org/issue/7
"""
    matrix = load(make_project, checks)
    for exports, this_time in ((("answer",), "pass"), ((), "fail")):
        judged = verdict(matrix, seen(build("lib", exports), build("exe", ())))
        assert (judged.status, judged.reason) == (Status.FLAKY, Reason.FLAKY)
        assert judged.status.ok  # shown, never failed, never counted as a pass
        (check,) = judged.checks
        assert check.outcome is CheckOutcome.FLAKY
        assert check.flaky == "https://example.org/issue/7"
        assert check.detail.startswith(
            f"flaky (https://example.org/issue/7); this time {this_time}"
        )


def test_a_real_failure_outranks_a_flaky_check(make_project: ProjectFactory) -> None:
    checks = """\
checks:
  - artifact: lib
    exports: { includes: [answer] }
    flaky: varies
  - artifact: exe
    exports: { includes: [main] }
"""
    judged = verdict(load(make_project, checks), seen(build("lib", ()), build("exe", ())))
    assert judged.status is Status.FAIL


def test_a_flaky_run_is_flaky(make_project: ProjectFactory) -> None:
    matrix = load(make_project, "checks: []\n", RUN + "    flaky: timing\n")
    judged = verdict(matrix, seen(build("lib", ()), build("exe", ("main",)), runs=(run(1),)))
    assert judged.status is Status.FLAKY


# -- the suggested expectation ---------------------------------------------------------------


def test_the_observed_matcher_turns_each_failed_part_into_what_was_seen() -> None:
    from orchestrator.config.scenario import SetMatcher

    matcher = SetMatcher(
        includes=("a", "gone"),
        excludes=("b", "c"),
        includes_matching=("^x", "^none"),
        excludes_matching=("^y",),
        equals=("a",),
    )
    got = observed_matcher(matcher, ["a", "c", "x1", "y1"], substring=False)
    assert got == SetMatcher(
        includes=("a", "c"),
        excludes=("b", "gone"),
        includes_matching=("^x", "^y"),
        excludes_matching=("^none",),
        equals=("a", "c", "x1", "y1"),
    )


def paste(make_project: ProjectFactory, suggestion: str) -> Scenario:
    """The scenario with the suggestion as its only check (or run), loaded as a user would."""
    if suggestion.startswith("- name:"):
        text = ARTIFACTS + "checks: []\nruns:\n" + suggestion
    else:
        text = ARTIFACTS + "checks:\n" + suggestion
    return load_matrix(make_project(scenarios={"alpha": text})).scenario("alpha")


@pytest.mark.parametrize(
    ("check", "lib"),
    [
        ("    exports: { includes: [answer, other], excludes: [hidden] }\n", ("answer", "hidden")),
        ("    exports: { equals: [answer] }\n", ("answer", "extra:$name")),
        ("    needed: { excludes_matching: ['^libc'] }\n", ("answer",)),
        ("    static: true\n", ("answer",)),
        ("    built: true\n", None),
        ("    fails_at: compile\n", None),
        ("    fails_at: link\n", ("answer",)),
        ("    diagnostics: { includes: [warning] }\n", None),
    ],
)
def test_the_suggestion_is_yaml_that_matches_what_was_observed(
    make_project: ProjectFactory, check: str, lib: tuple[str, ...] | None
) -> None:
    text = ARTIFACTS + "checks:\n  - artifact: lib\n" + check
    matrix = load_matrix(make_project(scenarios={"alpha": text}))
    observation = seen(build("lib", lib, diagnostics=(LINK_ERROR,)), build("exe", ()))
    failed = verdict(matrix, observation)
    (result,) = failed.checks
    assert result.outcome is CheckOutcome.FAIL
    assert result.suggestion is not None
    assert '  when: { toolchain: glibc, target: x86_64-unknown-linux-gnu, release: "1.96" }' in (
        result.suggestion
    )
    pasted = paste(make_project, result.suggestion)
    again = judge(cell_work(glibc(matrix), pasted), observation)
    assert [c.outcome for c in again.checks] == [CheckOutcome.PASS], result.suggestion


def test_a_failed_run_suggests_its_exit_code_and_output(make_project: ProjectFactory) -> None:
    text = ARTIFACTS + "checks: []\n" + RUN
    matrix = load_matrix(make_project(scenarios={"alpha": text}))
    observation = seen(build("lib", ()), build("exe", ("main",)), runs=(run(2, "bye"),))
    (result,) = verdict(matrix, observation).checks
    assert result.suggestion is not None
    assert "  exit_code: 2\n  stdout: { excludes: [hello] }\n" in result.suggestion
    pasted = paste(make_project, result.suggestion)
    again = judge(cell_work(glibc(matrix), pasted), observation)
    assert [c.outcome for c in again.checks] == [CheckOutcome.PASS]


def test_a_passing_check_suggests_nothing(make_project: ProjectFactory) -> None:
    matrix = load(make_project, "checks:\n  - artifact: lib\n    built: true\n")
    (result,) = verdict(matrix, seen(build("lib", ()), build("exe", ()))).checks
    assert result.suggestion is None


# -- results.json ----------------------------------------------------------------------------


def test_a_flaky_cell_and_a_suggestion_are_written_and_valid() -> None:
    check = CheckRecord(
        artifact="lib",
        property="exports",
        expectation="exports: includes ['a']",
        outcome=CheckOutcome.FLAKY,
        detail="flaky (varies); this time pass: as expected",
        why="",
        xfail_reason=None,
        xfail_link=None,
        flaky="varies",
        suggestion="- artifact: lib\n  exports: { excludes: [a] }\n",
    )
    cell = make_cell("glibc/x86_64-unknown-linux-gnu/alpha", Status.FLAKY, Reason.FLAKY)
    document = make_document(replace(cell, checks=(check,)))
    assert document.summary[Status.FLAKY] == 1
    data = json.loads(encode(document))
    assert_valid_results(data)
    assert data["cells"][0]["checks"][0]["suggestion"].startswith("- artifact: lib")


def test_a_version_3_file_reads_with_no_flaky_cells(tmp_path: Path) -> None:
    from orchestrator.results.codec import load_results
    from tests.unit.test_schema import GOLDEN

    document = load_results(GOLDEN / "run.v3.json")
    assert document.summary[Status.FLAKY] == 0
    assert document.schema_version == 5  # read as the current version


def test_the_cell_detail_shows_the_suggestion_and_the_flaky_reason(tmp_path: Path) -> None:
    from orchestrator.report.html import render_index

    failed = CheckRecord(
        artifact="lib",
        property="exports",
        expectation="exports: includes ['a']",
        outcome=CheckOutcome.FAIL,
        detail="missing a",
        why="",
        xfail_reason=None,
        xfail_link=None,
        suggestion='- artifact: lib\n  exports: { excludes: [a, "<b>"] }\n',
    )
    flaky = replace(
        failed, outcome=CheckOutcome.FLAKY, flaky="https://example.org/7", suggestion=None
    )
    cell = make_cell("glibc/x86_64-unknown-linux-gnu/alpha", Status.FAIL, Reason.SYMBOL_MISSING)
    html = render_index(make_document(replace(cell, checks=(failed, flaky))), tmp_path)
    assert "<em>would have matched</em>" in html
    assert "<pre>- artifact: lib\n  exports: { excludes: [a, &#34;&lt;b&gt;&#34;] }\n</pre>" in html
    assert '<em>flaky:</em> <a href="https://example.org/7">' in html
    assert "🎲 flaky" in html
