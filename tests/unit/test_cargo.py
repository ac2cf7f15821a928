"""The cargo command of an artifact and the reading of cargo's JSON messages."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from orchestrator.cell.cargo import (
    COLLECT_FAILED,
    COLLECT_FAILED_EXIT,
    Collect,
    artifact_dir,
    bootstrap_need,
    build_dir,
    cargo_invocation,
    flagset_digest,
    parse_cargo_messages,
    rustc_command,
    target_dirs,
    with_collect,
    workdir_command,
)
from orchestrator.cell.observation import Bootstrap
from orchestrator.cell.runner import CellRunner
from orchestrator.cell.stdlib import std_key, sysroot_dir
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.config.scenario import ArtifactSpec
from orchestrator.engine.container import (
    CELL_USER,
    ContainerState,
    Deadline,
    ExecResult,
    MemoryEvents,
)
from orchestrator.plan import Cell, cell_work
from orchestrator.status import BootstrapCause
from tests.unit.conftest import MATRIX, SCENARIO, ProjectFactory
from tests.unit.fake_engine import unwrap_collect


def artifact(matrix: Matrix, name: str) -> ArtifactSpec:
    return next(a for a in matrix.scenario("alpha").artifacts if a.name == name)


def test_bootstrap_only_for_builds_that_need_it(matrix: Matrix) -> None:
    glibc, wasm = matrix.toolchains[0].targets[0], matrix.toolchains[1].targets[0]
    plain = cargo_invocation(
        scenario="alpha", target=glibc, artifact=artifact(matrix, "lib"), workdir="/w"
    )
    flagged = cargo_invocation(
        scenario="alpha", target=glibc, artifact=artifact(matrix, "exe"), workdir="/w"
    )
    cross = cargo_invocation(
        scenario="alpha", target=wasm, artifact=artifact(matrix, "lib"), workdir="/w"
    )
    assert "RUSTC_BOOTSTRAP" not in dict(plain.env)
    assert dict(flagged.env)["RUSTC_BOOTSTRAP"] == "1"
    # a std-built target builds as a stable user builds on a rustup std: no bootstrap, no -Z
    assert "RUSTC_BOOTSTRAP" not in dict(cross.env)
    assert not any(a.startswith("-Z") for a in cross.argv)
    assert 'profile.release.panic="abort"' in cross.argv
    assert not any(a.startswith("-Z") for a in plain.argv)


def test_a_std_built_target_builds_on_its_sysroot_with_plain_cargo(matrix: Matrix) -> None:
    wasm = matrix.toolchains[1].targets[0]
    cross = cargo_invocation(
        scenario="alpha", target=wasm, artifact=artifact(matrix, "lib"), workdir="/w"
    )
    env = dict(cross.env)
    assert env["RUSTFLAGS"] == f"--sysroot {sysroot_dir(wasm)}"
    assert sysroot_dir(wasm) == f"/cache/sysroots/{std_key(wasm)}"
    assert cross.argv[:3] == ("cargo", "rustc", "-v")
    assert cross.argv[10:12] == ("--target", "wasm32-unknown-unknown")
    # its own rustflags first, then the sysroot
    flagged = replace(wasm, rustflags=("-Ctarget-cpu=mvp",))
    flagged_env = dict(
        cargo_invocation(
            scenario="alpha", target=flagged, artifact=artifact(matrix, "lib"), workdir="/w"
        ).env
    )
    assert flagged_env["RUSTFLAGS"] == f"-Ctarget-cpu=mvp --sysroot {sysroot_dir(flagged)}"


def test_a_declared_feature_crate_or_a_z_rustflag_needs_bootstrap(matrix: Matrix) -> None:
    wasm = matrix.toolchains[1].targets[0]
    lib = artifact(matrix, "lib")
    featured = cargo_invocation(
        scenario="alpha",
        target=wasm,
        artifact=replace(lib, bootstrap="#![feature(x)]"),
        workdir="/w",
    )
    z_target = cargo_invocation(
        scenario="alpha", target=replace(wasm, rustflags=("-Zfoo",)), artifact=lib, workdir="/w"
    )
    assert dict(featured.env)["RUSTC_BOOTSTRAP"] == "1"
    assert dict(z_target.env)["RUSTC_BOOTSTRAP"] == "1"


RUNNING_STDERR = """   Compiling libloading v0.8.5
     Running `rustc --crate-name build_script_build --edition=2021 cdy/build.rs --crate-type bin`
     Running `rustc --crate-name libloading --edition=2015 /src/alpha/.vendor/cdy/src/lib.rs`
     Running `rustc --crate-name cdy --edition=2021 cdy/src/lib.rs --crate-type cdylib \
-C opt-level=3 --target wasm32-unknown-unknown -Z unstable-options --sysroot '/cache/s y'`
     Running `rustc --crate-name cdy --edition=2021 /elsewhere/cdy/src/lib.rs`
   Compiling exe v0.1.0 (/src/alpha/exe)
     Running `CARGO=/usr/bin/cargo rustc --crate-name exe --edition=2021 exe/src/main.rs`
