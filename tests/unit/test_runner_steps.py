"""The cell's step functions over a typed fake container: the one policy for exec failures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from docker.errors import APIError

from orchestrator.cell import runner as cell_runner
from orchestrator.cell.cargo import (
    COLLECT_FAILED,
    COLLECT_FAILED_EXIT,
    WORK_ROOT,
    Collect,
    with_collect,
)
from orchestrator.cell.observation import BuildOutput, BuiltFile, NotRun
from orchestrator.cell.runner import (
    CellAborted,
    CellJob,
    CellLog,
    CellRunner,
    GroupSession,
    ensure_std,
    exec_step,
    oom_killed,
    probe_tools,
    run_one,
)
from orchestrator.cell.stdlib import std_key, sysroot_dir
from orchestrator.config.matrix import Limits, Matrix, Runner, TargetSpec
from orchestrator.config.scenario import ANYWHERE, RunPlace, RunSpec
from orchestrator.engine.container import (
    CELL_USER,
    CellContainer,
    ContainerState,
    Deadline,
    ExecResult,
    MemoryEvents,
    parse_memory_events,
)
from orchestrator.engine.scratch import ScratchRunner
from orchestrator.inspect.model import ArtifactFormat
from orchestrator.plan import all_cells, cell_work
from orchestrator.status import Reason
from tests.unit.fake_engine import FakeEngine, Reply, Script, prints

LIMITS = Limits(memory="1g", pids=64, cell_timeout_s=60, idle_timeout_s=30)
DEADLINE = Deadline(ends_at=float("inf"), idle_s=30)


RUNNING = ContainerState(running=True, status="running")


class FakeSandbox:
    """A container that answers every command with `result` (or raises `error`).

    `states`: what `state()` says, in turn (the last one then stays); `memory`: the cgroup's
    counters `memory_events()` reads.
    """

    def __init__(
        self,
        result: ExecResult | None = None,
        error: Exception | None = None,
        *,
        states: Sequence[ContainerState] = (RUNNING,),
        memory: MemoryEvents | None = None,
    ) -> None:
        self.result = result or ExecResult(
            exit_code=0, stdout="", stderr="", timed_out=None, seconds=0.0
        )
        self.error = error
        self.commands: list[list[str]] = []
        self.users: list[str] = []
        self.workdirs: list[str | None] = []
        self.restarts = 0
        self.states = list(states)
        self.memory = memory or MemoryEvents(oom_kills=0)
        self.queued: list[ExecResult] = []  # replies for the next commands, in order
        self.full_cpu_commands: list[int] = []

    def run(
        self,
        command: Sequence[str],
        *,
        deadline: Deadline,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str = CELL_USER,
    ) -> ExecResult:
        self.commands.append(list(command))
        self.users.append(user)
        self.workdirs.append(workdir)
        if self.error is not None:
            raise self.error
        return self.queued.pop(0) if self.queued else self.result

    def put_tree(self, tar_bytes: bytes) -> None:
        pass

    def get_file(self, path: str) -> bytes:
        return b""

    def restart(self) -> None:
        self.restarts += 1

    def state(self) -> ContainerState:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def memory_events(self) -> MemoryEvents:
        return self.memory

    def container_id(self) -> str:
        return f"c{self.restarts + 1}"

    @contextlib.contextmanager
    def full_cpu(self) -> Iterator[None]:
        self.full_cpu_commands.append(len(self.commands))  # the commands run before the block
        yield


def exited(code: int, timed_out: str | None = None) -> ExecResult:
    return ExecResult(exit_code=code, stdout="", stderr="", timed_out=timed_out, seconds=1.0)


def test_a_killed_command_restarts_the_container_and_ends_the_cell_as_a_timeout() -> None:
    sandbox = FakeSandbox(exited(-9, timed_out="no output for 30 s"))
    session = GroupSession(container=sandbox, limits=LIMITS, sources={"alpha"})
    with pytest.raises(CellAborted) as aborted:
        exec_step(session, "build lib", ["cargo", "build"], DEADLINE)
    assert aborted.value.failure.reason is Reason.TIMEOUT
    assert aborted.value.failure.step == "build lib"
    assert aborted.value.failure.detail == "killed: no output for 30 s"
    assert sandbox.restarts == 1
    assert session.sources == set()  # the fresh container has no sources yet


def test_exit_137_of_a_program_that_kills_itself_is_not_an_oom(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cell_runner, "KILLED_STATE_SETTLE_S", 0.0)  # its container runs on
    sandbox = FakeSandbox(exited(137), memory=MemoryEvents(oom_kills=0))
    session = GroupSession(container=sandbox, limits=LIMITS)
    assert exec_step(session, "run exe", ["./exe"], DEADLINE).exit_code == 137
    assert sandbox.restarts == 0


@pytest.mark.parametrize("code", [101, 137])
def test_a_failed_step_while_the_oom_kill_count_rose_is_an_oom(
    code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cell_runner, "KILLED_STATE_SETTLE_S", 0.0)  # its container runs on
    # a build script killed for memory makes cargo exit 101: still the memory limit
    sandbox = FakeSandbox(exited(code), memory=MemoryEvents(oom_kills=3))
    session = GroupSession(
        container=sandbox, limits=LIMITS, memory=MemoryEvents(oom_kills=2, limit_hits=0)
    )
    with pytest.raises(CellAborted) as aborted:
        exec_step(session, "build lib", ["cargo", "build"], DEADLINE)
    assert aborted.value.failure.reason is Reason.OOM
    assert aborted.value.failure.detail == (
        f"exit {code} after the kernel's OOM killer killed a process of the step: "
        "the memory limit (1g) was reached"
    )
    assert session.memory.oom_kills == 3  # the next failure compares with this count
    assert sandbox.restarts == 0  # the container itself is fine


def test_without_an_oom_kill_count_a_sigkill_at_the_memory_limit_is_an_oom() -> None:
    before = MemoryEvents(oom_kills=None, limit_hits=5)
    hit = MemoryEvents(oom_kills=None, limit_hits=9)
    assert oom_killed(before, hit, 137)
    assert not oom_killed(before, hit, 101)  # the limit hit, but the step failed by itself
    assert not oom_killed(before, before, 137)


def test_the_cgroup_counters_are_read_from_v2_or_v1() -> None:
    v2 = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\nfailcnt \n"
    v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 4\nfailcnt 17\n"
    old_v1 = "oom_kill_disable 0\nunder_oom 0\nfailcnt 17\n"
    assert parse_memory_events(v2) == MemoryEvents(oom_kills=2, limit_hits=None)
    assert parse_memory_events(v1) == MemoryEvents(oom_kills=4, limit_hits=17)
    assert parse_memory_events(old_v1) == MemoryEvents(oom_kills=None, limit_hits=17)
    assert parse_memory_events("") == MemoryEvents(oom_kills=None, limit_hits=None)


def test_a_container_that_died_under_a_step_is_an_engine_error_and_is_replaced() -> None:
    killed = ContainerState(running=False, status="exited", exit_code=137)
    sandbox = FakeSandbox(exited(137), states=[killed, RUNNING])
    session = GroupSession(container=sandbox, limits=LIMITS, sources={"alpha"})
    with pytest.raises(CellAborted) as aborted:
        exec_step(session, "build lib", ["cargo", "build"], DEADLINE)
    assert aborted.value.failure.reason is Reason.ENGINE_ERROR
    assert aborted.value.failure.detail == (
        "the cell's container is exited (exit code 137): it stopped under the step "
        "(exit 137); the container was replaced"
    )
    assert sandbox.restarts == 1
    assert session.sources == set()


def test_a_kill_the_engine_reports_late_is_still_an_engine_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `docker kill`: the exec returns 137 while the engine still says the container runs
    monkeypatch.setattr(cell_runner, "KILLED_STATE_POLL_S", 0.0)
    killed = ContainerState(running=False, status="exited", exit_code=137)
    sandbox = FakeSandbox(exited(137), states=[RUNNING, RUNNING, killed, RUNNING])
    session = GroupSession(container=sandbox, limits=LIMITS)
    with pytest.raises(CellAborted) as aborted:
        exec_step(session, "build lib", ["cargo", "build"], DEADLINE)
    assert aborted.value.failure.reason is Reason.ENGINE_ERROR
    assert sandbox.restarts == 1


def test_a_failed_step_other_than_a_sigkill_asks_the_state_once() -> None:
    killed = ContainerState(running=False, status="exited", exit_code=137)
    sandbox = FakeSandbox(exited(101), states=[RUNNING, killed])
    session = GroupSession(container=sandbox, limits=LIMITS)
    assert exec_step(session, "build lib", ["cargo", "build"], DEADLINE).exit_code == 101
    assert sandbox.states == [killed]  # not asked a second time


def test_a_container_the_engine_says_was_oom_killed_is_an_oom() -> None:
    killed = ContainerState(running=False, status="exited", exit_code=137, oom_killed=True)
    sandbox = FakeSandbox(exited(137), states=[killed, RUNNING])
    session = GroupSession(container=sandbox, limits=LIMITS)
    with pytest.raises(CellAborted) as aborted:
        exec_step(session, "build lib", ["cargo", "build"], DEADLINE)
    assert aborted.value.failure.reason is Reason.OOM
    assert "OOM-killed" in aborted.value.failure.detail
    assert sandbox.restarts == 1


@pytest.mark.parametrize(
    ("result", "reason", "detail"),
    [
        (
            replace(exited(-9), output_limit="output limit: the step printed more than 64 MiB"),
            Reason.OUTPUT_LIMIT,
            "killed: output limit: the step printed more than 64 MiB",
        ),
        (
            replace(exited(-9), unknown="the engine dropped the command's output stream (reset)"),
            Reason.ENGINE_ERROR,
            (
                "outcome unknown: the engine dropped the command's output stream (reset); "
                "the container was replaced"
            ),
        ),
    ],
    ids=["output limit", "outcome unknown"],
)
def test_a_step_ended_by_linkmatrix_replaces_the_container(
    result: ExecResult, reason: Reason, detail: str
) -> None:
    sandbox = FakeSandbox(result)
    session = GroupSession(container=sandbox, limits=LIMITS, sources={"alpha"})
    with pytest.raises(CellAborted) as aborted:
        exec_step(session, "prepare", ["yes"], DEADLINE)
    assert (aborted.value.failure.reason, aborted.value.failure.detail) == (reason, detail)
    assert sandbox.restarts == 1
    assert session.sources == set()


def test_an_engine_failure_replaces_a_container_that_is_gone() -> None:
    gone = ContainerState(running=False, status="gone (removed)")
    sandbox = FakeSandbox(error=APIError("409 Container is not running"), states=[gone, RUNNING])
    session = GroupSession(container=sandbox, limits=LIMITS)
    with pytest.raises(CellAborted) as aborted:
        exec_step(session, "build lib", ["cargo", "build"], DEADLINE)
    assert aborted.value.failure.reason is Reason.ENGINE_ERROR
    assert aborted.value.failure.detail == (
        "409 Container is not running; the cell's container is gone (removed), "
        "replaced for the next cell"
    )
    assert sandbox.restarts == 1


@pytest.mark.parametrize(
    "error", [APIError("engine gone"), requests.exceptions.ConnectionError("engine gone")]
)
def test_an_engine_failure_is_an_engine_error(error: Exception) -> None:
    session = GroupSession(container=FakeSandbox(error=error), limits=LIMITS)
    with pytest.raises(CellAborted) as aborted:
        exec_step(session, "build lib", ["cargo", "build"], DEADLINE)
    assert aborted.value.failure.reason is Reason.ENGINE_ERROR
    assert aborted.value.failure.step == "build lib"
    assert aborted.value.failure.detail == str(error)  # the container still runs: kept


def test_other_exit_codes_are_the_steps_to_judge() -> None:
    session = GroupSession(container=FakeSandbox(exited(101)), limits=LIMITS)
    assert exec_step(session, "build lib", ["cargo", "build"], DEADLINE).exit_code == 101


def test_the_runner_records_an_engine_failure_and_does_not_raise(
    matrix: Matrix, tmp_path: Path
) -> None:
    cell = next(c for c in all_cells(matrix) if c.not_applicable is None)
    target = next(
        t
        for tc in matrix.toolchains
        if tc.name == cell.toolchain
        for t in tc.targets
        if t.triple == cell.target
    )
    runner = CellRunner(FakeSandbox(error=APIError("boom")), LIMITS)
    output = runner.run(cell_work(cell, matrix.scenario(cell.scenario)), target, tmp_path)
    assert output.failure is not None
    assert output.failure.reason is Reason.ENGINE_ERROR
    assert output.builds == ()


def run_spec(container: RunPlace) -> RunSpec:
    return RunSpec(
        name="run-exe",
        artifact="exe",
        args=(),
        container=container,
        exit_code=0,
        stdout=None,
        when=ANYWHERE,
        unless=None,
        why="",
    )


@pytest.mark.parametrize(
    ("place", "has_runner", "reason"),
    [
        (RunPlace.CELL, False, NotRun.NO_RUNNER),
        (RunPlace.CELL, True, NotRun.ARTIFACT_NOT_BUILT),
        (RunPlace.SCRATCH, False, NotRun.ARTIFACT_NOT_BUILT),
    ],
)
def test_why_a_run_was_not_run_is_a_closed_set(
    matrix: Matrix, tmp_path: Path, place: RunPlace, has_runner: bool, reason: NotRun
) -> None:
    cell = next(c for c in all_cells(matrix) if c.not_applicable is None)
    target = next(t for tc in matrix.toolchains for t in tc.targets if t.triple == cell.target)
    runner = Runner(command=("{file}",), file_glob=None) if has_runner else None
    target = replace(target, runner=runner)
    job = CellJob(
        work=cell_work(cell, matrix.scenario(cell.scenario)),
        target=target,
        deadline=DEADLINE,
        log=CellLog(),
        files_dir=tmp_path,
    )
    sandbox = FakeSandbox()
    record = run_one(GroupSession(container=sandbox, limits=LIMITS), job, run_spec(place), [])
    assert record.not_run is reason
    assert sandbox.commands == []


class StdSandbox(FakeSandbox):
    """A container whose std script answers `std_stdout` (exit `std_exit`); the rest succeeds."""

    def __init__(self, std_stdout: str, std_exit: int = 0) -> None:
        super().__init__()
        self.std = ExecResult(
            exit_code=std_exit, stdout=std_stdout, stderr="", timed_out=None, seconds=42.0
        )

    def run(
        self,
        command: Sequence[str],
        *,
        deadline: Deadline,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str = CELL_USER,
    ) -> ExecResult:
        super().run(command, deadline=deadline, env=env, workdir=workdir, user=user)
        if command[:1] == ["cat"]:  # the toolchain probe
            return replace(self.result, stdout='{"rustc": "rustc 1.96.0"}')
        return self.std if command[3:4] == ["linkmatrix-std"] else self.result


def std_job(matrix: Matrix, tmp_path: Path) -> CellJob:
    cell = next(c for c in all_cells(matrix) if c.toolchain == "wasm" and not c.not_applicable)
    return CellJob(
        work=cell_work(cell, matrix.scenario(cell.scenario)),
        target=matrix.toolchains[1].targets[0],
        deadline=DEADLINE,
        log=CellLog(),
        files_dir=tmp_path,
    )


def test_the_std_step_records_whether_it_built_std_and_how_long(
    matrix: Matrix, tmp_path: Path
) -> None:
    job = std_job(matrix, tmp_path)
    built = ensure_std(GroupSession(container=StdSandbox("BUILT /s\n"), limits=LIMITS), job)
    found = ensure_std(GroupSession(container=StdSandbox("PRESENT /s\n"), limits=LIMITS), job)
    assert built is not None
    assert found is not None
    assert (built.built, built.seconds, built.sysroot) == (True, 42.0, sysroot_dir(job.target))
    assert not found.built
    assert built.key == std_key(job.target)
    sandbox = StdSandbox("BUILT /s\n")
    ensure_std(GroupSession(container=sandbox, limits=LIMITS), job)
    # as root (the sysroot is read-only to the cells), in / (no cell's cargo config reaches it)
    assert (sandbox.users, sandbox.workdirs) == (["0:0"], ["/"])
    assert sandbox.full_cpu_commands == [0]  # std's build, and only it, without the CPU limit
    assert "std for wasm32-unknown-unknown" in job.log.text()


def test_no_std_step_where_the_release_ships_std(matrix: Matrix, tmp_path: Path) -> None:
    job = replace(std_job(matrix, tmp_path), target=matrix.toolchains[0].targets[0])
    sandbox = StdSandbox("BUILT /s\n")
    assert ensure_std(GroupSession(container=sandbox, limits=LIMITS), job) is None
    assert sandbox.commands == []


def test_a_failed_std_build_ends_the_cell_as_a_build_error(matrix: Matrix, tmp_path: Path) -> None:
    sandbox = StdSandbox("error: failed to select a version for `libc`\n", std_exit=101)
    with pytest.raises(CellAborted) as aborted:
        ensure_std(GroupSession(container=sandbox, limits=LIMITS), std_job(matrix, tmp_path))
    assert aborted.value.failure.reason is Reason.BUILD_ERROR
    assert aborted.value.failure.step == "std"
    assert "libc" in aborted.value.failure.detail


def test_a_cell_of_a_std_target_runs_the_std_step_before_its_builds(
    matrix: Matrix, tmp_path: Path
) -> None:
    job = std_job(matrix, tmp_path)
    sandbox = StdSandbox("PRESENT /s\n")
    output = CellRunner(sandbox, LIMITS).run(job.work, job.target, tmp_path)
    assert output.std is not None
    assert not output.std.built
    steps = [c[3] if c[:2] == ["sh", "-c"] and len(c) > 3 else c[0] for c in sandbox.commands]
    assert steps.index("linkmatrix-std") < steps.index("cargo")


def test_a_scratch_run_the_engine_oom_killed_ends_the_cell_as_oom(
    matrix: Matrix, tmp_path: Path
) -> None:
    cell = next(c for c in all_cells(matrix) if c.not_applicable is None)
    target = next(t for tc in matrix.toolchains for t in tc.targets if t.triple == cell.target)
    job = CellJob(
        work=cell_work(cell, matrix.scenario(cell.scenario)),
        target=target,
        deadline=DEADLINE,
        log=CellLog(),
        files_dir=tmp_path,
    )
    (tmp_path / "exe").mkdir()
    (tmp_path / "exe" / "hello").write_bytes(b"\x7fELF")
    build = exe_build("hello", ArtifactFormat.ELF)
    engine = FakeEngine(script=lambda argv: Reply(exit_code=137, oom_killed=True))
    session = GroupSession(
        container=FakeSandbox(),
        limits=LIMITS,
        scratch=ScratchRunner(client=engine, limits=LIMITS, run_id="r1"),
    )
    with pytest.raises(CellAborted) as aborted:
        run_one(session, job, run_spec(RunPlace.SCRATCH), [build])
    assert aborted.value.failure.reason is Reason.OOM
    assert aborted.value.failure.step == "run run-exe"
    assert "OOM-killed at the memory limit (1g)" in aborted.value.failure.detail


def test_each_cell_removes_cargo_configs_an_earlier_cell_planted_above_its_workdir(
    matrix: Matrix, tmp_path: Path
) -> None:
    job = std_job(matrix, tmp_path)
    sandbox = StdSandbox("PRESENT /s\n")
    CellRunner(sandbox, LIMITS).run(job.work, job.target, tmp_path)
    (workdir_step,) = (c for c in sandbox.commands if c[3:4] == ["workdir"])
    assert workdir_step[-3:] == [job.workdir, "/home/builder/work/.cargo", "/home/builder/.cargo"]


def test_a_cell_removes_the_workdir_the_last_cell_left_and_needs_no_cleanup_of_its_own(
    matrix: Matrix, tmp_path: Path
) -> None:
    first = std_job(matrix, tmp_path)
    second = next(
        c for c in all_cells(matrix) if c.toolchain == "wasm" and c.id != first.work.cell.id
    )
    sandbox = StdSandbox("PRESENT /s\n")
    runner = CellRunner(sandbox, LIMITS)
    runner.run(first.work, first.target, tmp_path / "1")
    runner.run(cell_work(second, matrix.scenario(second.scenario)), first.target, tmp_path / "2")
    workdirs = [c[4:] for c in sandbox.commands if c[3:4] == ["workdir"]]
    assert workdirs[0][0] == first.workdir  # nothing left yet
    assert workdirs[1][0] == first.workdir  # the first cell's, removed with the second's own
    assert workdirs[1][1] == f"{WORK_ROOT}/{second.slug}"
    assert not any(c[:2] == ["rm", "-rf"] for c in sandbox.commands)


def test_std_is_looked_for_once_per_group_and_each_cell_still_says_it_was_not_built(
    matrix: Matrix, tmp_path: Path
) -> None:
    job = std_job(matrix, tmp_path)
    sandbox = StdSandbox("BUILT /s\n")
    session = GroupSession(container=sandbox, limits=LIMITS)
    records = [ensure_std(session, job), ensure_std(session, job)]
    assert [c[3] for c in sandbox.commands if c[3:4] == ["linkmatrix-std"]] == ["linkmatrix-std"]
    assert [(r.built, r.seconds) for r in records if r is not None] == [(True, 42.0), (False, 0.0)]
    assert "ready: an earlier cell of this container's group built or found it" in job.log.text()


def exe_build(file: str, file_format: ArtifactFormat) -> BuildOutput:
    """A built `exe` artifact of one file, collected in the workdir."""
    built = BuiltFile(
        file=file,
        path=f"artifacts/x/exe/{file}",
        source=f"/w/artifacts/exe/{file}",
        sha256="0" * 64,
        size=4,
        format=file_format,
    )
    return BuildOutput(
        name="exe",
        package="hello",
        target_kind="bin",
        crate_type=None,
        command=(),
        env=(),
        exit_code=0,
        duration_s=1.0,
        diagnostics=(),
        files=(built,),
        primary=file,
        log_end=0,
    )


WINE_START = (
    "err:virtual:virtual_alloc_first_teb wine: failed to map the shared user data: c0000018"
)


@pytest.mark.parametrize(
    ("replies", "runs", "exit_code"),
    [
        # wine failed before the program started: once more, and the second outcome counts
        ([(1, WINE_START), (0, "bump_a() = 1")], 2, 0),
        ([(1, WINE_START), (1, WINE_START)], 2, 1),  # once more, never more
        ([(1, "panicked at src/main.rs")], 1, 1),  # the program's own failure: never again
        ([(0, WINE_START)], 1, 0),  # a run that passed is never repeated
    ],
)
def test_a_runner_that_failed_to_start_runs_the_program_once_more(
    matrix: Matrix,
    tmp_path: Path,
    replies: list[tuple[int, str]],
    runs: int,
    exit_code: int,
) -> None:
    job = run_job(matrix, tmp_path)
    build = exe_build("app.exe", ArtifactFormat.PE)
    sandbox = FakeSandbox()
    sandbox.queued = [
        ExecResult(exit_code=c, stdout="", stderr=e, timed_out=None, seconds=0.1)
        for c, e in replies
    ]
    session = GroupSession(container=sandbox, limits=LIMITS)
    record = run_one(session, job, run_spec(RunPlace.CELL), [build])
    assert len(sandbox.commands) == runs
    assert record.exit_code == exit_code
    assert ("the runner failed to start" in job.log.text()) == (runs == 2)


def test_two_toolchains_linking_one_target_differently_each_get_their_own_linker_probe(
    matrix: Matrix,
) -> None:
    gnu = matrix.toolchains[0].targets[0]
    lld = replace(gnu, linker_version=("rust-lld", "-flavor", "gnu", "--version"))
    sandbox = StdSandbox("PRESENT /s\n")
    session = GroupSession(container=sandbox, limits=LIMITS)
    for target in (gnu, lld, gnu, lld):
        probe_tools(session, target, DEADLINE)
    probes = [c for c in sandbox.commands if c[0] != "cat"]
    assert probes == [list(gnu.linker_version), list(lld.linker_version)]


WINE_PROBE = ("/usr/lib/wine/wine64", "--version")
NODE_PROBE = ("node", "--version")


def toolchain_answers(runner: Reply) -> Script:
    """A toolchain image's answers to the probes: rust.json, GNU ld, and `runner` for wine64."""

    def script(argv: Sequence[str]) -> Reply:
        if argv[0] == "cat":
            return prints('{"rustc": "rustc 1.96.0", "cargo": "cargo 1.96.0", "llvm": "22.1"}')
        if argv[0] == "ld":
            return prints("GNU ld (GNU Binutils for Debian) 2.40\nCopyright (C) 2023\n")
        if tuple(argv) == WINE_PROBE:
            return runner
        if tuple(argv) == NODE_PROBE:
            return prints("v18.19.0\n")
        return Reply()

    return script


