"""A cell's steps inside its container: sources in, prepare, cargo per artifact, files out, runs.

Each step is a small function over a `GroupSession` (the container, typed by the `CellSandbox`
protocol, and what it already holds) and a `CellJob` (the cell being run). Every command goes
through `exec_step`, the one policy for a command that fails to finish. The files come out
un-inspected (their format detected from their bytes): inspection is a later, cached step.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import posixpath
import re
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_never

from orchestrator.cell.cargo import (
    COLLECT_FAILED,
    COLLECT_FAILED_EXIT,
    SOURCE_ROOT,
    WORK_ROOT,
    Collect,
    artifact_dir,
    bootstrap_need,
    cargo_invocation,
    parse_cargo_messages,
    rustc_command,
    with_collect,
    workdir_command,
)
from orchestrator.cell.observation import (
    BuildOutput,
    BuiltFile,
    CellOutput,
    CrateTypeFile,
    Failure,
    NotRun,
    RunRecord,
    StdRecord,
    ToolInfo,
)
from orchestrator.cell.sources import scenario_tar
from orchestrator.cell.stdlib import (
    std_build_command,
    std_build_env,
    std_key,
    std_was_built,
    sysroot_dir,
)
from orchestrator.config.matrix import Limits, Release, TargetSpec
from orchestrator.config.scenario import ArtifactSpec, CrateType, RunPlace, RunSpec, Scenario
from orchestrator.engine.container import (
    CELL_USER,
    ENGINE_ERRORS,
    ROOT_USER,
    CellSandbox,
    ContainerState,
    Deadline,
    ExecResult,
    MemoryEvents,
)
from orchestrator.engine.scratch import ScratchRunner
from orchestrator.errors import FetchError
from orchestrator.images.releases import DEFAULT_RUST_INFO
from orchestrator.inspect.detect import detect_format
from orchestrator.inspect.model import ArtifactFormat
from orchestrator.layout import artifact_report_path
from orchestrator.plan import CellWork
from orchestrator.status import Reason

SIGKILL_EXIT_CODE = 137  # the OOM killer's signal, but also any other SIGKILL
# A container killed under a command (`docker kill`, the engine restarting) SIGKILLs the command
# too, and the exec can return before the engine marks the container exited: after a SIGKILL,
# the state is asked again for this long before the exit is taken as the step's own.
KILLED_STATE_SETTLE_S = 3.0
KILLED_STATE_POLL_S = 0.1
# cargo also reads .cargo/config.toml in the parents of a cell's workdir: those the cell user
# owns (/home/builder/work, /home/builder; /home and / are root's) could hold one an earlier cell
# of the group planted. No legitimate cell writes them: each cell removes them before it builds.
PLANTED_CARGO_CONFIGS = (f"{WORK_ROOT}/.cargo", f"{posixpath.dirname(WORK_ROOT)}/.cargo")

# what a failed runner probe's record keeps of its output: the error, not a flood
RUNNER_PROBE_SAID = 300
# a GroupSession's probe key: the target, its linker's version argv, its runner's (or None)
ToolProbe = tuple[str, tuple[str, ...], tuple[str, ...] | None]

PRIMARY_FORMATS = (
    ArtifactFormat.ELF,
    ArtifactFormat.PE,
    ArtifactFormat.MACHO,
    ArtifactFormat.WASM,
    ArtifactFormat.PTX,
    ArtifactFormat.ARCHIVE,
    ArtifactFormat.EMSCRIPTEN_JS,
)


class CellAborted(Exception):
    """A step was killed (deadline) or the engine failed: the cell ends with this failure."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


@dataclass(kw_only=True)
class CellLog:
    """The human log of one cell: each step's command and output, in order."""

    parts: list[str] = field(default_factory=list)

    def step(self, title: str, command: str, result: ExecResult, extra: str = "") -> None:
        self.parts.append(
            f"== {title} ==\n$ {command}\n{result.stderr}{extra}"
            f"-- exit {result.exit_code} in {result.seconds:.1f} s --\n"
        )

    def note(self, title: str, text: str) -> None:
        """What linkmatrix knew without running a command."""
        self.parts.append(f"== {title} ==\n{text}\n")

    def text(self) -> str:
        return "\n".join(self.parts)


