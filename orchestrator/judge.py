"""Expectations × what the artifacts show → a verdict. Pure."""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import assert_never

from orchestrator.cell.observation import ArtifactFile, BuildRecord, NotRun, Observation, RunRecord
from orchestrator.config.scenario import Check, Phase, Property, RunSpec, SetMatcher
from orchestrator.inspect import Inspection
from orchestrator.linker_output import LinkError, is_link_failure, linker_lines
from orchestrator.plan import CellWork
from orchestrator.status import CheckOutcome, Reason, Status
from orchestrator.suggest import check_suggestion, run_suggestion


class RunCheck(enum.StrEnum):
    """The property a run's expectation reports (runs are declared apart from checks)."""

    RUN = "run"


CheckKind = Property | RunCheck


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """One expectation and how it came out for this cell."""

    artifact: str
    property: str
    expectation: str
    outcome: CheckOutcome
    detail: str
    why: str
    xfail_reason: str | None
    xfail_link: str | None
    flaky: str | None = None  # the check's `flaky:` reason or link
    # a failed check: the smallest expectation that would have matched what was observed,
    # as scenario.yaml text (suggest.py)
    suggestion: str | None = None


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """A judged cell: status, reason, one line of detail, and each check.

    `link_error`: for a cell that failed or erred because an artifact did not link, that link
    and the linker's own lines (rustc's headline alone says nothing but "failed").
    """

    status: Status
    reason: Reason | None
    detail: str
    checks: tuple[CheckResult, ...]
    link_error: LinkError | None = None


@dataclass(frozen=True, kw_only=True)
class MatchResult:
    """A set of names compared with a matcher: what was missing, what was unexpected."""

    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    names: tuple[str, ...]  # the names compared

    @property
    def outcome(self) -> CheckOutcome:
        return CheckOutcome.FAIL if self.missing or self.unexpected else CheckOutcome.PASS

    @property
    def detail(self) -> str:
        """What was missing and unexpected, or the names seen when nothing was."""
        problems = ([f"missing {_short(self.missing)}"] if self.missing else []) + (
            [f"unexpected {_short(self.unexpected)}"] if self.unexpected else []
        )
        if problems:
            return "; ".join(problems)
        shown = _short(sorted(self.names)) if self.names else "none"
        return f"as expected ({len(self.names)}: {shown})"


@dataclass(frozen=True, kw_only=True)
class _Outcome:
    """How an expectation came out before xfail, with the set match it came from (if any)."""

    outcome: CheckOutcome
    detail: str
    match: MatchResult | None = None


@dataclass(frozen=True, kw_only=True)
class _Judged:
    """A check's result with what the verdict needs to know of it beyond the published text."""

    result: CheckResult
    kind: CheckKind
    match: MatchResult | None
    check: Check | None = None  # the expectation judged (None for a run's)
    run: RunSpec | None = None
    record: RunRecord | None = None  # the run's record, when it was recorded


LOG_TAIL_LINES = 25


def judge(work: CellWork, observation: Observation) -> Verdict:
    """The verdict of one executed cell: its observation against the checks and runs of `work`."""
    if observation.failure is not None:
        failure = observation.failure
        return Verdict(
            status=Status.ERROR,
            reason=failure.reason,
            detail=f"{failure.step}: {failure.detail}",
            checks=(),
        )
    builds = {build.name: build for build in observation.builds}
    judged = tuple(
        _evaluate(check, builds[check.artifact], observation.runs)
        for check in work.checks
        if check.artifact in builds
    )
    judged += tuple(_evaluate_run(spec, observation.runs) for spec in work.runs)
    judged = tuple(_with_suggestion(j, work, observation) for j in judged)
    checks = tuple(item.result for item in judged)
    unexplained = _unexplained_build_failure(observation.builds, judged)
    if unexplained is not None:
        return Verdict(
            status=Status.ERROR,
            reason=_build_reason(unexplained),
            detail=_build_detail(unexplained, observation.log),
            checks=checks,
            link_error=link_error(unexplained),
        )
    verdict = _verdict_from_checks(judged)
    if verdict.status in (Status.FAIL, Status.ERROR):
        return replace(verdict, link_error=_culprit_link_error(observation.builds, judged))
    return verdict


