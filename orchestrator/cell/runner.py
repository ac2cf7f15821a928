"""A cell's steps inside its container: sources in, prepare, cargo per artifact, files out."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import posixpath
import re
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests
from docker.errors import DockerException

from orchestrator.cell.cargo import (
    SOURCE_ROOT,
    WORK_ROOT,
    artifact_dir,
    cargo_invocation,
    collect_command,
    collected_paths,
    parse_cargo_messages,
    vendor_merge_command,
)
from orchestrator.cell.observation import (
    ArtifactFile,
    BuildRecord,
    Failure,
    Observation,
    RunRecord,
    ToolInfo,
)
from orchestrator.cell.sources import scenario_tar
from orchestrator.config.matrix import Limits, Release, TargetSpec
from orchestrator.config.scenario import ArtifactSpec, RunPlace, RunSpec, Scenario
from orchestrator.engine.container import CellContainer, Deadline, ExecResult
from orchestrator.engine.scratch import ScratchRunner
from orchestrator.errors import FetchError
from orchestrator.inspect import ArtifactFormat, Inspection, InspectionError, inspect_file
from orchestrator.plan import Cell
from orchestrator.status import Reason

RUST_INFO = "/etc/linkmatrix/rust.json"


ROOT_USER = "0:0"


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

    def text(self) -> str:
        return "\n".join(self.parts)


@dataclass(frozen=True, kw_only=True)
class CellJob:
    """One cell being run: what it builds, where, until when, and where its log goes."""

    cell: Cell
    scenario: Scenario
    target: TargetSpec
    deadline: Deadline
    log: CellLog
    files_dir: Path
    has_build_dir: bool = True

    @property
    def workdir(self) -> str:
        return f"{WORK_ROOT}/{self.cell.slug}"

    def runs(self) -> list[RunSpec]:
        """The scenario's runs that apply to this cell."""
        cell = self.cell
        return [
            run
            for run in self.scenario.runs
            if run.applies(toolchain=cell.toolchain, target=cell.target, release=cell.release)
        ]

    def artifacts(self) -> list[ArtifactSpec]:
        """The scenario's artifacts that this cell's coordinates select."""
        cell = self.cell
        return [
            artifact
            for artifact in self.scenario.artifacts
            if artifact.when.matches(
                toolchain=cell.toolchain, target=cell.target, release=cell.release
            )
        ]