@dataclass(kw_only=True)
class HostTimes:
    """The host's share of a cell outside its steps, where it is large enough to watch (read and
    reset by the pipeline after each cell, for its phase breakdown).
    """

    sources_in_s: float = 0.0  # vendoring on the host, the sources' tar into the container
    files_out_s: float = 0.0  # built files out of the container, written and hashed
    prepare_s: float = 0.0  # the scenario's prepare commands: in-container work (cc, javac)
    housekeeping_s: float = 0.0  # our commands in the container: workdir, probes, std look

    def take(self) -> tuple[float, float, float, float]:
        taken = (self.sources_in_s, self.files_out_s, self.prepare_s, self.housekeeping_s)
        self.sources_in_s = self.files_out_s = self.prepare_s = self.housekeeping_s = 0.0
        return taken


@dataclass(kw_only=True)
class GroupSession:
    """One image group's container and what it holds across cells.

    `sources`: the scenarios whose sources are in the container `sources_in` (lost when it is
    replaced); `tools`: the toolchain probe per target; `vendored`: each scenario's vendored
    crates (host); `memory`: the container's cgroup counters when last read (a fresh one's: 0).
    """

    container: CellSandbox
    limits: Limits
    rust_info: str = DEFAULT_RUST_INFO  # the container's release's rust.json (images/releases)
    scratch: ScratchRunner | None = None
    vendors: Callable[[Scenario], Path | None] | None = None
    sources: set[str] = field(default_factory=set)
    sources_in: str = ""
    # per target, linker probe and runner probe: two toolchains of one image may link (or run)
    # one target differently
    tools: dict[ToolProbe, ToolInfo] = field(default_factory=dict)
    vendored: dict[str, Path | None] = field(default_factory=dict)
    memory: MemoryEvents = field(default_factory=lambda: MemoryEvents(oom_kills=0, limit_hits=0))
    host: HostTimes = field(default_factory=HostTimes)
    # std keys whose sysroot a cell of this group built or found: it is in the image's volume
    # for the rest of the run (nothing removes a sysroot), so the next cell need not look
    std_ready: set[str] = field(default_factory=set)
    # the workdir the last cell left, removed by the next cell's workdir command (one exec
    # fewer per cell); the container's removal takes the last one
    leftover: str | None = None
    # the last build's copy into its artifact folder, made by the cell's next command (with_collect)
    collect: Collect | None = None

    def restart(self) -> None:
        """A fresh container after a kill: nothing of the old one is left in it.

        If the engine cannot make one now, the next command starts it (and first removes the
        old one): what ran in the old container never meets the next cell.
        """
        self.sources.clear()
        self.memory = MemoryEvents(oom_kills=0, limit_hits=0)
        with contextlib.suppress(*ENGINE_ERRORS):
            self.container.restart()


@dataclass(frozen=True, kw_only=True)
class CellJob:
    """One cell being run: what it builds, where, until when, and where its log goes."""

    work: CellWork
    target: TargetSpec
    deadline: Deadline
    log: CellLog
    files_dir: Path
    has_build_dir: bool = True

    @property
    def scenario(self) -> Scenario:
        return self.work.scenario

    @property
    def workdir(self) -> str:
        return f"{WORK_ROOT}/{self.work.cell.slug}"


class CellRunner:
    """Runs cells of one image group in one container; restarts it after a kill.

    `releases`: matrix.yaml's rustc releases, for what their cargo can do (a release not among
    them is taken to have `build_dir`).
    """

    def __init__(
        self,
        container: CellSandbox,
        limits: Limits,
        *,
        releases: Sequence[Release] = (),
        scratch: ScratchRunner | None = None,
        vendors: Callable[[Scenario], Path | None] | None = None,
        rust_info: str = DEFAULT_RUST_INFO,
    ) -> None:
        self.session = GroupSession(
            container=container,
            limits=limits,
            rust_info=rust_info,
            scratch=scratch,
            vendors=vendors,
        )
        self._releases = {release.name: release for release in releases}

    def run(self, work: CellWork, target: TargetSpec, files_dir: Path) -> CellOutput:
        """Build every artifact of the cell; never raises for a failed build or a timeout."""
        started = time.monotonic()
        limits = self.session.limits
        job = CellJob(
            work=work,
            target=target,
            deadline=Deadline.after(limits.cell_timeout_s, limits.idle_timeout_s),
            log=CellLog(),
            files_dir=files_dir,
            has_build_dir=self._has_build_dir(work.cell.release),
        )
        builds: list[BuildOutput] = []
        runs: list[RunRecord] = []
        tools: ToolInfo | None = None
        std: StdRecord | None = None
        failure: Failure | None = None
        try:
            tools = probe_tools(self.session, target, job.deadline)
            std = ensure_std(self.session, job)
            prepare(self.session, job)
            builds.extend(build_artifact(self.session, job, spec) for spec in work.artifacts)
            runs.extend(run_one(self.session, job, spec, builds) for spec in work.runs)
        except CellAborted as aborted:
            failure = aborted.failure
        except ENGINE_ERRORS as exc:  # from copying files in or out
            failure = engine_fault(self.session, "docker", exc)
        finally:
            self.session.leftover = job.workdir
            self.session.collect = None  # its copy is needed by no later command of the cell
        return CellOutput(
            tools=tools,
            builds=tuple(builds),
            runs=tuple(runs),
            failure=failure,
            log=job.log.text(),
            duration_s=time.monotonic() - started,
            std=std,
        )

    def _has_build_dir(self, release: str) -> bool:
        known = self._releases.get(release)
        return known.build_dir if known else True


