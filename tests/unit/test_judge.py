"""Verdicts come from what the artifacts show, and from nothing else."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orchestrator.cell.observation import (
    ArtifactFile,
    BuildRecord,
    Diagnostic,
    Failure,
    NotRun,
    Observation,
    RunRecord,
)
from orchestrator.config.matrix import Matrix
from orchestrator.config.scenario import Check, RunSpec, Scenario, SetMatcher, XFail
from orchestrator.inspect.model import ArtifactFormat, Inspection
from orchestrator.judge import Verdict, match_set
from orchestrator.judge import judge as judge_work
from orchestrator.plan import Cell, all_cells, cell_work
from orchestrator.status import CheckOutcome, Reason, Status


def judge(cell: Cell, scenario: Scenario, observation: Observation) -> Verdict:
    """The verdict with the cell's work resolved as the pipeline resolves it."""
    return judge_work(cell_work(cell, scenario), observation)


def inspection(exports: tuple[str, ...]) -> Inspection:
    return Inspection(
        format=ArtifactFormat.ELF,
        exports=exports,
        imports=(),
        needed=("libc.so.6",),
        interpreter=None,
        static=False,
        machine="x86_64",
        file_type="shared-object",
    )


def build(
    name: str,
    exports: tuple[str, ...] | None,
    *,
    diagnostics: tuple[Diagnostic, ...] = (),
) -> BuildRecord:
    files = (
        ()
        if exports is None
        else (
            ArtifactFile(
                file=f"{name}.so",
                path=f"a/{name}.so",
                source=f"/t/{name}.so",
                sha256="0" * 64,
                size=1,
                inspection=inspection(exports),
            ),
        )
    )
    return BuildRecord(
        name=name,
        package=name,
        target_kind="lib",
        crate_type=None,
        command=(),
        env=(),
        exit_code=0 if exports is not None else 101,
        duration_s=0.1,
        diagnostics=diagnostics,
        files=files,
        primary=f"{name}.so" if exports is not None else None,
    )


def observation(*builds: BuildRecord, failure: Failure | None = None) -> Observation:
    return Observation(
        tools=None, builds=builds, runs=(), failure=failure, log="line 1\nline 2\n", duration_s=1.0
    )


@pytest.fixture
def glibc_cell(matrix: Matrix) -> Cell:
    return all_cells(matrix)[0]


@pytest.fixture
def scenario(matrix: Matrix) -> Scenario:
    return matrix.scenario("alpha")


def test_pass_when_every_expectation_holds(glibc_cell: Cell, scenario: Scenario) -> None:
    verdict = judge(
        glibc_cell,
        scenario,
        observation(build("lib", ("answer",)), build("exe", ("exported_from_exe", "main"))),
    )
    assert verdict.status is Status.PASS
    assert [c.outcome for c in verdict.checks] == [CheckOutcome.PASS, CheckOutcome.PASS]


def test_missing_symbol_fails_and_names_it(glibc_cell: Cell, scenario: Scenario) -> None:
    verdict = judge(
        glibc_cell, scenario, observation(build("lib", ("answer",)), build("exe", ("main",)))
    )
    assert verdict.status is Status.FAIL
    assert verdict.reason is Reason.SYMBOL_MISSING
    assert "missing exported_from_exe" in verdict.detail


def test_unexpected_symbol_fails(glibc_cell: Cell, scenario: Scenario) -> None:
    verdict = judge(
        glibc_cell,
        scenario,
        observation(
            build("lib", ("answer", "_ZN4core3fmt5write17h")), build("exe", ("exported_from_exe",))
        ),
    )
    assert verdict.status is Status.FAIL
    assert verdict.reason is Reason.SYMBOL_UNEXPECTED
    assert "_ZN4core3fmt5write17h" in verdict.detail


def test_checks_scoped_by_when_are_not_evaluated_elsewhere(
    matrix: Matrix, scenario: Scenario
) -> None:
    wasm_cell = next(c for c in all_cells(matrix) if c.toolchain == "wasm")
    verdict = judge(
        wasm_cell, scenario, observation(build("lib", ("answer",)), build("exe", ("main",)))
    )
    assert verdict.status is Status.PASS
    assert len(verdict.checks) == 1