def engine_container(script: Script) -> tuple[FakeEngine, CellContainer]:
    engine = FakeEngine(script=script)
    engine.add_image("img:tag")
    return engine, CellContainer(engine, "img:tag", limits=LIMITS, volumes={}, run_id="r1")


def with_runner(matrix: Matrix, command: str, version: tuple[str, ...] | None) -> TargetSpec:
    """The glibc target of the test matrix, its files run by `command` (wine-run, node)."""
    runner = Runner(command=(command, "{file}"), file_glob=None, version=version)
    return replace(matrix.toolchains[0].targets[0], runner=runner)


def test_the_runners_version_is_probed_once_per_target_and_runner(matrix: Matrix) -> None:
    wine = with_runner(matrix, "wine-run", WINE_PROBE)
    node = with_runner(matrix, "node", NODE_PROBE)
    unprobed = with_runner(matrix, "qemu-run", None)
    engine, container = engine_container(
        toolchain_answers(prints("wine-8.0 (Debian 8.0~repack-4)\n"))
    )
    session = GroupSession(container=container, limits=LIMITS)
    tools = [probe_tools(session, t, DEADLINE) for t in (wine, node, wine, unprobed, node)]
    assert [t.runner_version for t in tools] == [
        "wine-8.0 (Debian 8.0~repack-4)",
        "v18.19.0",
        "wine-8.0 (Debian 8.0~repack-4)",
        None,  # a runner without a version probe: nothing recorded, nothing made up
        "v18.19.0",
    ]
    assert {t.linker_version for t in tools} == {"GNU ld (GNU Binutils for Debian) 2.40"}
    runner_probes = [c for c in engine.commands() if c[0] not in ("cat", "ld")]
    assert runner_probes == [WINE_PROBE, NODE_PROBE]


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (
            Reply(stderr=b"exec: /usr/lib/wine/wine64: not found\n", exit_code=127),
            "(exit 127): exec: /usr/lib/wine/wine64: not found",
        ),
        (  # a traceback's last line is the error
            Reply(
                stderr=b"Traceback (most recent call last):\n  File ...\n"
                b"PackageNotFoundError: No package metadata was found for wasmtime\n",
                exit_code=1,
            ),
            "(exit 1): PackageNotFoundError: No package metadata was found for wasmtime",
        ),
        (Reply(exit_code=2), "(exit 2): no output"),
    ],
)
def test_a_failed_runner_probe_is_recorded_and_the_cell_still_builds(
    matrix: Matrix, tmp_path: Path, reply: Reply, said: str
) -> None:
    engine, container = engine_container(toolchain_answers(reply))
    cell = next(c for c in all_cells(matrix) if c.toolchain == "glibc")
    work = cell_work(cell, matrix.scenario(cell.scenario))
    output = CellRunner(container, LIMITS).run(
        work, with_runner(matrix, "wine-run", WINE_PROBE), tmp_path
    )
    assert output.failure is None
    assert output.tools is not None
    assert output.tools.runner_version == f"`/usr/lib/wine/wine64 --version` failed {said}"
    assert any(c[0] == "cargo" for c in engine.commands())  # the builds went on


