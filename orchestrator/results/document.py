"""results.json of a run: its records built from what cells observed, rewritten as cells finish."""

from __future__ import annotations

import datetime as dt
import math
import platform
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator import __version__
from orchestrator.cell.observation import (
    BuildRecord,
    Observation,
    RunRecord,
    StdRecord,
    ToolInfo,
)
from orchestrator.config.matrix import Toolchain
from orchestrator.judge import CheckResult, Verdict
from orchestrator.plan import Cell
from orchestrator.results.codec import RESULTS_FILE, write_results
from orchestrator.results.model import (
    SCHEMA_VERSION,
    ArtifactRecord,
    BootstrapRecord,
    BuildInfo,
    CellRecord,
    CheckRecord,
    CrateTypeRecord,
    DiagnosticRecord,
    LinkerRecord,
    LinkErrorRecord,
    MergedInput,
    OtherFile,
    Provenance,
    ResultsDocument,
    RouteRecord,
    RunnerRecord,
    RunResult,
    Selection,
    StdInfo,
)
from orchestrator.status import Reason, Status

__all__ = [
    "RESULTS_FILE",
    "SCHEMA_VERSION",
    "CellRun",
    "Machine",
    "ResultsFile",
    "cell_record",
    "now_iso",
    "provenance",
    "results_document",
    "summarize",
    "this_machine",
    "unbuilt_record",
]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, kw_only=True)
class CellRun:
    """One finished cell with everything the report needs."""

    cell: Cell
    toolchain: Toolchain
    verdict: Verdict
    observation: Observation | None
    image_id: str | None
    cached: bool
    log_path: str | None
    bootstrap: bool = False


def cell_record(run: CellRun) -> CellRecord:
    """The results.json entry of one cell."""
    cell, obs, verdict = run.cell, run.observation, run.verdict
    tools = obs.tools if obs else None
    builds = obs.builds if obs else ()
    route = run.toolchain.route
    return CellRecord(
        id=cell.id,
        toolchain=cell.toolchain,
        release=cell.release,
        target=cell.target,
        scenario=cell.scenario,
        status=verdict.status,
        reason=verdict.reason,
        detail=verdict.detail,
        link_error=_link_error_record(verdict),
        rustc=tools.rustc if tools else None,
        cargo=tools.cargo if tools else None,
        llvm=tools.llvm if tools else None,
        linker=LinkerRecord(name=route.linker, version=tools.linker_version if tools else None),
        runner=_runner_record(run.toolchain, cell.target, tools),
        route=RouteRecord(linker=route.linker, libraries=route.libraries, stand_in=route.stand_in),
        image=run.image_id,
        duration_s=round(obs.duration_s, 3) if obs else 0.0,
        cached=run.cached,
        diagnostics=tuple(
            DiagnosticRecord(
                level=d.level, message=d.message, code=d.code, rendered=d.rendered, artifact=b.name
            )
            for b in builds
            for d in b.diagnostics
        ),
        artifacts=tuple(_artifact_record(b) for b in builds),
        checks=tuple(_check_record(c) for c in verdict.checks),
        runs=tuple(_run_record(r) for r in (obs.runs if obs else ())),
        log=run.log_path,
        std=_std_info(obs.std) if obs and obs.std else None,
    )


def _link_error_record(verdict: Verdict) -> LinkErrorRecord | None:
    error = verdict.link_error
    if error is None:
        return None
    return LinkErrorRecord(artifact=error.artifact, message=error.message, lines=error.lines)


def _runner_record(
    toolchain: Toolchain, triple: str, tools: ToolInfo | None
) -> RunnerRecord | None:
    """The target's runner as matrix.yaml gives it, with the version its probe printed."""
    target = next((t for t in toolchain.targets if t.triple == triple), None)
    if target is None or target.runner is None:
        return None
    version = tools.runner_version if tools else None
    return RunnerRecord(command=target.runner.command, version=version)


def _std_info(std: StdRecord) -> StdInfo:
    return StdInfo(built=std.built, seconds=std.seconds, sysroot=std.sysroot, key=std.key)