"""


def test_the_rustc_command_of_the_artifacts_own_crate_is_read_from_cargo_v(
    matrix: Matrix,
) -> None:
    lib = rustc_command(RUNNING_STDERR, scenario="alpha", artifact=artifact(matrix, "lib"))
    assert lib is not None
    assert lib.startswith("rustc --crate-name cdy ")
    assert "-Z unstable-options" in lib  # what cargo added is kept
    assert lib.endswith("--sysroot '/cache/s y'")
    exe = rustc_command(RUNNING_STDERR, scenario="alpha", artifact=artifact(matrix, "exe"))
    assert exe == "CARGO=/usr/bin/cargo rustc --crate-name exe --edition=2021 exe/src/main.rs"
    fresh = "   Fresh cdy v0.1.0\n"
    assert rustc_command(fresh, scenario="alpha", artifact=artifact(matrix, "lib")) is None


def test_per_artifact_flags_go_after_the_separator_so_std_is_shared(matrix: Matrix) -> None:
    glibc = matrix.toolchains[0].targets[0]
    flagged = cargo_invocation(
        scenario="alpha", target=glibc, artifact=artifact(matrix, "exe"), workdir="/w"
    )
    separator = flagged.argv.index("--")
    assert flagged.argv[separator + 1 :] == (
        "-L",
        "native=/w/native",
        "-Zexport-executable-symbols",
    )
    assert dict(flagged.env)["CARGO_BUILD_BUILD_DIR"] == build_dir(glibc)
    assert dict(flagged.env)["CARGO_TARGET_DIR"] == "/w/target/exe"
    assert "RUSTFLAGS" not in dict(flagged.env)


def test_flagset_digest_changes_with_rustflags(matrix: Matrix) -> None:
    from dataclasses import replace

    glibc = matrix.toolchains[0].targets[0]
    assert flagset_digest(glibc) == flagset_digest(replace(glibc))
    assert flagset_digest(glibc) != flagset_digest(replace(glibc, rustflags=("-Cdebuginfo=1",)))


def test_an_artifacts_rustflags_reach_every_crate_after_the_targets(matrix: Matrix) -> None:
    """In RUSTFLAGS (every crate of the build), after the target's flags and sysroot, and in a
    build dir of their own; an artifact without any keeps the dir it had.
    """
    glibc, wasm = matrix.toolchains[0].targets[0], matrix.toolchains[1].targets[0]
    lib = replace(artifact(matrix, "lib"), rustflags=("-Copt-level=1", "-Cpanic=abort"))
    native = dict(cargo_invocation(scenario="alpha", target=glibc, artifact=lib, workdir="/w").env)
    assert native["RUSTFLAGS"] == "-Copt-level=1 -Cpanic=abort"
    cross = dict(cargo_invocation(scenario="alpha", target=wasm, artifact=lib, workdir="/w").env)
    assert cross["RUSTFLAGS"] == f"--sysroot {sysroot_dir(wasm)} -Copt-level=1 -Cpanic=abort"
    assert native["CARGO_BUILD_BUILD_DIR"] == build_dir(glibc, lib.rustflags)
    assert build_dir(glibc, lib.rustflags) != build_dir(glibc)
    assert flagset_digest(glibc, ()) == flagset_digest(glibc)


def test_parse_messages_keeps_the_wanted_target_and_workspace_diagnostics(matrix: Matrix) -> None:
    lines = [
        {
            "reason": "compiler-artifact",
            "manifest_path": "/usr/src/rustc/library/std/Cargo.toml",
            "target": {"kind": ["lib"], "name": "std"},
            "filenames": ["/c/libstd.rlib"],
        },
        {
            "reason": "compiler-message",
            "manifest_path": "/src/alpha/cdy/Cargo.toml",
            "message": {
                "level": "warning",
                "message": "unused variable: `x`",
                "code": {"code": "unused_variables"},
                "rendered": "warning: unused variable\n",
            },
        },
        {
            "reason": "compiler-artifact",
            "manifest_path": "/src/alpha/cdy/Cargo.toml",
            "package_id": "path+file:///src/alpha/cdy#0.1.0",
            "target": {"kind": ["cdylib"], "name": "cdy"},
            "filenames": ["/c/libcdy.so"],
            "executable": None,
        },
        {"reason": "build-finished", "success": True},
    ]
    stdout = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    report = parse_cargo_messages(stdout, scenario="alpha", artifact=artifact(matrix, "lib"))
    assert report.filenames == ("/c/libcdy.so",)
    assert [d.headline for d in report.diagnostics] == ["warning: unused variable: `x`"]
    assert report.diagnostics[0].code == "unused_variables"
    assert report.rendered == "warning: unused variable\n"
    exe = parse_cargo_messages(stdout, scenario="alpha", artifact=artifact(matrix, "exe"))
    assert exe.filenames == ()


def test_cargo_refusals_on_stderr_become_diagnostics(matrix: Matrix) -> None:
    stderr = (
        "   Compiling cdy v0.1.0\n"
        "error: cannot produce cdylib for `cdy v0.1.0 (/src/alpha/cdy)` as the target "
        "`x86_64-unknown-linux-musl` does not support these crate types\n"
    )
    report = parse_cargo_messages(
        "", scenario="alpha", artifact=artifact(matrix, "lib"), stderr=stderr
    )
    assert [d.level for d in report.diagnostics] == ["error"]
    assert "does not support these crate types" in report.diagnostics[0].message
    assert report.rendered == ""


def test_a_release_without_build_dir_shares_the_whole_target_dir(matrix: Matrix) -> None:
    glibc = matrix.toolchains[0].targets[0]
    exe = cargo_invocation(
        scenario="alpha",
        target=glibc,
        artifact=artifact(matrix, "exe"),
        workdir="/w",
        has_build_dir=False,
    )
    env = dict(exe.env)
    assert env["CARGO_TARGET_DIR"] == build_dir(glibc)
    assert "CARGO_BUILD_BUILD_DIR" not in env
    assert target_dirs(
        target=glibc, artifact=artifact(matrix, "exe"), workdir="/w", has_build_dir=True
    ) == {"CARGO_BUILD_BUILD_DIR": build_dir(glibc), "CARGO_TARGET_DIR": "/w/target/exe"}


def test_collect_copies_a_builds_files_into_the_artifacts_own_folder() -> None:
    files = ("/cache/t/release/exe", "/cache/t/release/exe.wasm")
    destination = artifact_dir("/w", "exe-with-flag")
    assert destination == "/w/artifacts/exe-with-flag"
    collect = Collect(filenames=files, destination=destination)
    command = with_collect(collect, ["cargo", "build"])
    assert command[:2] == ("sh", "-c")
    assert command[3:] == ("collect", destination, "2", *files, "cargo", "build")
    assert collect.paths() == (
        "/w/artifacts/exe-with-flag/exe",
        "/w/artifacts/exe-with-flag/exe.wasm",
    )


def test_the_collect_wrapper_leaves_the_commands_environment_as_the_exec_gave_it(
    tmp_path: Path,
) -> None:
    # `docker exec` sets no PWD; a shell exports one: a run counting its variables saw one more
    built = tmp_path / "exe"
    built.write_text("exe")
    collect = Collect(filenames=(str(built),), destination=str(tmp_path / "artifacts"))
    environment = {"PATH": "/usr/bin:/bin", "ONLY": "this"}
    done = subprocess.run(
        with_collect(collect, ["env"]),
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=tmp_path,
    )
    assert sorted(done.stdout.splitlines()) == ["ONLY=this", "PATH=/usr/bin:/bin"]


def test_the_collect_wrapper_copies_then_runs_the_command_in_one_shell(tmp_path: Path) -> None:
    built = tmp_path / "release"
    built.mkdir()
    for name in ("exe", "exe d"):  # a space in a name stays one argument
        (built / name).write_text(name)
    destination = tmp_path / "artifacts" / "exe"
    (destination / "stale").parent.mkdir(parents=True)
    (destination / "stale").write_text("left by an earlier build")
    collect = Collect(
        filenames=(str(built / "exe"), str(built / "exe d")), destination=str(destination)
    )
    done = subprocess.run(
        with_collect(collect, ["sh", "-c", 'echo "ran with $# args: $1"', "x", "a b"]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "ran with 1 args: a b\n")
    assert sorted(p.name for p in destination.iterdir()) == ["exe", "exe d"]
    assert [Path(p).read_text() for p in collect.paths()] == ["exe", "exe d"]

    gone = Collect(filenames=(str(built / "missing"),), destination=str(destination))
    failed = subprocess.run(
        with_collect(gone, ["touch", str(tmp_path / "ran")]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode == COLLECT_FAILED_EXIT
    assert COLLECT_FAILED in failed.stderr
    assert not (tmp_path / "ran").exists()  # the command never ran


def test_release_build_dir_is_read_from_matrix_yaml(make_project: ProjectFactory) -> None:
    text = MATRIX.replace(
        '"1.85": { rustc_web: "1.85.0+dfsg3-1~deb12u3" }',
        '"1.85": { rustc_web: "1.85.0+dfsg3-1~deb12u3", build_dir: false }',
    )
    loaded = load_matrix(make_project(matrix=text))
    assert loaded.release("1.85").build_dir is False
    assert loaded.release("1.96").build_dir is True  # the default


def glibc_alpha(release: str) -> Cell:
    """The fixture scenario's cell on glibc at `release` (1.96 the default: no suffix)."""
    suffix = "" if release == "1.96" else f"@{release}"
    return Cell(
        id=f"glibc{suffix}/x86_64-unknown-linux-gnu/alpha",
        toolchain="glibc",
        release=release,
        target="x86_64-unknown-linux-gnu",
        scenario="alpha",
        image="glibc",
        not_applicable=None,
    )