@pytest.mark.parametrize("rust_json", ["rustc 1.96.0", "[]"])
def test_a_rust_json_that_is_not_an_object_ends_the_cell_as_a_missing_toolchain(
    matrix: Matrix, rust_json: str
) -> None:
    _, container = engine_container(lambda argv: prints(rust_json))
    session = GroupSession(container=container, limits=LIMITS)
    with pytest.raises(CellAborted) as aborted:
        probe_tools(session, matrix.toolchains[0].targets[0], DEADLINE)
    assert aborted.value.failure.reason is Reason.TOOLCHAIN_MISSING
    assert aborted.value.failure.step == "toolchain probe"


def run_job(matrix: Matrix, tmp_path: Path) -> CellJob:
    """A cell's job whose target runs programs with wine (each run a command in the cell)."""
    cell = next(c for c in all_cells(matrix) if c.not_applicable is None)
    target = next(t for tc in matrix.toolchains for t in tc.targets if t.triple == cell.target)
    target = replace(target, runner=Runner(command=("wine", "{file}"), file_glob=None))
    return CellJob(
        work=cell_work(cell, matrix.scenario(cell.scenario)),
        target=target,
        deadline=DEADLINE,
        log=CellLog(),
        files_dir=tmp_path,
    )


def test_the_last_builds_copy_rides_on_the_next_command_once(
    matrix: Matrix, tmp_path: Path
) -> None:
    job = run_job(matrix, tmp_path)
    build = exe_build("app.exe", ArtifactFormat.PE)
    pending = Collect(filenames=("/t/release/app.exe",), destination="/w/artifacts/app")
    sandbox = FakeSandbox()
    sandbox.queued = [  # wine failed to start: the program runs once more
        ExecResult(exit_code=1, stdout="", stderr=WINE_START, timed_out=None, seconds=0.1),
        ExecResult(exit_code=0, stdout="", stderr="", timed_out=None, seconds=0.1),
    ]
    session = GroupSession(container=sandbox, limits=LIMITS, collect=pending)
    record = run_one(session, job, run_spec(RunPlace.CELL), [build])
    first, again = sandbox.commands
    assert tuple(first) == with_collect(pending, again)  # copied before the first attempt only
    assert record.command == tuple(again)  # the record shows the run, not our copy
    assert session.collect is None