def _artifact_record(build: BuildRecord) -> ArtifactRecord:
    primary = build.primary_file()
    inspection = primary.inspection if primary else None
    return ArtifactRecord(
        name=build.name,
        kind=build.crate_type
        or ",".join(c.crate_type for c in build.crate_files)
        or build.target_kind,
        built=build.built,
        file=primary.path if primary else None,
        format=inspection.format if inspection else None,
        file_type=inspection.file_type if inspection else None,
        machine=inspection.machine if inspection else None,
        exports=inspection.exports if inspection else None,
        imports=inspection.imports if inspection else None,
        needed=inspection.needed if inspection else None,
        members=inspection.members if inspection else None,
        demangled=dict(inspection.demangled) if inspection else {},
        data=inspection.data if inspection else None,
        interpreter=inspection.interpreter if inspection else None,
        static=inspection.static if inspection else None,
        notes=inspection.notes if inspection else (),
        sha256=primary.sha256 if primary else None,
        size=primary.size if primary else None,
        other_files=tuple(
            OtherFile(
                file=f.file, path=f.path, sha256=f.sha256, size=f.size, format=f.inspection.format
            )
            for f in build.files
            if f is not primary
        ),
        crate_types=_crate_type_records(build) if build.crate_files else None,
        build=BuildInfo(
            command=build.command,
            env=dict(build.env),
            exit_code=build.exit_code,
            duration_s=round(build.duration_s, 3),
            rustc=build.rustc,
            bootstrap=BootstrapRecord(cause=build.bootstrap.cause, why=build.bootstrap.why)
            if build.bootstrap
            else None,
            rustflags=build.rustflags or None,
        ),
    )


def _crate_type_records(build: BuildRecord) -> tuple[CrateTypeRecord, ...]:
    records = []
    for crate in build.crate_files:
        file = build.crate_type_file(crate.crate_type)
        records.append(
            CrateTypeRecord(
                crate_type=crate.crate_type,
                built=build.crate_type_built(crate.crate_type),
                file=file.path if file else None,
            )
        )
    return tuple(records)


def _check_record(check: CheckResult) -> CheckRecord:
    return CheckRecord(
        artifact=check.artifact,
        property=check.property,
        expectation=check.expectation,
        outcome=check.outcome,
        detail=check.detail,
        why=check.why,
        xfail_reason=check.xfail_reason,
        xfail_link=check.xfail_link,
        flaky=check.flaky,
        suggestion=check.suggestion,
    )


RUN_OUTPUT_LIMIT = 4000


def _run_record(run: RunRecord) -> RunResult:
    """A run with its output (the last 4000 characters of each stream)."""
    return RunResult(
        name=run.name,
        artifact=run.artifact,
        command=run.command,
        exit_code=run.exit_code,
        stdout=run.stdout[-RUN_OUTPUT_LIMIT:],
        stderr=run.stderr[-RUN_OUTPUT_LIMIT:],
        duration_s=round(run.duration_s, 3),
        not_run=run.not_run,
    )


def unbuilt_record(
    cell: Cell, toolchain: Toolchain, *, status: Status, reason: Reason, detail: str
) -> CellRecord:
    """The entry of a cell that built nothing: not applicable, skipped, or its image failed."""
    verdict = Verdict(status=status, reason=reason, detail=detail, checks=())
    return cell_record(
        CellRun(
            cell=cell,
            toolchain=toolchain,
            verdict=verdict,
            observation=None,
            image_id=None,
            cached=False,
            log_path=None,
        )
    )


@dataclass(frozen=True, kw_only=True)
class Machine:
    """Where a document was made: one host, or the hosts of merged shards, joined."""

    host: str
    platform: str
    python: str


def this_machine() -> Machine:
    return Machine(
        host=platform.node(), platform=platform.platform(), python=platform.python_version()
    )