class FakeCellContainer:
    """What CellRunner calls on its container, scripted: cargo always reports one shared path."""

    shared = "/cache/x86_64-unknown-linux-gnu/abc/x86_64-unknown-linux-gnu/release/exe"

    def __init__(self) -> None:
        self.commands: list[tuple[list[str], dict[str, str]]] = []
        self.fetched: list[str] = []
        self.copies: dict[str, bytes] = {}
        self.current = b""

    def restart(self) -> None:
        pass

    def put_tree(self, tar_bytes: bytes) -> None:
        pass

    def state(self) -> ContainerState:
        return ContainerState(running=True, status="running")

    def memory_events(self) -> MemoryEvents:
        return MemoryEvents(oom_kills=0)

    def container_id(self) -> str:
        return "c1"

    def full_cpu(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def run(
        self,
        command: Sequence[str],
        *,
        deadline: Deadline,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str = CELL_USER,
    ) -> ExecResult:
        command = list(command)
        self.commands.append((command, dict(env or {})))
        collect, command = unwrap_collect(command)
        if collect is not None:  # made before the command, from what the last build left
            for path in collect.paths():
                self.copies[path] = self.current
        stdout = ""
        if command[:2] == ["cat", "/etc/linkmatrix/rust.json"]:
            stdout = '{"rustc": "rustc 1.85.0", "cargo": "cargo 1.85.0", "llvm": "19"}'
        elif command[0] == "cargo":
            # each build overwrites the one `release/exe` of the shared target dir
            self.current = " ".join(command).encode()
            message = {
                "reason": "compiler-artifact",
                "manifest_path": "/src/alpha/exe/Cargo.toml",
                "package_id": "path+file:///src/alpha/exe#0.1.0",
                "target": {"kind": ["bin"], "name": "exe"},
                "filenames": [self.shared],
                "executable": self.shared,
            }
            stdout = json.dumps(message) + "\n"
        return ExecResult(exit_code=0, stdout=stdout, stderr="", timed_out=None, seconds=0.0)

    def get_file(self, path: str) -> bytes:
        self.fetched.append(path)
        return self.current if path == self.shared else self.copies[path]


def test_each_artifact_is_copied_out_before_the_next_build(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    # the fixture's artifacts (lib; exe, with a -Z flag) plus exe-plain: the same bin, no flag
    text = SCENARIO.replace(
        "checks:\n",
        "  - name: exe-plain\n    package: exe\n    target_kind: bin\n    bin_name: exe\nchecks:\n",
    )
    loaded = load_matrix(make_project(scenarios={"alpha": text}))
    releases = (replace(loaded.release("1.85"), build_dir=False), loaded.release("1.96"))
    glibc = loaded.toolchains[0].targets[0]
    container = FakeCellContainer()
    runner = CellRunner(container, loaded.limits, releases=releases)
    cell = glibc_alpha("1.85")
    observation = runner.run(cell_work(cell, loaded.scenario("alpha")), glibc, tmp_path / "files")
    assert observation.failure is None, observation.failure
    builds = {b.name: b for b in observation.builds if b.name in ("exe", "exe-plain")}
    workdir = f"/home/builder/work/{cell.slug}"
    for name, build in builds.items():
        env = dict(build.env)
        assert env["CARGO_TARGET_DIR"] == build_dir(glibc)
        assert "CARGO_BUILD_BUILD_DIR" not in env
        (file,) = build.files
        assert file.source == f"{workdir}/artifacts/{name}/exe"
    # what was fetched, and the copy that runs would use, hold each build's own output
    files = tmp_path / "files"
    assert b"-Zexport-executable-symbols" in (files / "exe" / "exe").read_bytes()
    assert b"-Zexport" not in (files / "exe-plain" / "exe").read_bytes()
    assert b"-Zexport-executable-symbols" in container.copies[f"{workdir}/artifacts/exe/exe"]
    assert set(container.fetched) == {FakeCellContainer.shared}  # right after each build


def test_run_arguments_name_other_artifacts_of_the_cell() -> None:
    from orchestrator.cell.observation import BuildOutput, BuiltFile
    from orchestrator.cell.runner import artifact_arguments
    from orchestrator.inspect.model import ArtifactFormat

    plugin_file = BuiltFile(
        file="libplugin.so",
        path="a/libplugin.so",
        source="/w/artifacts/plugin/libplugin.so",
        sha256="0" * 64,
        size=1,
        format=ArtifactFormat.ELF,
    )
    plugin = BuildOutput(
        name="plugin",
        package="plugin",
        target_kind="lib",
        crate_type="cdylib",
        command=(),
        env=(),
        exit_code=0,
        duration_s=0.1,
        diagnostics=(),
        files=(plugin_file,),
        primary="libplugin.so",
        log_end=0,
    )
    args = artifact_arguments(["--load={artifact:plugin}", "{artifact:missing}", "plain"], [plugin])
    assert args == ("--load=/w/artifacts/plugin/libplugin.so", "{artifact:missing}", "plain")


def test_run_environment_names_artifact_folders() -> None:
    from dataclasses import replace as change

    from orchestrator.cell.observation import BuildOutput, BuiltFile
    from orchestrator.cell.runner import artifact_arguments, run_environment
    from orchestrator.config.scenario import ANYWHERE, RunSpec
    from orchestrator.inspect.model import ArtifactFormat

    host = BuildOutput(
        name="host-api",
        package="host-api",
        target_kind="lib",
        crate_type="dylib",
        command=(),
        env=(),
        exit_code=0,
        duration_s=0.1,
        diagnostics=(),
        files=(
            BuiltFile(
                file="libhost_api.so",
                path="a/libhost_api.so",
                source="/w/artifacts/host-api/libhost_api.so",
                sha256="0" * 64,
                size=1,
                format=ArtifactFormat.ELF,
            ),
        ),
        primary="libhost_api.so",
        log_end=0,
    )
    spec = RunSpec(
        name="with-libs",
        artifact="host",
        args=("{artifact_dir:host-api}",),
        env=(("LD_LIBRARY_PATH", "{artifact_dir:host-api}:/usr/lib"),),
        exit_code=0,
        stdout=None,
        when=ANYWHERE,
        unless=None,
        why="",
    )
    assert run_environment(spec, [host]) == {"LD_LIBRARY_PATH": "/w/artifacts/host-api:/usr/lib"}
    assert artifact_arguments(spec.args, [host]) == ("/w/artifacts/host-api",)
    unbuilt = change(host, files=(), primary=None, exit_code=101)
    assert run_environment(spec, [unbuilt]) == {
        "LD_LIBRARY_PATH": "{artifact_dir:host-api}:/usr/lib"
    }


def test_scenario_sources_are_stamped_now_so_cargo_never_reuses_another_scenarios_build(
    matrix: Matrix,
) -> None:
    import io
    import tarfile
    import time

    from orchestrator.cell.sources import scenario_tar

    before = time.time()
    with tarfile.open(fileobj=io.BytesIO(scenario_tar(matrix.scenario("alpha")))) as archive:
        members = archive.getmembers()
    assert members
    assert all(member.mtime >= int(before) for member in members)
    assert all(member.uid == 0 and not member.mode & 0o222 for member in members)


def test_the_cause_of_rustc_bootstrap_is_told_apart(matrix: Matrix) -> None:
    """What results.json records per artifact: declared (with its why), own -Z flags, target's."""
    glibc, wasm = matrix.toolchains[0].targets[0], matrix.toolchains[1].targets[0]
    lib, exe = artifact(matrix, "lib"), artifact(matrix, "exe")
    assert bootstrap_need(glibc, lib) is None
    assert bootstrap_need(glibc, exe) == Bootstrap(
        cause=BootstrapCause.RUSTC_ARGS, why="-Zexport-executable-symbols"
    )
    declared = replace(exe, bootstrap="#![feature(abi_ptx)]")
    assert bootstrap_need(glibc, declared) == Bootstrap(
        cause=BootstrapCause.DECLARED, why="#![feature(abi_ptx)]"
    )
    z_target = replace(wasm, rustflags=("-Ctarget-cpu=mvp", "-Zfoo"))
    assert bootstrap_need(z_target, lib) == Bootstrap(cause=BootstrapCause.TARGET, why="-Zfoo")


def test_with_a_build_dir_each_artifacts_files_are_still_copied_into_a_folder_of_its_own(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    # cargo's own folder would also hold a dylib dependency, found beside a Windows program
    text = SCENARIO.replace(  # two builds with files: exe, and exe-plain (the same bin)
        "checks:\n",
        "  - name: exe-plain\n    package: exe\n    target_kind: bin\n    bin_name: exe\nchecks:\n",
    )
    loaded = load_matrix(make_project(scenarios={"alpha": text}))
    glibc = loaded.toolchains[0].targets[0]
    container = FakeCellContainer()
    runner = CellRunner(container, loaded.limits, releases=(loaded.release("1.96"),))
    cell = glibc_alpha("1.96")
    observation = runner.run(cell_work(cell, loaded.scenario("alpha")), glibc, tmp_path / "files")
    assert observation.failure is None, observation.failure
    collects = [
        collect for command, _ in container.commands if (collect := unwrap_collect(command)[0])
    ]
    built = [build for build in observation.builds if build.files]
    assert len(collects) == len(built) - 1 > 0  # the last build's copy: no later command needs it
    assert [c.destination for c in collects] == [
        artifact_dir(f"/home/builder/work/{cell.slug}", b.name) for b in built[:-1]
    ]
    assert not any("ln -s" in command[2] for command, _ in container.commands if len(command) > 2)


def test_the_workdir_command_clears_what_was_left(tmp_path: Path) -> None:
    left, workdir, planted = tmp_path / "left", tmp_path / "w", tmp_path / ".cargo"
    for stale in (left / "f", workdir / "stale", planted / "config.toml"):
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_text("x")
    command = workdir_command(workdir=str(workdir), remove=(str(left), str(workdir), str(planted)))
    subprocess.run(command, check=True)
    assert not left.exists() and not planted.exists() and not (workdir / "stale").exists()
    assert (workdir / "native").is_dir() and (workdir / "artifacts").is_dir()