# -- the one policy for a command that did not finish ----------------------------------------
def exec_step(
    session: GroupSession,
    step: str,
    command: Sequence[str],
    deadline: Deadline,
    *,
    env: Mapping[str, str] | None = None,
    workdir: str | None = None,
    user: str = CELL_USER,
) -> ExecResult:
    """Run one command of a cell; a command that did not finish ends the cell.

    - Killed at its deadline → TIMEOUT; killed for printing past the output limit →
      OUTPUT_LIMIT; its outcome unknown (the engine dropped the stream, or the exec still ran)
      → ENGINE_ERROR. The container, removed with whatever still ran in it, is replaced.
    - The engine failing → ENGINE_ERROR; the container is replaced if it is not running.
    - A failed command (exit code not 0) whose container stopped under it (killed, the engine
      restarted) → ENGINE_ERROR saying how it ended, or OOM if the engine says it was
      OOM-killed; the container is replaced and the group goes on.
    - A failed command while the cgroup's OOM-kill count rose → OOM (a build script killed for
      memory makes cargo exit 101: still OOM).
    - Any other exit code, 137 included (a program may SIGKILL itself), is the step's to judge.
    None of the failures above is cached (pipeline.UNCACHED).
    """
    try:
        result = session.container.run(
            command, deadline=deadline, env=env, workdir=workdir, user=user
        )
    except ENGINE_ERRORS as exc:
        raise CellAborted(engine_fault(session, step, exc)) from exc
    if _housekeeping(step):
        session.host.housekeeping_s += result.seconds
    if result.ended_by_us:
        session.restart()
        raise CellAborted(_stopped(step, result))
    if result.exit_code != 0:
        _check_container(session, step, result)
    return result


HOUSEKEEPING_STEPS = ("workdir", "toolchain probe", "linker probe", "runner probe", "copy")


def _housekeeping(step: str) -> bool:
    """A command of linkmatrix's own around a cell's builds (not a build, run, std or prepare).

    The copy of a build's files into its artifact folder is one only where it runs on its own
    (before a run that sets PWD); otherwise it rides on the cell's next build or run
    (with_collect), a few milliseconds of that command's time.
    """
    return step in HOUSEKEEPING_STEPS


def _stopped(step: str, result: ExecResult) -> Failure:
    """Why linkmatrix ended the command (or lost it)."""
    if result.timed_out is not None:
        return Failure(reason=Reason.TIMEOUT, step=step, detail=f"killed: {result.timed_out}")
    if result.output_limit is not None:
        return Failure(
            reason=Reason.OUTPUT_LIMIT, step=step, detail=f"killed: {result.output_limit}"
        )
    return Failure(
        reason=Reason.ENGINE_ERROR,
        step=step,
        detail=f"outcome unknown: {result.unknown}; the container was replaced",
    )


def _check_container(session: GroupSession, step: str, result: ExecResult) -> None:
    """After a failed command: whether its container died under it, or the OOM killer acted."""
    try:
        state = _settled_state(session.container, result.exit_code)
        if not state.running:
            session.restart()
            if state.oom_killed:
                raise CellAborted(
                    Failure(
                        reason=Reason.OOM,
                        step=step,
                        detail=f"{state.describe()}: the engine says the memory limit "
                        f"({session.limits.memory}) was reached; the container was replaced",
                    )
                )
            raise CellAborted(
                Failure(
                    reason=Reason.ENGINE_ERROR,
                    step=step,
                    detail=f"{state.describe()}: it stopped under the step (exit "
                    f"{result.exit_code}); the container was replaced",
                )
            )
        before, after = session.memory, session.container.memory_events()
    except ENGINE_ERRORS as exc:
        raise CellAborted(engine_fault(session, step, exc)) from exc
    session.memory = after
    if oom_killed(before, after, result.exit_code):
        raise CellAborted(
            Failure(
                reason=Reason.OOM,
                step=step,
                detail=(
                    f"exit {result.exit_code} after the kernel's OOM killer killed a process "
                    f"of the step: the memory limit ({session.limits.memory}) was reached"
                ),
            )
        )