class CellRunner:
    """Runs cells of one image group in one container; restarts it after a kill.

    `releases`: matrix.yaml's rustc releases, for what their cargo can do (a release not among
    them is taken to have `build_dir`).
    """

    def __init__(
        self,
        container: CellContainer,
        limits: Limits,
        releases: Sequence[Release] = (),
        scratch: ScratchRunner | None = None,
        vendors: Callable[[Scenario], Path | None] | None = None,
    ) -> None:
        self.container = container
        self.limits = limits
        self.scratch = scratch
        self._vendors = vendors
        self._vendored: dict[str, Path | None] = {}
        self._releases = {release.name: release for release in releases}
        self._sources: set[str] = set()
        self._tools: dict[str, ToolInfo] = {}

    def run(
        self, cell: Cell, scenario: Scenario, target: TargetSpec, files_dir: Path
    ) -> Observation:
        """Build every artifact of the cell; never raises for a failed build or a timeout."""
        started = time.monotonic()
        job = CellJob(
            cell=cell,
            scenario=scenario,
            target=target,
            deadline=Deadline.after(self.limits.cell_timeout_s, self.limits.idle_timeout_s),
            log=CellLog(),
            files_dir=files_dir,
            has_build_dir=self._has_build_dir(cell.release),
        )
        builds: list[BuildRecord] = []
        runs: list[RunRecord] = []
        tools: ToolInfo | None = None
        failure: Failure | None = None
        try:
            tools = self._tool_info(target, job.deadline)
            self._prepare(job)
            builds.extend(self._build(job, artifact) for artifact in job.artifacts())
            runs.extend(self._run(job, spec, builds) for spec in job.runs())
            self._exec("cleanup", ["rm", "-rf", job.workdir], job.deadline)
        except CellAborted as aborted:
            failure = aborted.failure
        except (DockerException, requests.exceptions.RequestException) as exc:
            failure = Failure(reason=Reason.ENGINE_ERROR, step="docker", detail=str(exc))
        return Observation(
            tools=tools,
            builds=tuple(builds),
            runs=tuple(runs),
            failure=failure,
            log=job.log.text(),
            duration_s=time.monotonic() - started,
        )

    def _has_build_dir(self, release: str) -> bool:
        known = self._releases.get(release)
        return known.build_dir if known else True

    # -- steps -------------------------------------------------------------------------------
    def _exec(
        self,
        step: str,
        command: list[str],
        deadline: Deadline,
        env: dict[str, str] | None = None,
        workdir: str | None = None,
    ) -> ExecResult:
        result = self.container.run(command, deadline=deadline, env=env, workdir=workdir)
        if result.timed_out is not None:
            self._sources.clear()
            self.container.start()
            raise CellAborted(
                Failure(reason=Reason.TIMEOUT, step=step, detail=f"killed: {result.timed_out}")
            )
        if result.exit_code == 137:
            raise CellAborted(
                Failure(
                    reason=Reason.OOM,
                    step=step,
                    detail=(
                        "killed by SIGKILL (exit 137), most likely the memory limit "
                        f"({self.limits.memory}) was reached"
                    ),
                )
            )
        return result

    def _tool_info(self, target: TargetSpec, deadline: Deadline) -> ToolInfo:
        if target.triple not in self._tools:
            info = self._exec("toolchain probe", ["cat", RUST_INFO], deadline)
            try:
                versions = json.loads(info.stdout)
            except json.JSONDecodeError as exc:
                raise CellAborted(
                    Failure(
                        reason=Reason.TOOLCHAIN_MISSING,
                        step="toolchain probe",
                        detail=f"{RUST_INFO} is not JSON: {info.stderr}",
                    )
                ) from exc
            linker = self._exec("linker probe", list(target.linker_version), deadline)
            if linker.exit_code != 0:
                raise CellAborted(
                    Failure(
                        reason=Reason.TOOLCHAIN_MISSING,
                        step="linker probe",
                        detail=f"`{' '.join(target.linker_version)}` failed: "
                        f"{(linker.stderr or linker.stdout).strip()[:500]}",
                    )
                )
            self._tools[target.triple] = ToolInfo(
                rustc=str(versions.get("rustc", "")),
                cargo=str(versions.get("cargo", "")),
                llvm=str(versions.get("llvm", "")),
                linker_version=_first_line(linker.stdout + linker.stderr),
            )
        return self._tools[target.triple]

    def _prepare(self, job: CellJob) -> None:
        scenario = job.scenario
        vendored = self._vendor(scenario)
        if scenario.name not in self._sources:
            self.container.put_tree(scenario_tar(scenario, vendored))
            self._sources.add(scenario.name)
        workdir = job.workdir
        self._exec(
            "workdir",
            ["sh", "-c", f'rm -rf "{workdir}" && mkdir -p "{workdir}/native"'],
            job.deadline,
        )
        if vendored is not None:
            merge = vendor_merge_command(scenario.name, workdir)
            merged = self._exec("vendor", list(merge), job.deadline)
            job.log.step("vendored crates", shlex.join(merge), merged)
        env = {
            "SRC": f"{SOURCE_ROOT}/{scenario.name}",
            "NATIVE": f"{workdir}/native",
            "TARGET": job.target.triple,
            **dict(job.target.env),
        }
        for command in scenario.prepare:
            result = self._exec(
                "prepare", ["sh", "-c", command], job.deadline, env=env, workdir=workdir
            )
            job.log.step("prepare", command, result, extra=result.stdout)
            if result.exit_code != 0:
                raise CellAborted(
                    Failure(
                        reason=Reason.PREPARE_ERROR,
                        step=f"prepare `{command}`",
                        detail=_tail(result.stdout + result.stderr),
                    )
                )

    def _vendor(self, scenario: Scenario) -> Path | None:
        """The scenario's vendored crates.io dependencies (fetched on the host, once per run)."""
        if scenario.name not in self._vendored:
            try:
                self._vendored[scenario.name] = self._vendors(scenario) if self._vendors else None
            except FetchError as exc:
                raise CellAborted(
                    Failure(
                        reason=Reason.PREPARE_ERROR,
                        step="vendor crates.io dependencies (host)",
                        detail=str(exc),
                    )
                ) from exc
        return self._vendored[scenario.name]

    def _build(self, job: CellJob, artifact: ArtifactSpec) -> BuildRecord:
        invocation = cargo_invocation(
            scenario=job.scenario.name,
            target=job.target,
            artifact=artifact,
            workdir=job.workdir,
            has_build_dir=job.has_build_dir,
            vendored=self._vendored.get(job.scenario.name) is not None,
        )
        result = self._exec(
            f"build {artifact.name}",
            list(invocation.argv),
            job.deadline,
            env=dict(invocation.env),
            workdir=job.workdir,
        )
        report = parse_cargo_messages(
            result.stdout, scenario=job.scenario.name, artifact=artifact, stderr=result.stderr
        )
        job.log.step(f"build {artifact.name}", invocation.shell(), result, extra=report.rendered)
        files = (
            self._fetch(
                self._collect(job, artifact, report.filenames),
                job.files_dir / artifact.name,
                f"artifacts/{job.cell.slug}/{artifact.name}",
            )
            if result.exit_code == 0
            else ()
        )
        return BuildRecord(
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
            primary=choose_primary(files),
        )

    def _collect(
        self, job: CellJob, artifact: ArtifactSpec, filenames: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Copy a build's files into the artifact's own folder of the workdir, right away.

        The next build may overwrite cargo's `release/<name>` (a shared target dir when the
        release's cargo has no build-dir); the copies are what is inspected and run.
        """
        if not filenames:
            return ()
        destination = artifact_dir(job.workdir, artifact.name)
        result = self._exec(
            f"collect {artifact.name}", list(collect_command(filenames, destination)), job.deadline
        )
        if result.exit_code != 0:
            raise CellAborted(
                Failure(
                    reason=Reason.INSPECTION_ERROR,
                    step=f"collect {artifact.name}",
                    detail=_tail(result.stdout + result.stderr),
                )
            )
        return collected_paths(filenames, destination)

    def _run(self, job: CellJob, spec: RunSpec, builds: list[BuildRecord]) -> RunRecord:
        """Run one built artifact with the target's runner (or record why it could not run)."""
        build = next((b for b in builds if b.name == spec.artifact), None)
        if spec.container is RunPlace.SCRATCH:
            return self._run_alone(job, spec, builds, build)
        runner = job.target.runner
        file = _runnable_file(build, runner.file_glob if runner else None)
        if runner is None or file is None:
            reason = "no runner for this target" if runner is None else "the artifact was not built"
            return _not_run(spec, reason)
        command = runner.argv(file.source, artifact_arguments(spec.args, builds))
        env = run_environment(spec, builds)
        result = self._exec(
            f"run {spec.name}", list(command), job.deadline, env=env, workdir=job.workdir
        )
        job.log.step(f"run {spec.name}", _shell_with_env(env, command), result, extra=result.stdout)
        return _run_record(spec, command, result)

    def _run_alone(
        self, job: CellJob, spec: RunSpec, builds: list[BuildRecord], build: BuildRecord | None
    ) -> RunRecord:
        """Run the artifact's primary file as the only file of an empty container."""
        file = _runnable_file(build, None)
        if file is None:
            return _not_run(spec, "the artifact was not built")
        if self.scratch is None:
            return _not_run(spec, "no engine to make an empty container with")
        data = (job.files_dir / spec.artifact / file.file).read_bytes()
        args = artifact_arguments(spec.args, builds)
        result = self.scratch.run(file.file, data, args, deadline=job.deadline)
        command = ("<scratch container>", f"/{file.file}", *args)
        job.log.step(
            f"run {spec.name} (alone, FROM scratch)", shlex.join(command), result, result.stdout
        )
        if result.timed_out is not None:
            raise CellAborted(
                Failure(reason=Reason.TIMEOUT, step=f"run {spec.name}", detail=result.timed_out)
            )
        return _run_record(spec, command, result)

    def _fetch(
        self, filenames: tuple[str, ...], destination: Path, report_prefix: str
    ) -> tuple[ArtifactFile, ...]:
        destination.mkdir(parents=True, exist_ok=True)
        fetched = []
        for filename in filenames:
            data = self.container.get_file(filename)
            local = destination / posixpath.basename(filename)
            local.write_bytes(data)
            fetched.append(
                ArtifactFile(
                    file=local.name,
                    path=f"{report_prefix}/{local.name}",
                    source=filename,
                    sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data),
                    inspection=_inspect(local),
                )
            )
        return tuple(fetched)