def test_a_copy_that_failed_ends_the_cell_before_its_command_ran(
    matrix: Matrix, tmp_path: Path
) -> None:
    job = run_job(matrix, tmp_path)
    pending = Collect(filenames=("/t/release/app.exe",), destination="/w/artifacts/app")
    failed = ExecResult(
        exit_code=COLLECT_FAILED_EXIT,
        stdout="",
        stderr=f"cp: cannot stat '/t/release/app.exe'\n{COLLECT_FAILED} (/w/artifacts/app)\n",
        timed_out=None,
        seconds=0.0,
    )
    session = GroupSession(container=FakeSandbox(failed), limits=LIMITS, collect=pending)
    with pytest.raises(CellAborted) as aborted:
        run_one(session, job, run_spec(RunPlace.CELL), [exe_build("app.exe", ArtifactFormat.PE)])
    assert aborted.value.failure.reason is Reason.INSPECTION_ERROR
    assert aborted.value.failure.step == "copy into /w/artifacts/app"
    assert "cannot stat" in aborted.value.failure.detail


def test_exit_125_of_a_command_with_no_copy_before_it_is_the_commands_own(
    matrix: Matrix, tmp_path: Path
) -> None:
    job = run_job(matrix, tmp_path)
    own = ExecResult(exit_code=COLLECT_FAILED_EXIT, stdout="", stderr="", timed_out=None, seconds=0)
    session = GroupSession(container=FakeSandbox(own), limits=LIMITS)
    record = run_one(session, job, run_spec(RunPlace.CELL), [exe_build("a.exe", ArtifactFormat.PE)])
    assert record.exit_code == COLLECT_FAILED_EXIT


def test_a_run_that_sets_pwd_gets_the_copy_in_an_exec_of_its_own(
    matrix: Matrix, tmp_path: Path
) -> None:
    # the wrapping shell would replace the run's own PWD
    job = run_job(matrix, tmp_path)
    spec = replace(run_spec(RunPlace.CELL), env=(("PWD", "/elsewhere"),))
    pending = Collect(filenames=("/t/release/app.exe",), destination="/w/artifacts/app")
    sandbox = FakeSandbox()
    session = GroupSession(container=sandbox, limits=LIMITS, collect=pending)
    record = run_one(session, job, spec, [exe_build("app.exe", ArtifactFormat.PE)])
    copy, run = sandbox.commands
    assert tuple(copy) == with_collect(pending, ["true"])
    assert tuple(run) == record.command
    assert session.collect is None