def _settled_state(container: CellSandbox, exit_code: int) -> ContainerState:
    """The container's state; after a SIGKILL, once the engine has caught up with a kill.

    A program may SIGKILL itself (its container runs on): that costs it the settle time, once.
    """
    state = container.state()
    if exit_code != SIGKILL_EXIT_CODE:
        return state
    settled_by = time.monotonic() + KILLED_STATE_SETTLE_S
    while state.running and time.monotonic() < settled_by:
        time.sleep(KILLED_STATE_POLL_S)
        state = container.state()
    return state


def oom_killed(before: MemoryEvents, after: MemoryEvents, exit_code: int) -> bool:
    """The cgroup's OOM-kill count rose; or, where the kernel has none (older cgroup v1), the
    command was SIGKILLed while the memory limit was being hit.
    """
    if after.oom_kills is not None:
        return after.oom_kills > (before.oom_kills or 0)
    return (
        exit_code == SIGKILL_EXIT_CODE
        and after.limit_hits is not None
        and after.limit_hits > (before.limit_hits or 0)
    )


def engine_fault(session: GroupSession, step: str, exc: Exception) -> Failure:
    """The engine failed under a step: what happened, and the container replaced if it died."""
    detail = str(exc)
    with contextlib.suppress(*ENGINE_ERRORS):
        state = session.container.state()
        if not state.running:
            detail += f"; {state.describe()}, replaced for the next cell"
            session.restart()
    return Failure(reason=Reason.ENGINE_ERROR, step=step, detail=detail)


# -- steps -----------------------------------------------------------------------------------
def probe_tools(session: GroupSession, target: TargetSpec, deadline: Deadline) -> ToolInfo:
    """The toolchain, linker and runner versions, probed once per target and container group."""
    runner = target.runner.version if target.runner else None
    probe = (target.triple, target.linker_version, runner)
    if probe not in session.tools:
        versions = _rust_versions(session, deadline)
        session.tools[probe] = ToolInfo(
            rustc=str(versions.get("rustc", "")),
            cargo=str(versions.get("cargo", "")),
            llvm=str(versions.get("llvm", "")),
            linker_version=_linker_version(session, target.linker_version, deadline),
            runner_version=_runner_version(session, runner, deadline) if runner else None,
        )
    return session.tools[probe]


def _rust_versions(session: GroupSession, deadline: Deadline) -> dict[str, object]:
    """The release's rust.json: rustc, cargo and LLVM as the image recorded them."""
    info = exec_step(session, "toolchain probe", ["cat", session.rust_info], deadline)
    try:
        versions = json.loads(info.stdout)
    except json.JSONDecodeError:
        versions = None
    if not isinstance(versions, dict):  # JSON of another kind has no versions to read either
        raise CellAborted(
            Failure(
                reason=Reason.TOOLCHAIN_MISSING,
                step="toolchain probe",
                detail=f"{session.rust_info} is not a JSON object: {info.stderr}",
            )
        )
    return versions


def _linker_version(session: GroupSession, argv: tuple[str, ...], deadline: Deadline) -> str:
    """The linker's version line; a linker that cannot say it ends the cell (nothing links)."""
    linker = exec_step(session, "linker probe", list(argv), deadline)
    if linker.exit_code != 0:
        raise CellAborted(
            Failure(
                reason=Reason.TOOLCHAIN_MISSING,
                step="linker probe",
                detail=f"`{' '.join(argv)}` failed: "
                f"{(linker.stderr or linker.stdout).strip()[:500]}",
            )
        )
    return _first_line(linker.stdout + linker.stderr)