def test_unexplained_build_failure_is_an_error_with_the_log_tail(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    error = Diagnostic(
        level="error", message="linking with `cc` failed: exit status: 1", code=None, rendered=""
    )
    failed = replace(build("exe", None), diagnostics=(error,))
    verdict = judge(glibc_cell, scenario, observation(build("lib", ("answer",)), failed))
    assert verdict.status is Status.ERROR
    assert verdict.reason is Reason.LINK_ERROR
    assert "building artifact 'exe' failed (exit 101)" in verdict.detail
    assert "line 2" in verdict.detail


def test_infrastructure_failure_is_an_error_with_its_step(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    failure = Failure(reason=Reason.TIMEOUT, step="build exe", detail="killed: no output for 600 s")
    verdict = judge(glibc_cell, scenario, observation(failure=failure))
    assert (verdict.status, verdict.reason) == (Status.ERROR, Reason.TIMEOUT)
    assert verdict.detail == "build exe: killed: no output for 600 s"


def with_checks(scenario: Scenario, *checks: Check) -> Scenario:
    return replace(scenario, checks=checks)


def exports_check(
    artifact: str, matcher: SetMatcher, xfail: XFail | None = None, file: str | None = None
) -> Check:
    from orchestrator.config.scenario import ANYWHERE, Property

    return Check(
        artifact=artifact,
        property=Property.EXPORTS,
        file=file,
        matcher=matcher,
        expected_flag=None,
        when=ANYWHERE,
        unless=None,
        xfail=xfail,
        why="",
    )


KNOWN = XFail(reason="rustc does not re-export", link="https://github.com/rust-lang/rfcs/pull/3556")


def test_xfail_and_xpass(glibc_cell: Cell, scenario: Scenario) -> None:
    check = exports_check("lib", SetMatcher(includes=("foo",)), KNOWN)
    failing = judge(
        glibc_cell, with_checks(scenario, check), observation(build("lib", ("answer",)))
    )
    assert failing.status is Status.XFAIL
    assert failing.reason is Reason.KNOWN_UPSTREAM
    assert "rfcs/pull/3556" in failing.detail
    passing = judge(glibc_cell, with_checks(scenario, check), observation(build("lib", ("foo",))))
    assert passing.status is Status.XPASS
    assert not passing.status.ok


def test_expected_build_failure_passes_and_hides_unknowns(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    from orchestrator.config.scenario import ANYWHERE, Property

    refused = Check(
        artifact="lib",
        property=Property.BUILT,
        file=None,
        matcher=None,
        expected_flag=False,
        when=ANYWHERE,
        unless=None,
        xfail=None,
        why="crt-static refuses cdylib",
    )
    diag = Check(
        artifact="lib",
        property=Property.DIAGNOSTICS,
        file=None,
        matcher=SetMatcher(includes=("does not support these crate types",)),
        expected_flag=None,
        when=ANYWHERE,
        unless=None,
        xfail=None,
        why="",
    )
    error = Diagnostic(
        level="error",
        message="cannot produce cdylib: target does not support these crate types",
        code=None,
        rendered="",
    )
    failed = replace(build("lib", None), diagnostics=(error,))
    scenario_ = with_checks(
        scenario, refused, diag, exports_check("lib", SetMatcher(includes=("x",)))
    )
    verdict = judge(glibc_cell, scenario_, observation(failed))
    assert verdict.status is Status.PASS, verdict
    assert [c.outcome for c in verdict.checks] == [
        CheckOutcome.PASS,
        CheckOutcome.PASS,
        CheckOutcome.UNKNOWN,
    ]


def test_match_set_equals_reports_both_sides() -> None:
    match = match_set(SetMatcher(equals=("a", "b")), ["b", "c"], substring=False)
    assert match.outcome is CheckOutcome.FAIL
    assert (match.missing, match.unexpected) == (("a",), ("c",))
    assert match.detail == "missing a; unexpected c"
    passed = match_set(SetMatcher(equals=("a",)), ["a"], substring=False)
    assert passed.outcome is CheckOutcome.PASS
    assert passed.detail == "as expected (1: a)"


def run_spec(**changes: object) -> RunSpec:
    from orchestrator.config.scenario import ANYWHERE

    options: dict[str, object] = {
        "name": "run-exe",
        "artifact": "lib",
        "args": (),
        "exit_code": 0,
        "stdout": SetMatcher(includes=("= 7",)),
        "when": ANYWHERE,
        "unless": None,
        "why": "",
    }
    options.update(changes)
    return RunSpec(**options)  # type: ignore[arg-type]


def run_record(exit_code: int | None, stdout: str, not_run: NotRun | None = None) -> RunRecord:
    return RunRecord(
        name="run-exe",
        artifact="lib",
        command=("./lib",),
        exit_code=exit_code,
        stdout=stdout,
        stderr="",
        duration_s=0.1,
        not_run=not_run,
    )


@pytest.mark.parametrize(
    ("record", "status", "outcome"),
    [
        (run_record(0, "f() = 7\n"), Status.PASS, CheckOutcome.PASS),
        (run_record(0, "f() = 8\n"), Status.FAIL, CheckOutcome.FAIL),
        (run_record(1, "f() = 7\n"), Status.FAIL, CheckOutcome.FAIL),
        (run_record(None, "", NotRun.NO_RUNNER), Status.PASS, CheckOutcome.NOT_RUN),
    ],
)
def test_runs_are_judged_by_exit_code_and_output(
    glibc_cell: Cell, scenario: Scenario, record: RunRecord, status: Status, outcome: CheckOutcome
) -> None:
    scenario_ = replace(scenario, checks=(), runs=(run_spec(),))
    verdict = judge(
        glibc_cell, scenario_, replace(observation(build("lib", ("answer",))), runs=(record,))
    )
    assert verdict.status is status
    assert verdict.checks[0].outcome is outcome
    if status is Status.FAIL:
        assert verdict.reason is Reason.RUN_FAILED
    if outcome is CheckOutcome.NOT_RUN:
        assert verdict.checks[0].detail == "not run: no runner for this target"


def test_a_run_can_require_text_on_stderr(glibc_cell: Cell, scenario: Scenario) -> None:
    spec = run_spec(exit_code=127, stdout=None, stderr=SetMatcher(includes=("libapi.so",)))
    scenario_ = replace(scenario, checks=(), runs=(spec,))
    said = replace(run_record(127, ""), stderr="error while loading shared libraries: libapi.so")
    silent = replace(said, stderr="Segmentation fault")
    for record, status in ((said, Status.PASS), (silent, Status.FAIL)):
        built = replace(observation(build("lib", ("answer",))), runs=(record,))
        verdict = judge(glibc_cell, scenario_, built)
        assert verdict.status is status, verdict
    assert "stderr" in verdict.checks[0].detail
    assert "stderr includes ['libapi.so']" in spec.describe()


def test_a_check_can_read_another_file_of_the_artifact(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    wasm = build("exe", ("k", "l", "memory"))
    glue = ArtifactFile(
        file="exe.js",
        path="a/exe.js",
        source="/t/exe.js",
        sha256="1" * 64,
        size=1,
        inspection=replace(
            inspection(("exported_from_exe", "main")), format=ArtifactFormat.EMSCRIPTEN_JS
        ),
    )
    both = replace(wasm, files=(*wasm.files, glue))
    reads_glue = exports_check("exe", SetMatcher(includes=("exported_from_exe",)), file="*.js")
    reads_wasm = exports_check("exe", SetMatcher(excludes=("exported_from_exe",)))
    verdict = judge(glibc_cell, with_checks(scenario, reads_glue, reads_wasm), observation(both))
    assert verdict.status is Status.PASS, verdict
    missing = exports_check("exe", SetMatcher(includes=("x",)), file="*.mjs")
    verdict = judge(glibc_cell, with_checks(scenario, missing), observation(both))
    assert verdict.status is Status.ERROR
    assert "no file matching '*.mjs'" in verdict.detail


def test_members_and_demangled_names_are_checked(glibc_cell: Cell, scenario: Scenario) -> None:
    from orchestrator.config.scenario import ANYWHERE, Property

    def check(prop: Property, matcher: SetMatcher) -> Check:
        return replace(exports_check("lib", matcher), property=prop, when=ANYWHERE)

    archive = build("lib", ("_RNvCs1234_5alpha6answer", "answer"))
    (file,) = archive.files
    readable = replace(
        file.inspection,
        members=("alpha-1.o", "lib.rmeta"),
        demangled=(("_RNvCs1234_5alpha6answer", "alpha::answer"),),
    )
    archive = replace(archive, files=(replace(file, inspection=readable),))
    good = with_checks(
        scenario,
        check(Property.MEMBERS, SetMatcher(includes=("lib.rmeta",))),
        check(Property.DEMANGLED, SetMatcher(equals=("alpha::answer",))),
    )
    assert judge(glibc_cell, good, observation(archive)).status is Status.PASS
    bad = with_checks(scenario, check(Property.DEMANGLED, SetMatcher(includes=("answer",))))
    verdict = judge(glibc_cell, bad, observation(archive))
    assert verdict.status is Status.FAIL
    assert "missing answer" in verdict.detail


def test_diagnostics_text_reads_the_notes_that_headlines_leave_out(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    from orchestrator.config.scenario import Property

    def check(prop: Property) -> Check:
        return replace(
            exports_check("lib", SetMatcher(includes=("undefined version",))), property=prop
        )

    error = Diagnostic(
        level="error",
        message="linking with `cc` failed: exit status: 1",
        code=None,
        rendered="error: linking with `cc` failed\n  = note: ld: sum_ints: undefined version: \n",
    )
    failed = observation(replace(build("lib", None), diagnostics=(error,)))
    text = judge(glibc_cell, with_checks(scenario, check(Property.DIAGNOSTICS_TEXT)), failed)
    headline = judge(glibc_cell, with_checks(scenario, check(Property.DIAGNOSTICS)), failed)
    assert text.checks[0].outcome is CheckOutcome.PASS, text
    assert headline.checks[0].outcome is CheckOutcome.FAIL, headline


def test_a_run_of_an_unbuilt_artifact_is_unknown_with_todays_text(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    scenario_ = replace(scenario, checks=(), runs=(run_spec(),))
    record = run_record(None, "", NotRun.ARTIFACT_NOT_BUILT)
    verdict = judge(
        glibc_cell, scenario_, replace(observation(build("lib", ("answer",))), runs=(record,))
    )
    (check,) = verdict.checks
    assert check.outcome is CheckOutcome.UNKNOWN
    assert check.detail == "the artifact was not built"
    assert check.property == "run"
    assert verdict.status is Status.ERROR
    assert verdict.reason is Reason.INSPECTION_ERROR


def test_a_symbol_check_failing_on_both_sides_is_missing_first(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    check = exports_check("lib", SetMatcher(includes=("wanted",), excludes=("answer",)))
    verdict = judge(
        glibc_cell, with_checks(scenario, check), observation(build("lib", ("answer",)))
    )
    assert verdict.reason is Reason.SYMBOL_MISSING
    assert verdict.checks[0].detail == "missing wanted; unexpected answer"


RUST_LLD_RENDERED = (
    "error: linking with `cc` failed: exit status: 1\n"
    "  |\n"
    '  = note: LC_ALL="C" PATH="/usr/bin:/bin" VSLANG="1033" "cc" "-m64" "-o" "/w/exe-1"\n'
    "  = note: some arguments are omitted. use `--verbose` to show all linker arguments\n"
    "  = note: rust-lld: error: undefined symbol: exported_from_lib\n"
    "          >>> referenced by main.rs:3\n"
    "          collect2: error: ld returned 1 exit status\n"
)


def link_failure(name: str) -> BuildRecord:
    error = Diagnostic(
        level="error",
        message="linking with `cc` failed: exit status: 1",
        code=None,
        rendered=RUST_LLD_RENDERED,
    )
    return replace(build(name, None), diagnostics=(error,))


def built_check(artifact: str, *, expected: bool) -> Check:
    from orchestrator.config.scenario import ANYWHERE, Property

    return Check(
        artifact=artifact,
        property=Property.BUILT,
        file=None,
        matcher=None,
        expected_flag=expected,
        when=ANYWHERE,
        unless=None,
        xfail=None,
        why="",
    )


def test_an_unexplained_link_failure_carries_the_linkers_own_line(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    verdict = judge(
        glibc_cell, scenario, observation(build("lib", ("answer",)), link_failure("exe"))
    )
    assert (verdict.status, verdict.reason) == (Status.ERROR, Reason.LINK_ERROR)
    assert verdict.link_error is not None
    assert verdict.link_error.artifact == "exe"
    assert verdict.link_error.message == "linking with `cc` failed: exit status: 1"
    assert verdict.link_error.lines == ("rust-lld: error: undefined symbol: exported_from_lib",)
    assert verdict.link_error.headline == verdict.link_error.lines[0]


def test_a_failed_built_check_carries_the_link_error(glibc_cell: Cell, scenario: Scenario) -> None:
    scenario_ = with_checks(scenario, built_check("exe", expected=True))
    verdict = judge(
        glibc_cell, scenario_, observation(build("lib", ("answer",)), link_failure("exe"))
    )
    assert verdict.status is Status.FAIL
    assert verdict.link_error is not None
    assert verdict.link_error.artifact == "exe"


def test_an_expected_link_failure_carries_none(glibc_cell: Cell, scenario: Scenario) -> None:
    """`built: false` held: the link failed as the scenario says it must; nothing to show."""
    expected = with_checks(scenario, built_check("exe", expected=False))
    assert judge(glibc_cell, expected, observation(link_failure("exe"))).link_error is None
    # ... also when the cell fails for another artifact's sake
    also = with_checks(
        scenario,
        built_check("exe", expected=False),
        exports_check("lib", SetMatcher(includes=("wanted",))),
    )
    verdict = judge(glibc_cell, also, observation(build("lib", ("answer",)), link_failure("exe")))
    assert verdict.status is Status.FAIL
    assert verdict.link_error is None


def test_a_compile_error_is_no_link_error(glibc_cell: Cell, scenario: Scenario) -> None:
    error = Diagnostic(level="error", message="cannot find value `x`", code="E0425", rendered="")
    failed = replace(build("exe", None), diagnostics=(error,))
    verdict = judge(glibc_cell, scenario, observation(build("lib", ("answer",)), failed))
    assert (verdict.reason, verdict.link_error) == (Reason.BUILD_ERROR, None)


def test_a_failed_flag_check_says_what_was_expected_and_what_was_observed(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    """Not "built is true: built: false", which leaves the reader to guess which is which."""
    scenario_ = with_checks(scenario, built_check("exe", expected=True))
    verdict = judge(
        glibc_cell, scenario_, observation(build("lib", ("answer",)), link_failure("exe"))
    )
    assert verdict.checks[0].detail == "expected built true, observed built false"
    assert verdict.detail == "exe: built is true: expected built true, observed built false"
    held = with_checks(scenario, built_check("lib", expected=True))
    passed = judge(glibc_cell, held, observation(build("lib", ("answer",))))
    assert passed.checks[0].detail == "observed built true, as expected"


def test_a_failed_run_says_which_exit_code_was_expected(
    glibc_cell: Cell, scenario: Scenario
) -> None:
    scenario_ = replace(scenario, checks=(), runs=(run_spec(),))
    record = run_record(3, "= 7")
    verdict = judge(
        glibc_cell, scenario_, replace(observation(build("lib", ("answer",))), runs=(record,))
    )
    assert verdict.checks[0].detail.startswith("expected exit code 0, observed 3")