def _evaluate(check: Check, build: BuildRecord, runs: Sequence[RunRecord]) -> _Judged:
    raw = _raw_outcome(check, build, runs)
    outcome, detail = _marked(
        raw.outcome, raw.detail, xfail=check.xfail is not None, flaky=check.flaky
    )
    result = CheckResult(
        artifact=check.artifact,
        property=check.property.value,
        expectation=check.describe(),
        outcome=outcome,
        detail=detail,
        why=check.why,
        xfail_reason=check.xfail.reason if check.xfail else None,
        xfail_link=check.xfail.link if check.xfail else None,
        flaky=check.flaky,
    )
    return _Judged(result=result, kind=check.property, match=raw.match, check=check)


def _with_suggestion(judged: _Judged, work: CellWork, observation: Observation) -> _Judged:
    """A failed check with the expectation that would have matched (suggest.py)."""
    if judged.result.outcome is not CheckOutcome.FAIL:
        return judged
    cell = work.cell
    where = (cell.toolchain, cell.target, cell.release)
    if judged.run is not None:
        text = run_suggestion(judged.run, judged.record, where)
    else:
        assert judged.check is not None
        text = _check_suggestion(judged, judged.check, observation, where)
    return dataclasses.replace(judged, result=dataclasses.replace(judged.result, suggestion=text))


def _check_suggestion(
    judged: _Judged, check: Check, observation: Observation, where: tuple[str, str, str]
) -> str | None:
    build = next(b for b in observation.builds if b.name == check.artifact)
    chosen = _checked_file(build, check)
    static = chosen.inspection.static if chosen else None
    return check_suggestion(
        check,
        names=judged.match.names if judged.match else None,
        substring=check.property in (Property.DIAGNOSTICS, Property.DIAGNOSTICS_TEXT),
        build=build,
        phase=observed_phase(build, observation.runs),
        flag=_built(build, check) if check.property is Property.BUILT else static,
        where=where,
    )


def _marked(
    outcome: CheckOutcome, detail: str, *, xfail: bool, flaky: str | None
) -> tuple[CheckOutcome, str]:
    """The outcome an `xfail:` or `flaky:` marker makes of a judged one (unknown stays)."""
    if outcome is CheckOutcome.UNKNOWN:
        return outcome, detail
    if flaky is not None:
        # never a pass: what it did this time is shown, not counted
        return CheckOutcome.FLAKY, f"flaky ({flaky}); this time {outcome}: {detail}"
    if xfail:
        return CheckOutcome.XFAIL if outcome is CheckOutcome.FAIL else CheckOutcome.XPASS, detail
    return outcome, detail


def _evaluate_run(spec: RunSpec, records: Sequence[RunRecord]) -> _Judged:
    record = next((r for r in records if r.name == spec.name), None)
    raw, detail = _run_outcome(spec, record)
    outcome, detail = _marked(raw, detail, xfail=False, flaky=spec.flaky)
    result = CheckResult(
        artifact=spec.artifact,
        property=RunCheck.RUN.value,
        expectation=spec.describe(),
        outcome=outcome,
        detail=detail,
        why=spec.why,
        xfail_reason=None,
        xfail_link=None,
        flaky=spec.flaky,
    )
    return _Judged(result=result, kind=RunCheck.RUN, match=None, run=spec, record=record)


# What a loader, a container runtime or a wasm host says when a program never started: the
# glibc and musl dynamic loaders, runc for a missing PT_INTERP, wine, wasmtime and node.
LOAD_FAILURE_PATTERNS = (
    r"error while loading shared libraries",
    r"symbol lookup error",
    r"Error loading shared library",
    r"Error relocating",
    r"^exec .*: (no such file or directory|exec format error)",
    r"OCI runtime exec failed",
    r"err:module:import_dll",
    r"unknown import",
    r"incompatible import type",
    r"LinkError",
)
LOAD_FAILURES = re.compile("|".join(LOAD_FAILURE_PATTERNS), re.MULTILINE)