def _runner_version(session: GroupSession, argv: tuple[str, ...], deadline: Deadline) -> str:
    """The runner's version line, or what its failed probe said: the cell goes on.

    The builds need no runner, and a run finds a missing runner at its own step and reports it
    there (in a cell that runs nothing, it is no problem at all). A failure's last line is kept:
    tools print their error last (a Python traceback ends with the exception).
    """
    result = exec_step(session, "runner probe", list(argv), deadline)
    output = result.stdout + result.stderr
    if result.exit_code == 0:
        return _first_line(output) or f"`{shlex.join(argv)}` printed nothing"
    said = _last_line(output)[:RUNNER_PROBE_SAID] or "no output"
    return f"`{shlex.join(argv)}` failed (exit {result.exit_code}): {said}"


def ensure_std(session: GroupSession, job: CellJob) -> StdRecord | None:
    """The target's sysroot, built now if this image's cache volume has none for its key.

    Before every cell of a `build_std` target, so each cell says whether std was built for it;
    a sysroot that exists costs one `test -f`. A failed std build ends the cell (build-error)
    with the tail of cargo's output: no artifact of the target could build without it.
    """
    target = job.target
    if not target.build_std:
        return None
    key = std_key(target)
    if key in session.std_ready:
        job.log.note(
            f"std for {target.triple} (sysroot {key})",
            "ready: an earlier cell of this container's group built or found it",
        )
        return StdRecord(built=False, seconds=0.0, sysroot=sysroot_dir(target), key=key)
    command = std_build_command(target)
    with session.container.full_cpu():  # Rust's own sources, not a cell's: both cores
        result = exec_step(
            session,
            "std",
            list(command),
            job.deadline,
            env=std_build_env(target),
            workdir="/",  # no cargo config of a cell's folders reaches the build
            user=ROOT_USER,  # the sysroot is root's: read-only to every cell
        )
    built = std_was_built(result.stdout)
    job.log.step(
        f"std for {target.triple} (sysroot {key})",
        _shell_with_env(std_build_env(target), (*command[:2], "<std script>", *command[4:])),
        result,
        extra=result.stdout,
    )
    if result.exit_code != 0 or built is None:
        raise CellAborted(
            Failure(
                reason=Reason.BUILD_ERROR,
                step="std",
                detail=_tail(result.stdout + result.stderr),
            )
        )
    session.std_ready.add(key)
    if not built:  # found: linkmatrix's own look, not a build
        session.host.housekeeping_s += result.seconds
    return StdRecord(
        built=built, seconds=round(result.seconds, 3), sysroot=sysroot_dir(target), key=key
    )


def vendor(session: GroupSession, scenario: Scenario) -> Path | None:
    """The scenario's vendored crates.io dependencies (fetched on the host, once per run)."""
    if scenario.name not in session.vendored:
        try:
            fetched = session.vendors(scenario) if session.vendors else None
        except FetchError as exc:
            raise CellAborted(
                Failure(
                    reason=Reason.PREPARE_ERROR,
                    step="vendor crates.io dependencies (host)",
                    detail=str(exc),
                )
            ) from exc
        session.vendored[scenario.name] = fetched
    return session.vendored[scenario.name]


def put_sources(session: GroupSession, scenario: Scenario, vendored: Path | None) -> None:
    """The scenario's sources (and vendored crates) into the container, once per container."""
    current = session.container.container_id()
    if current != session.sources_in:  # a new container since: it holds none
        session.sources.clear()
        session.sources_in = current
    if scenario.name not in session.sources:
        session.container.put_tree(scenario_tar(scenario, vendored))
        session.sources.add(scenario.name)


def prepare(session: GroupSession, job: CellJob) -> None:
    """Sources in, a clean workdir, vendored crates merged, the scenario's prepare commands."""
    scenario = job.scenario
    started = time.monotonic()
    vendored = vendor(session, scenario)
    put_sources(session, scenario, vendored)
    session.host.sources_in_s += time.monotonic() - started
    workdir = job.workdir
    ready = workdir_command(
        workdir=workdir,
        remove=(*_leftovers(session), workdir, *PLANTED_CARGO_CONFIGS),
        vendor_of=scenario.name if vendored is not None else None,
    )
    result = exec_step(session, "workdir", list(ready), job.deadline)
    if vendored is not None or result.exit_code != 0:
        job.log.step("workdir and vendored crates", shlex.join(ready), result)
    if result.exit_code != 0:
        raise CellAborted(
            Failure(
                reason=Reason.PREPARE_ERROR,
                step="workdir",
                detail=_tail(result.stdout + result.stderr),
            )
        )
    env = {
        "SRC": f"{SOURCE_ROOT}/{scenario.name}",
        "NATIVE": f"{workdir}/native",
        "TARGET": job.target.triple,
        **dict(job.target.env),
    }
    for command in scenario.prepare:
        result = exec_step(
            session, "prepare", ["sh", "-c", command], job.deadline, env=env, workdir=workdir
        )
        session.host.prepare_s += result.seconds
        job.log.step("prepare", command, result, extra=result.stdout)
        if result.exit_code != 0:
            raise CellAborted(
                Failure(
                    reason=Reason.PREPARE_ERROR,
                    step=f"prepare `{command}`",
                    detail=_tail(result.stdout + result.stderr),
                )
            )