def provenance(
    *,
    run_id: str,
    machine: Machine,
    matrix: str,
    selection: Selection,
    started: str,
    finished: str | None,
    merged_from: Sequence[MergedInput] | None = None,
    planned: Sequence[str] | None = None,
    complete: bool | None = None,
) -> Provenance:
    """The provenance of a run's document, or (with `merged_from`) of a merged one."""
    return Provenance(
        orchestrator=f"linkmatrix {__version__}",
        run_id=run_id,
        host=machine.host,
        platform=machine.platform,
        python=machine.python,
        matrix=matrix,
        selection=selection,
        started=started,
        finished=finished,
        merged_from=tuple(merged_from) if merged_from is not None else None,
        planned=tuple(planned) if planned is not None else None,
        complete=complete,
    )


def summarize(records: Iterable[CellRecord]) -> dict[Status, int]:
    """Count of cells per status, every status present (zeros included)."""
    counts = dict.fromkeys(Status, 0)
    for record in records:
        counts[record.status] += 1
    return counts


def results_document(provenance: Provenance, cells: Iterable[CellRecord]) -> ResultsDocument:
    """A document of `cells`, ordered by id, with their summary."""
    ordered = tuple(sorted(cells, key=lambda record: record.id))
    return ResultsDocument(
        schema_version=SCHEMA_VERSION,
        provenance=provenance,
        summary=summarize(ordered),
        cells=ordered,
    )


# results.json grows with every artifact's symbol lists (a staticlib carries all of std's names):
# rewriting it after every cell would make a run quadratic in its size. It is rewritten when the
# time since the last write is at least this many times what that write took, so writing takes
# at most about 1/(1+N) of a run; finish() (also reached on Ctrl-C) always writes. A killed run's
# finished cells are in the cell cache too: the next run replays them without building.
# 20 (at most ~5 %): the cold whole matrix spent 110 s (3 %) publishing with 5, most of it these
# rewrites (2 s each at the end), against a 10 % budget for everything the host does.
REWRITE_SPACING = 20


@dataclass(kw_only=True)
class ResultsFile:
    """The results document of one run, rewritten atomically as cells finish."""

    path: Path
    matrix: str
    selection: Selection
    run_id: str
    started: str = field(default_factory=now_iso)
    cells: dict[str, CellRecord] = field(default_factory=dict)
    finished: str | None = None
    # the ids of every cell the run was asked for; None: not known (the document says so)
    planned: tuple[str, ...] | None = None
    complete: bool = False  # the run went through its whole plan
    _last_write_ended: float = -math.inf
    _last_write_seconds: float = 0.0
    _unwritten: bool = False  # finished, and that last state not on disk yet

    def add(self, record: CellRecord) -> None:
        self.cells[record.id] = record
        # a killed run loses no cached cell (the next run replays it) and no cell that ran
        # nothing (no image: skipped for a missing SDK, or its image failed): so a warm re-run
        # writes the file once, at the end
        if record.cached or record.image is None:
            return
        since = time.monotonic() - self._last_write_ended
        if since >= REWRITE_SPACING * self._last_write_seconds:
            self.write()

    def finish(self, *, complete: bool = True, write: bool = True) -> None:
        """Write the document a last time; `complete=False` when the run stopped early.

        `write=False`: the caller writes it (`write_final`), beside the views' rendering.
        """
        self.finished = now_iso()
        self.complete = complete
        self._unwritten = True
        if write:
            self.write()

    def write_final(self) -> None:
        """Write the finished document unless it is on disk already (idempotent)."""
        if self._unwritten:
            self.write()

    def document(self) -> ResultsDocument:
        made = provenance(
            run_id=self.run_id,
            machine=this_machine(),
            matrix=self.matrix,
            selection=self.selection,
            started=self.started,
            finished=self.finished,
            planned=self.planned,
            complete=self.complete,
        )
        return results_document(made, self.cells.values())

    def write(self) -> None:
        started = time.monotonic()
        write_results(self.path, self.document())
        self._last_write_ended = time.monotonic()
        self._last_write_seconds = self._last_write_ended - started
        self._unwritten = False