def _inspect(path: Path) -> Inspection:
    try:
        return inspect_file(path)
    except InspectionError as exc:
        raise CellAborted(
            Failure(reason=Reason.INSPECTION_ERROR, step=f"inspect {path.name}", detail=str(exc))
        ) from exc


def artifact_arguments(args: Sequence[str], builds: Sequence[BuildRecord]) -> tuple[str, ...]:
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


def run_environment(spec: RunSpec, builds: Sequence[BuildRecord]) -> dict[str, str]:
    """The run's `env:` with `{artifact:…}` / `{artifact_dir:…}` resolved."""
    names = [name for name, _ in spec.env]
    values = artifact_arguments([value for _, value in spec.env], builds)
    return dict(zip(names, values, strict=True))


def _not_run(spec: RunSpec, reason: str) -> RunRecord:
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


def _runnable_file(build: BuildRecord | None, file_glob: str | None) -> ArtifactFile | None:
    """The file a runner gets: the one matching its glob, else the artifact's primary file."""
    if build is None or not build.built:
        return None
    if file_glob is None:
        return build.primary_file()
    return next((f for f in build.files if fnmatch.fnmatchcase(f.file, file_glob)), None)


def choose_primary(files: tuple[ArtifactFile, ...]) -> str | None:
    """The file whose exports a check reads: a linked binary before an archive before the rest."""
    for wanted in PRIMARY_FORMATS:
        for item in files:
            if item.inspection.format is wanted:
                return item.file
    return files[0].file if files else None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])