def _leftovers(session: GroupSession) -> tuple[str, ...]:
    return (session.leftover,) if session.leftover else ()


def build_artifact(session: GroupSession, job: CellJob, artifact: ArtifactSpec) -> BuildOutput:
    """cargo for one artifact, its files collected in the workdir and copied out."""
    invocation = cargo_invocation(
        scenario=job.scenario.name,
        target=job.target,
        artifact=artifact,
        workdir=job.workdir,
        has_build_dir=job.has_build_dir,
        vendored=session.vendored.get(job.scenario.name) is not None,
    )
    result = cell_step(
        session,
        f"build {artifact.name}",
        invocation.argv,
        job.deadline,
        env=dict(invocation.env),
        workdir=job.workdir,
    )
    report = parse_cargo_messages(
        result.stdout, scenario=job.scenario.name, artifact=artifact, stderr=result.stderr
    )
    job.log.step(f"build {artifact.name}", invocation.shell(), result, extra=report.rendered)
    files: tuple[BuiltFile, ...] = ()
    if result.exit_code == 0 and report.filenames:
        collect = Collect(
            filenames=report.filenames, destination=artifact_dir(job.workdir, artifact.name)
        )
        files = fetch_files(session, job, artifact, collect)
        session.collect = collect
    crate_files = crate_type_files(artifact.crate_types, files)
    return BuildOutput(
        name=artifact.name,
        package=artifact.package,
        target_kind=artifact.target_kind.value,
        crate_type=artifact.crate_type.value if artifact.crate_type else None,
        command=invocation.argv,
        env=invocation.env,
        exit_code=result.exit_code,
        duration_s=result.seconds,
        diagnostics=report.diagnostics,
        files=files,
        primary=crate_files[0].file if crate_files else choose_primary(files),
        log_end=len(job.log.text()),
        rustc=rustc_command(result.stderr, scenario=job.scenario.name, artifact=artifact),
        bootstrap=bootstrap_need(job.target, artifact),
        rustflags=artifact.rustflags,
        crate_files=crate_files,
    )


def cell_step(
    session: GroupSession,
    step: str,
    command: Sequence[str],
    deadline: Deadline,
    *,
    env: Mapping[str, str],
    workdir: str,
) -> ExecResult:
    """A build or run of the cell, after the last build's pending copy (`with_collect`).

    The copies are what runs see (`{artifact:…}`), and where the release's cargo has no
    build-dir the next build overwrites cargo's own `release/<name>`: each is made before the
    next command of the cell, in its exec. A failed copy ends the cell.
    """
    collect, session.collect = session.collect, None
    if collect is not None and "PWD" in env:  # the shell would change it: the copy on its own
        _copied(
            collect, exec_step(session, "copy", list(with_collect(collect, ["true"])), deadline)
        )
        collect = None
    wrapped = with_collect(collect, command) if collect else tuple(command)
    result = exec_step(session, step, list(wrapped), deadline, env=env, workdir=workdir)
    if collect is not None:
        _copied(collect, result)
    return result


def _copied(collect: Collect, result: ExecResult) -> None:
    """A failed copy ends the cell (its command never ran)."""
    if result.exit_code == COLLECT_FAILED_EXIT and COLLECT_FAILED in result.stderr:
        raise CellAborted(
            Failure(
                reason=Reason.INSPECTION_ERROR,
                step=f"copy into {collect.destination}",
                detail=_tail(result.stdout + result.stderr),
            )
        )