def observed_phase(build: BuildRecord, runs: Sequence[RunRecord]) -> Phase | None:
    """Where the artifact's way to a running program first failed; None: nowhere it went.

    Not built: compile, or link when rustc's errors say the link failed (a missing linker
    too). Built: load when one of its runs never started (LOAD_FAILURES), run when one exited
    non-zero or was killed.
    """
    if not build.built:
        return Phase.LINK if _link_failed(build) else Phase.COMPILE
    ran = [r for r in runs if r.artifact == build.name and r.not_run is None]
    if any(r.exit_code != 0 and LOAD_FAILURES.search(r.stderr + r.stdout) for r in ran):
        return Phase.LOAD
    if any(r.exit_code != 0 for r in ran):
        return Phase.RUN
    return None


def _phase_outcome(expected: Phase, build: BuildRecord, runs: Sequence[RunRecord]) -> _Outcome:
    observed = observed_phase(build, runs)
    if observed == expected:
        return _Outcome(outcome=CheckOutcome.PASS, detail=f"failed at {observed}, as expected")
    ran = any(r.artifact == build.name and r.not_run is None for r in runs)
    if observed is None and expected in (Phase.LOAD, Phase.RUN) and not ran:
        return _Outcome(
            outcome=CheckOutcome.UNKNOWN,
            detail=f"expected failure at {expected}, but no run of the artifact was carried "
            "out (declare one under runs:)",
        )
    seen = "success" if observed is None else f"{observed} failure"
    return _Outcome(
        outcome=CheckOutcome.FAIL, detail=f"expected failure at {expected}, observed {seen}"
    )


def _run_outcome(spec: RunSpec, record: RunRecord | None) -> tuple[CheckOutcome, str]:
    if record is None:
        return CheckOutcome.UNKNOWN, "the run was not recorded"
    if record.not_run is NotRun.ARTIFACT_NOT_BUILT:
        return CheckOutcome.UNKNOWN, record.not_run.value
    if record.not_run is not None:
        return CheckOutcome.NOT_RUN, f"not run: {record.not_run.value}"
    problems = []
    if record.exit_code != spec.exit_code:
        problems.append(f"expected exit code {spec.exit_code}, observed {record.exit_code}")
    for stream, matcher, text in (
        ("stdout", spec.stdout, record.stdout),
        ("stderr", spec.stderr, record.stderr),
    ):
        if matcher is None:
            continue
        match = match_set(matcher, [text], substring=True)
        if match.outcome is CheckOutcome.FAIL:
            problems.append(f"{stream} {match.detail}")
    if problems:
        tail = _tail_text(record.stdout + record.stderr)
        return CheckOutcome.FAIL, "; ".join(problems) + (f"; output: {tail}" if tail else "")
    return CheckOutcome.PASS, f"exit code {record.exit_code}; stdout: {_tail_text(record.stdout)}"