def fetch_files(
    session: GroupSession, job: CellJob, artifact: ArtifactSpec, collect: Collect
) -> tuple[BuiltFile, ...]:
    """Copy a build's files to `<files_dir>/<artifact>/`, hashed, their format detected.

    Read from where cargo put them, right after the build (before the next one can overwrite
    them); each is recorded at the path its copy gets in the workdir, where runs use it.
    """
    started = time.monotonic()
    destination = job.files_dir / artifact.name
    destination.mkdir(parents=True, exist_ok=True)
    fetched = []
    for built, source in zip(collect.filenames, collect.paths(), strict=True):
        data = session.container.get_file(built)
        local = destination / posixpath.basename(source)
        local.write_bytes(data)
        fetched.append(
            BuiltFile(
                file=local.name,
                path=artifact_report_path(job.work.cell.slug, artifact.name, local.name),
                source=source,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                format=detect_format(data),
            )
        )
    session.host.files_out_s += time.monotonic() - started
    return tuple(fetched)


def run_one(
    session: GroupSession, job: CellJob, spec: RunSpec, builds: Sequence[BuildOutput]
) -> RunRecord:
    """Run one built artifact with the target's runner (or record why it could not run)."""
    build = next((b for b in builds if b.name == spec.artifact), None)
    if spec.container is RunPlace.SCRATCH:
        return run_alone(session, job, spec, builds, build)
    runner = job.target.runner
    file = _runnable_file(build, runner.file_glob if runner else None)
    if runner is None:
        return _not_run(spec, NotRun.NO_RUNNER)
    if file is None:
        return _not_run(spec, NotRun.ARTIFACT_NOT_BUILT)
    command = runner.argv(file.source, artifact_arguments(spec.args, builds))
    env = run_environment(spec, builds)
    result = cell_step(
        session, f"run {spec.name}", command, job.deadline, env=env, workdir=job.workdir
    )
    job.log.step(f"run {spec.name}", _shell_with_env(env, command), result, extra=result.stdout)
    if (failure := runner_start_failure(result)) is not None:
        # the program never started: run it once more; the log keeps both attempts
        result = exec_step(
            session, f"run {spec.name}", list(command), job.deadline, env=env, workdir=job.workdir
        )
        job.log.step(
            f"run {spec.name} again (the runner failed to start: {failure})",
            _shell_with_env(env, command),
            result,
            extra=result.stdout,
        )
    return _run_record(spec, command, result)


# What a runner prints when it failed before the program started: a collision in the address
# space it maps at start (wine picks addresses that ASLR sometimes gave away; seen once in ~60
# wine runs here). Not the program's outcome: it is run once more, never more.
RUNNER_START_FAILURES = ("wine: failed to map the shared user data",)


def runner_start_failure(result: ExecResult) -> str | None:
    """The runner's own start-up failure in a failed run's output, if it printed one."""
    if result.exit_code == 0:
        return None
    output = result.stdout + result.stderr
    return next((known for known in RUNNER_START_FAILURES if known in output), None)


def run_alone(
    session: GroupSession,
    job: CellJob,
    spec: RunSpec,
    builds: Sequence[BuildOutput],
    build: BuildOutput | None,
) -> RunRecord:
    """Run the artifact's primary file as the only file of an empty container.

    Not under `exec_step`: the empty container is the scratch runner's own (nothing to restart)
    and a program's exit code there is its own; a kill at the deadline (timeout) or by the OOM
    killer (the engine's OOMKilled: oom) still ends the cell.
    """
    file = _runnable_file(build, None)
    if file is None:
        return _not_run(spec, NotRun.ARTIFACT_NOT_BUILT)
    if session.scratch is None:
        return _not_run(spec, NotRun.NO_ENGINE)
    data = (job.files_dir / spec.artifact / file.file).read_bytes()
    args = artifact_arguments(spec.args, builds)
    result = session.scratch.run(file.file, data, args, deadline=job.deadline)
    command = ("<scratch container>", f"/{file.file}", *args)
    job.log.step(
        f"run {spec.name} (alone, FROM scratch)", shlex.join(command), result, result.stdout
    )
    if result.timed_out is not None:
        raise CellAborted(
            Failure(reason=Reason.TIMEOUT, step=f"run {spec.name}", detail=result.timed_out)
        )
    if result.oom_killed:
        raise CellAborted(
            Failure(
                reason=Reason.OOM,
                step=f"run {spec.name}",
                detail=f"exit {result.exit_code}: the engine says the scratch container was "
                f"OOM-killed at the memory limit ({session.limits.memory})",
            )
        )
    return _run_record(spec, command, result)


# -- helpers ---------------------------------------------------------------------------------
def artifact_arguments(args: Sequence[str], builds: Sequence[BuildOutput]) -> tuple[str, ...]:
    """`{artifact:NAME}` becomes the container path of NAME's primary file, `{artifact_dir:NAME}`
    the folder of NAME's files.

    So a host program can be handed the plugin that the same cell built. An artifact that was not
    built leaves the text as it is: the program then fails to open it, and says so.
    """
    paths = {
        (kind, b.name): path
        for b in builds
        if (f := b.primary_file()) is not None
        for kind, path in (("artifact", f.source), ("artifact_dir", posixpath.dirname(f.source)))
    }

    def path_of(match: re.Match[str]) -> str:
        return paths.get((match[1], match[2]), match[0])

    return tuple(re.sub(r"\{(artifact|artifact_dir):([\w.-]+)\}", path_of, arg) for arg in args)


def run_environment(spec: RunSpec, builds: Sequence[BuildOutput]) -> dict[str, str]:
    """The run's `env:` with `{artifact:…}` / `{artifact_dir:…}` resolved."""
    names = [name for name, _ in spec.env]
    values = artifact_arguments([value for _, value in spec.env], builds)
    return dict(zip(names, values, strict=True))


def _not_run(spec: RunSpec, reason: NotRun) -> RunRecord:
    return RunRecord(
        name=spec.name,
        artifact=spec.artifact,
        command=(),
        exit_code=None,
        stdout="",
        stderr="",
        duration_s=0.0,
        not_run=reason,
    )


def _run_record(spec: RunSpec, command: Sequence[str], result: ExecResult) -> RunRecord:
    return RunRecord(
        name=spec.name,
        artifact=spec.artifact,
        command=tuple(command),
        exit_code=result.exit_code,
        stdout=result.stdout,
        stderr=result.stderr,
        duration_s=result.seconds,
        not_run=None,
    )


def _shell_with_env(env: dict[str, str], command: Sequence[str]) -> str:
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return f"{assignments} {shlex.join(command)}".strip()


def _runnable_file(build: BuildOutput | None, file_glob: str | None) -> BuiltFile | None:
    """The file a runner gets: the one matching its glob, else the artifact's primary file."""
    if build is None or not build.built:
        return None
    if file_glob is None:
        return build.primary_file()
    return next((f for f in build.files if fnmatch.fnmatchcase(f.file, file_glob)), None)


def choose_primary(files: tuple[BuiltFile, ...]) -> str | None:
    """The file whose exports a check reads: a linked binary before an archive before the rest."""
    for wanted in PRIMARY_FORMATS:
        for item in files:
            if item.format is wanted:
                return item.file
    return files[0].file if files else None


# The files a library crate type leaves: an rlib; a staticlib's archive (not a DLL's import
# library, `x.dll.a` / `x.dll.lib`, an archive too); a cdylib's or dylib's linked binary.
SHARED_LIBRARY_FORMATS = (
    ArtifactFormat.ELF,
    ArtifactFormat.PE,
    ArtifactFormat.MACHO,
    ArtifactFormat.WASM,
    ArtifactFormat.PTX,
)
# a DLL's import library, and an rlib's metadata beside it: neither is a staticlib
NOT_STATICLIB_SUFFIXES = (".dll.a", ".dll.lib", ".rmeta")


def crate_type_files(
    crate_types: Sequence[CrateType], files: Sequence[BuiltFile]
) -> tuple[CrateTypeFile, ...]:
    """Each declared crate type with the file it left, told by the file's name and format."""
    return tuple(
        CrateTypeFile(
            crate_type=crate_type.value,
            file=next((f.file for f in files if _left_by(crate_type, f)), None),
        )
        for crate_type in crate_types
    )


def _left_by(crate_type: CrateType, file: BuiltFile) -> bool:
    rlib = file.file.endswith(".rlib")
    match crate_type:
        case CrateType.RLIB:
            return rlib
        case CrateType.STATICLIB:
            return (
                file.format is ArtifactFormat.ARCHIVE
                and not rlib
                and not file.file.endswith(NOT_STATICLIB_SUFFIXES)
            )
        case CrateType.CDYLIB | CrateType.DYLIB:
            return file.format in SHARED_LIBRARY_FORMATS
        case CrateType.BIN | CrateType.LIB:
            return False  # never listed (config.scenario.LISTED_CRATE_TYPES)
        case _:
            assert_never(crate_type)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _last_line(text: str) -> str:
    return _first_line("\n".join(reversed(text.splitlines())))


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])