def _tail_text(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def _raw_outcome(check: Check, build: BuildRecord, runs: Sequence[RunRecord]) -> _Outcome:
    if check.property is Property.FAILS_AT:
        assert check.expected_phase is not None
        return _phase_outcome(check.expected_phase, build, runs)
    if check.property is Property.BUILT:
        return _flag_outcome(
            expected=check.expected_flag, actual=_built(build, check), name="built"
        )
    if check.property in (Property.DIAGNOSTICS, Property.DIAGNOSTICS_TEXT):
        assert check.matcher is not None
        texts = _diagnostic_texts(check.property, build)
        return _set_outcome(match_set(check.matcher, texts, substring=True))
    return _file_outcome(check, build)


def _file_outcome(check: Check, build: BuildRecord) -> _Outcome:
    """A check that reads the artifact's file (its primary one, or the one `file:` names)."""
    chosen = _checked_file(build, check)
    if chosen is None:
        return _Outcome(outcome=CheckOutcome.UNKNOWN, detail=_no_file(build, check))
    inspection = chosen.inspection
    match check.property:
        case Property.STATIC:
            if inspection.static is None:
                return _Outcome(
                    outcome=CheckOutcome.UNKNOWN,
                    detail=f"'static' has no meaning for {inspection.format}",
                )
            return _flag_outcome(
                expected=check.expected_flag, actual=inspection.static, name="static"
            )
        case (
            Property.EXPORTS
            | Property.IMPORTS
            | Property.NEEDED
            | Property.MEMBERS
            | Property.DEMANGLED
            | Property.DATA
        ):
            assert check.matcher is not None
            names = _names(inspection, check.property)
            return _set_outcome(match_set(check.matcher, names, substring=False))
        case Property.BUILT | Property.DIAGNOSTICS | Property.DIAGNOSTICS_TEXT | Property.FAILS_AT:
            raise AssertionError("handled above")
        case _:
            assert_never(check.property)


def _diagnostic_texts(prop: Property, build: BuildRecord) -> list[str]:
    """Headlines, or the whole rendered messages (whose notes carry the linker's stderr)."""
    if prop is Property.DIAGNOSTICS:
        return [d.headline for d in build.diagnostics]
    return [d.rendered or d.headline for d in build.diagnostics]


def _names(inspection: Inspection, prop: Property) -> Sequence[str]:
    """The set of names a set property reads (demangled: the readable names of the exports)."""
    if prop is Property.DEMANGLED:
        return [text for _, text in inspection.demangled]
    names: Sequence[str] = getattr(inspection, prop.value)
    return names


def _checked_file(build: BuildRecord, check: Check) -> ArtifactFile | None:
    """The file a check reads: its crate type's, the one its glob names, else the artifact's
    primary file.
    """
    if check.crate_type is not None:
        return build.crate_type_file(check.crate_type)
    if check.file is None or not build.built:
        return build.primary_file()
    return next((f for f in build.files if fnmatch.fnmatchcase(f.file, check.file)), None)


def _no_file(build: BuildRecord, check: Check) -> str:
    """Why a check that reads a file has none to read."""
    if check.crate_type is not None:
        return f"the artifact's {check.crate_type} was not built"
    missing = f"no file matching {check.file!r}" if check.file and build.built else "not built"
    return f"the artifact was {missing}"


def _built(build: BuildRecord, check: Check) -> bool:
    """`built`: of the check's crate type, else of the whole artifact (every crate type)."""
    if check.crate_type is not None:
        return build.crate_type_built(check.crate_type)
    return build.built


def _flag_outcome(*, expected: bool | None, actual: bool, name: str) -> _Outcome:
    """A flag's outcome, in words that say which value was expected and which was observed
    (a bare "built: false" beside "built is true" left the reader to guess).
    """
    seen = str(actual).lower()
    if actual == expected:
        return _Outcome(outcome=CheckOutcome.PASS, detail=f"observed {name} {seen}, as expected")
    wanted = str(expected).lower()
    return _Outcome(
        outcome=CheckOutcome.FAIL, detail=f"expected {name} {wanted}, observed {name} {seen}"
    )


def _set_outcome(match: MatchResult) -> _Outcome:
    return _Outcome(outcome=match.outcome, detail=match.detail, match=match)


def match_set(matcher: SetMatcher, names: Sequence[str], *, substring: bool) -> MatchResult:
    """Compare names with a matcher; the detail names exactly what was missing or unexpected.

    With `substring`, `includes`/`excludes` match any name containing the text (diagnostics are
    sentences); otherwise they compare whole names (symbols).
    """

    def present(wanted: str) -> bool:
        return any(wanted in name for name in names) if substring else wanted in names

    missing = [w for w in matcher.includes if not present(w)]
    missing += [p for p in matcher.includes_matching if not any(re.search(p, n) for n in names)]
    unexpected = [w for w in matcher.excludes if present(w)]
    unexpected += [n for p in matcher.excludes_matching for n in names if re.search(p, n)]
    if matcher.equals is not None and sorted(set(names)) != sorted(set(matcher.equals)):
        missing += [w for w in matcher.equals if w not in names]
        unexpected += [n for n in names if n not in matcher.equals]
    return MatchResult(missing=tuple(missing), unexpected=tuple(unexpected), names=tuple(names))


def _short(names: Sequence[str], limit: int = 8) -> str:
    unique = list(dict.fromkeys(names))
    shown = ", ".join(unique[:limit])
    return shown + (f" (+{len(unique) - limit} more)" if len(unique) > limit else "")


def _unexplained_build_failure(
    builds: Sequence[BuildRecord], judged: Sequence[_Judged]
) -> BuildRecord | None:
    """The first failed build that no `built` check on its artifact accounts for: one on the
    whole artifact, or one on each crate type that left no file (a check on the rlib says
    nothing of a dropped cdylib).
    """
    scopes = {_scope(j) for j in judged if j.kind in (Property.BUILT, Property.FAILS_AT)}

    def explained(build: BuildRecord) -> bool:
        missing = build.missing_crate_types or (None,)
        return (build.name, None) in scopes or all((build.name, t) in scopes for t in missing)

    return next((b for b in builds if not b.built and not explained(b)), None)


def _scope(judged: _Judged) -> tuple[str, str | None]:
    """What a check is about: its artifact, and the one crate type it reads (None: all)."""
    crate_type = judged.check.crate_type if judged.check else None
    return judged.result.artifact, crate_type.value if crate_type else None


def _build_reason(build: BuildRecord) -> Reason:
    if re.search(r"linker `[^`]+` not found", _errors(build)):
        return Reason.TOOLCHAIN_MISSING
    if _link_failed(build):
        return Reason.LINK_ERROR
    return Reason.BUILD_ERROR


def link_error(build: BuildRecord) -> LinkError | None:
    """The build's failed link, with the linker's own lines; None if it did not fail linking."""
    failed = next(
        (d for d in build.diagnostics if d.level == "error" and is_link_failure(d.message)), None
    )
    if failed is None or build.built:
        return None
    return LinkError(
        artifact=build.name, message=failed.message, lines=linker_lines(failed.rendered)
    )


def _culprit_link_error(
    builds: Sequence[BuildRecord], judged: Sequence[_Judged]
) -> LinkError | None:
    """The failed link of an artifact whose check failed or could not be judged, if any.

    An artifact whose `built: false` check passed failed to link as expected: not a culprit.
    """
    expected = {
        j.result.artifact
        for j in judged
        if j.kind is Property.BUILT and j.result.outcome is CheckOutcome.PASS
    }
    culprits = {
        j.result.artifact
        for j in judged
        if j.result.outcome in (CheckOutcome.FAIL, CheckOutcome.UNKNOWN)
    } - expected
    found = (link_error(b) for b in builds if b.name in culprits)
    return next((error for error in found if error is not None), None)


def _errors(build: BuildRecord) -> str:
    return " ".join(d.message for d in build.diagnostics if d.level == "error")


def _link_failed(build: BuildRecord) -> bool:
    """rustc's errors say the link failed (`linking with cc failed`, `linker ... not found`)."""
    failed = any(is_link_failure(d.message) for d in build.diagnostics if d.level == "error")
    return failed or re.search(r"linker `[^`]+` not found", _errors(build)) is not None


def _build_detail(build: BuildRecord, log: str) -> str:
    first_error = next((d.message for d in build.diagnostics if d.level == "error"), None)
    if first_error is None and build.exit_code == 0:
        first_error = _no_file_reason(build)
    tail = "\n".join(log.rstrip().splitlines()[-LOG_TAIL_LINES:])
    return (
        f"building artifact '{build.name}' failed (exit {build.exit_code}): "
        f"{first_error or 'see the log'}\n--- log tail ---\n{tail}"
    )


def _no_file_reason(build: BuildRecord) -> str:
    """A build that succeeded without its file: rustc's warning that it dropped the crate
    type (a `crate_types:` entry the target cannot have), else cargo's silence.
    """
    dropped = next(
        (d.message for d in build.diagnostics if "dropping unsupported crate type" in d.message),
        None,
    )
    if build.missing_crate_types:
        types = ", ".join(build.missing_crate_types)
        return f"no file for {types}" + (f" ({dropped})" if dropped else "")
    return dropped or "cargo reported no artifact for it"


def _verdict_from_checks(judged: Sequence[_Judged]) -> Verdict:
    checks = [j.result for j in judged]
    by_outcome = {outcome: [c for c in checks if c.outcome is outcome] for outcome in CheckOutcome}
    if by_outcome[CheckOutcome.UNKNOWN] and not _explained_unknowns(judged):
        first = by_outcome[CheckOutcome.UNKNOWN][0]
        return Verdict(
            status=Status.ERROR,
            reason=Reason.INSPECTION_ERROR,
            detail=f"{first.artifact}: {first.detail}",
            checks=tuple(checks),
        )
    if failed := by_outcome[CheckOutcome.FAIL]:
        return Verdict(
            status=Status.FAIL,
            reason=_fail_reason(next(j for j in judged if j.result is failed[0])),
            detail=_describe(failed),
            checks=tuple(checks),
        )
    if xpassed := by_outcome[CheckOutcome.XPASS]:
        return Verdict(
            status=Status.XPASS,
            reason=Reason.UNEXPECTED_PASS,
            detail=_describe(xpassed),
            checks=tuple(checks),
        )
    if flaky := by_outcome[CheckOutcome.FLAKY]:
        return Verdict(
            status=Status.FLAKY, reason=Reason.FLAKY, detail=_describe(flaky), checks=tuple(checks)
        )
    if xfailed := by_outcome[CheckOutcome.XFAIL]:
        detail = "; ".join(f"{c.xfail_reason} ({c.xfail_link})" for c in xfailed)
        return Verdict(
            status=Status.XFAIL, reason=Reason.KNOWN_UPSTREAM, detail=detail, checks=tuple(checks)
        )
    return Verdict(status=Status.PASS, reason=None, detail="", checks=tuple(checks))


def _explained_unknowns(judged: Sequence[_Judged]) -> bool:
    """Unknowns on an artifact whose `built` or `fails_at` check matched are fine (it was
    expected not to build, or not to get that far).
    """
    expected_unbuilt = {
        _scope(j)
        for j in judged
        if j.kind in (Property.BUILT, Property.FAILS_AT)
        and j.result.outcome in (CheckOutcome.PASS, CheckOutcome.FLAKY)
    }
    # a check on one crate type is explained by a check on the whole artifact or on that type;
    # one on the whole artifact by any (as before crate types had checks of their own)
    explaining = {artifact for artifact, _ in expected_unbuilt}
    return all(
        (_scope(j)[0], None) in expected_unbuilt
        or (_scope(j) in expected_unbuilt if _scope(j)[1] else _scope(j)[0] in explaining)
        for j in judged
        if j.result.outcome is CheckOutcome.UNKNOWN
    )


def _fail_reason(failed: _Judged) -> Reason:
    if failed.kind is RunCheck.RUN:
        return Reason.RUN_FAILED
    if failed.kind in (Property.EXPORTS, Property.IMPORTS):
        assert failed.match is not None  # a set property's failure is a set match's
        return Reason.SYMBOL_MISSING if failed.match.missing else Reason.SYMBOL_UNEXPECTED
    return Reason.CHECK_FAILED


def _describe(checks: Sequence[CheckResult]) -> str:
    return "; ".join(f"{c.artifact}: {c.expectation}: {c.detail}" for c in checks)
