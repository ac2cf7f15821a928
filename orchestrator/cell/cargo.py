"""The cargo command of one artifact, and what cargo's JSON messages say came of it. Pure."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from orchestrator.cell.observation import Bootstrap, Diagnostic
from orchestrator.cell.stdlib import CACHE_ROOT, std_key, sysroot_rustflags
from orchestrator.config.matrix import TargetSpec
from orchestrator.config.scenario import ArtifactSpec, TargetKind
from orchestrator.status import BootstrapCause

SOURCE_ROOT = "/src"
WORK_ROOT = "/home/builder/work"
VENDOR_DIR = ".vendor"  # a scenario's vendored crates, beside its sources in the cell
CELL_SOURCE = "linkmatrix-cell-vendor"


def scenario_vendor_dir(scenario: str) -> str:
    """Where the cell finds a scenario's vendored crates.io dependencies."""
    return f"{SOURCE_ROOT}/{scenario}/{VENDOR_DIR}"


# Make `$out`: the image's std crates and the scenario's (`$mine`), side by side, as links.
_VENDOR_MERGE = (
    'rm -rf "$out" && mkdir -p "$out" && '
    'config="${CARGO_HOME:-$HOME/.cargo}/config.toml"; '
    'std="$(sed -n \'s/^directory = "\\(.*\\)"$/\\1/p\' "$config" 2>/dev/null | head -n1)"; '
    'if [ -n "$std" ] && [ -d "$std" ]; then '
    'for d in "$std"/*; do ln -s "$d" "$out/"; done; fi; '
    'for d in "$mine"/*; do ln -sfn "$d" "$out/$(basename "$d")"; done'
)


def vendor_merge_command(scenario: str, workdir: str) -> tuple[str, ...]:
    """Make `<workdir>/vendor`: the image's std crates and the scenario's, side by side.

    Cargo has one replacement for crates.io, and the image points it at the std vendor dir
    (what -Zbuild-std resolves from); a cell with its own crates gets one directory holding
    links to both (duplicates of one name and version are the same crate, and cargo takes either).
    Since std comes built from a sysroot (cell/stdlib.py), std's own crates are never compiled
    in a cell, so this directory no longer changes std's sources (it once rebuilt std).
    """
    script = f'out="$1"; mine="$2"; {_VENDOR_MERGE}'
    return ("sh", "-c", script, "vendor", f"{workdir}/vendor", scenario_vendor_dir(scenario))


def workdir_command(
    *,
    workdir: str,
    remove: Sequence[str],
    vendor_of: str | None = None,
) -> tuple[str, ...]:
    """One command readies a cell's workdir (each exec costs a round trip to the engine).

    It removes `remove` (what an earlier cell left: its workdir, cargo configs a build
    planted), makes `native/` and `artifacts/`, and with `vendor_of` (a scenario) merges its
    vendored crates as `vendor_merge_command` does.

    `artifacts/<name>` is never a link to cargo's own output folder, even where that folder is
    the artifact's alone (a build-dir cargo): cargo puts a dylib dependency there too, and a
    Windows program finds a DLL beside it, so the run would no longer show what the artifact
    alone does (msvc/plugin-host-dylib's host started where it must not). Each build's files are
    copied (`with_collect`).
    """
    q = shlex.quote
    parts = [
        'rm -rf -- "$@"',
        f"mkdir -p {q(workdir + '/native')} {q(workdir + '/artifacts')}",
    ]
    script = " && ".join(parts)
    if vendor_of is not None:
        out, mine = q(f"{workdir}/vendor"), q(scenario_vendor_dir(vendor_of))
        script += f" && {{ out={out}; mine={mine}; {_VENDOR_MERGE}; }}"
    return ("sh", "-c", script, "workdir", *remove)


def flagset_digest(target: TargetSpec, rustflags: Sequence[str] = ()) -> str:
    """Everything that changes how a target's crates build: one cache dir per distinct set.

    The std key covers the target's fixed flags; the sysroot it names is in every crate's
    RUSTFLAGS, so two targets with one std key build their crates alike. An artifact's own
    `rustflags` rebuild every dependency: a dir of their own, so that two artifacts with and
    without them do not rebuild each other's (a set without any keeps the digest it had).
    """
    parts: list[object] = [target.triple, std_key(target), target.rustflags, target.env]
    if rustflags:
        parts.append(list(rustflags))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]


def build_dir(target: TargetSpec, rustflags: Sequence[str] = ()) -> str:
    """The cached cargo build dir (the scenarios' deps), in the image's volume, per flag set.

    Under `build/`: the dirs of the former `-Zbuild-std` builds (`/cache/<triple>/…`) held std
    too, and a scenario crate now never shares a cargo graph with std.

    With a cargo that has `build.build-dir`, final artifacts are uplifted into the artifact's own
    target dir; without it (cargo 1.85), this dir is the whole target dir. Either way each
    artifact's files are fetched right after its build and copied into `artifact_dir` before
    the cell's next command (`with_collect`).
    """
    return f"{CACHE_ROOT}/build/{target.triple}/{flagset_digest(target, rustflags)}"


def target_dirs(
    *, target: TargetSpec, artifact: ArtifactSpec, workdir: str, has_build_dir: bool
) -> dict[str, str]:
    """Where cargo builds: std shared per (target, flag set) in the image's volume, always.

    A release whose cargo has no build-dir shares the whole target dir instead, so two artifacts
    of one crate (or of two cells) write the same `release/<name>`: each one's files are fetched
    right after its build, and copied in the next build's exec before cargo starts.
    """
    shared = build_dir(target, artifact.rustflags)
    if not has_build_dir:
        return {"CARGO_TARGET_DIR": shared}
    return {
        "CARGO_BUILD_BUILD_DIR": shared,
        # one target dir per artifact: two artifacts of one crate must not share `release/exe`
        "CARGO_TARGET_DIR": f"{workdir}/target/{artifact.name}",
    }


def artifact_dir(workdir: str, artifact: str) -> str:
    """The folder of the cell's workdir that holds one artifact's files once it is built."""
    return f"{workdir}/artifacts/{artifact}"


# What the copy prints, and exits with, when it fails: the wrapped command then never ran.
COLLECT_FAILED_EXIT = 125
COLLECT_FAILED = "linkmatrix: copying the built files failed"
_COLLECT_SCRIPT = (
    'dest="$1"; n="$2"; shift 2; '
    f'fail() {{ echo "{COLLECT_FAILED} ($dest)" >&2; exit {COLLECT_FAILED_EXIT}; }}; '
    'rm -rf "$dest" && mkdir -p "$dest" || fail; '
    'i=0; while [ "$i" -lt "$n" ]; do cp -pR -- "$1" "$dest"/ || fail; shift; i=$((i + 1)); done; '
    # the shell exported PWD, which `docker exec` never sets: the command gets the environment
    # it would have had without the shell (a run that counts its variables saw one more)
    'unset PWD; exec "$@"'
)


@dataclass(frozen=True, kw_only=True)
class Collect:
    """A build's files (cargo's `filenames`) to be copied into `destination`, emptied first."""

    filenames: tuple[str, ...]
    destination: str

    def paths(self) -> tuple[str, ...]:
        """Where each file ends up: its name, in `destination`."""
        return tuple(
            posixpath.join(self.destination, posixpath.basename(f)) for f in self.filenames
        )


def with_collect(collect: Collect, command: Sequence[str]) -> tuple[str, ...]:
    """`command`, run once `collect`'s copy is made, in the same exec.

    Each exec is a round trip to the engine (about a quarter of a second here): the copy rides
    on the cell's next command instead of one of its own, and a cell whose last build needs no
    copy (nothing runs after it; its files were already fetched from cargo's own folder) makes
    none. A failed copy exits COLLECT_FAILED_EXIT, saying COLLECT_FAILED, before the command.
    The command's environment is the exec's, as without the shell; a step that sets PWD itself
    is not wrapped (the shell would replace its value): see `runner.cell_step`.
    """
    count = str(len(collect.filenames))
    return ("sh", "-c", _COLLECT_SCRIPT, "collect", collect.destination, count,
            *collect.filenames, *command)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class CargoInvocation:
    """argv and the environment variables set for it (recorded in the results)."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]

    def shell(self) -> str:
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        return f"{assignments} {shlex.join(self.argv)}".strip()


def cargo_invocation(
    *,
    scenario: str,
    target: TargetSpec,
    artifact: ArtifactSpec,
    workdir: str,
    has_build_dir: bool = True,
    vendored: bool = False,
) -> CargoInvocation:
    """`cargo rustc -v` for one artifact, as a stable user runs it: plain `--target`, std from the
    target's sysroot (`--sysroot` in RUSTFLAGS, which cargo gives only the target's crates, never
    build scripts or proc-macros, once `--target` is passed), RUSTC_BOOTSTRAP only when the
    artifact or the target asks for something unstable. `-v` makes cargo print the rustc command
    it ran, with every flag it added (`rustc_command` reads it back).

    `has_build_dir`: the release's cargo knows `CARGO_BUILD_BUILD_DIR` (matrix.yaml `releases:`).
    `vendored`: the scenario has crates.io dependencies, in `<workdir>/vendor`
    (`vendor_merge_command`).
    """
    argv = [
        "cargo",
        "rustc",
        "-v",
        "--locked",
        "--offline",
        "--release",
        "--manifest-path",
        f"{SOURCE_ROOT}/{scenario}/Cargo.toml",
        "-p",
        artifact.package,
        "--target",
        target.triple,
        "--message-format=json",
    ]
    argv += ["--lib"] if artifact.target_kind is TargetKind.LIB else ["--bin", artifact.bin_name]
    if artifact.crate_type is not None:
        argv += ["--crate-type", artifact.crate_type.value]
    if target.panic:
        argv += ["--config", f'profile.release.panic="{target.panic}"']
    if vendored:
        argv += [
            "--config",
            f'source.crates-io.replace-with="{CELL_SOURCE}"',
            "--config",
            f'source.{CELL_SOURCE}.directory="{workdir}/vendor"',
        ]
    argv += ["--", "-L", f"native={workdir}/native", *artifact.rustc_args]
    env = {
        **target_dirs(
            target=target, artifact=artifact, workdir=workdir, has_build_dir=has_build_dir
        ),
        **dict(target.env),
        # what a build script may use: earlier artifacts of the cell, prepared natives, sources
        "ARTIFACTS": f"{workdir}/artifacts",
        "NATIVE": f"{workdir}/native",
        "SRC": f"{SOURCE_ROOT}/{scenario}",
    }
    # the target's flags and sysroot, then the artifact's build-wide ones (the last of a
    # repeated -C option wins in rustc)
    if rustflags := (*sysroot_rustflags(target), *artifact.rustflags):
        env["RUSTFLAGS"] = " ".join(rustflags)
    if bootstrap_need(target, artifact) is not None:
        env["RUSTC_BOOTSTRAP"] = "1"
    return CargoInvocation(argv=tuple(argv), env=tuple(sorted(env.items())))


def bootstrap_need(target: TargetSpec, artifact: ArtifactSpec) -> Bootstrap | None:
    """Why the artifact's build needs RUSTC_BOOTSTRAP=1 (the first cause, in this order: what the
    scenario declared, a -Z flag of its own, one of the target's); None: a stable build.
    """
    if artifact.bootstrap is not None:
        return Bootstrap(cause=BootstrapCause.DECLARED, why=artifact.bootstrap)
    if artifact.z_flags:
        return Bootstrap(cause=BootstrapCause.RUSTC_ARGS, why=" ".join(artifact.z_flags))
    if target.needs_bootstrap:
        flags = " ".join(f for f in target.rustflags if f.startswith("-Z"))
        return Bootstrap(cause=BootstrapCause.TARGET, why=flags)
    return None


_RUNNING = re.compile(r"^\s*Running `(?P<command>.*)`\s*$")


def rustc_command(stderr: str, *, scenario: str, artifact: ArtifactSpec) -> str | None:
    """The rustc command line cargo ran for the artifact's own crate (`cargo -v` stderr).

    Its `--crate-name` and the source path under the scenario's folder tell it from the
    dependencies and build scripts. None when cargo ran none: the crate was fresh, or the
    build stopped before it.
    """
    crate = (
        artifact.bin_name if artifact.target_kind is TargetKind.BIN else artifact.package
    ).replace("-", "_")
    found = None
    for line in stderr.splitlines():
        match = _RUNNING.match(line)
        if match is None:
            continue
        command = match["command"]
        try:
            words = shlex.split(command)
        except ValueError:
            continue
        if _crate_name(words) == crate and _in_workspace(words, scenario):
            found = command
    return found


def _crate_name(words: Sequence[str]) -> str | None:
    return next((value for flag, value in pairwise(words) if flag == "--crate-name"), None)


def _in_workspace(words: Sequence[str], scenario: str) -> bool:
    """A crate of the scenario: its source file is relative (cargo runs rustc in the workspace
    root) or under the scenario's folder, but not among its vendored crates.
    """
    sources = [w for w in words if w.endswith(".rs")]
    workspace = f"{SOURCE_ROOT}/{scenario}/"
    vendored = f"{workspace}{VENDOR_DIR}/"
    return any(
        not s.startswith("/") or (s.startswith(workspace) and not s.startswith(vendored))
        for s in sources
    )


@dataclass(frozen=True, kw_only=True)
class CargoReport:
    """What cargo's JSON said: the files of the wanted target, and rustc's messages."""

    filenames: tuple[str, ...]
    executable: str | None
    diagnostics: tuple[Diagnostic, ...]
    rendered: str


def parse_cargo_messages(
    stdout: str, *, scenario: str, artifact: ArtifactSpec, stderr: str = ""
) -> CargoReport:
    """Read `--message-format=json` lines, plus the errors cargo itself prints on stderr.

    Some refusals never reach rustc's JSON: cargo's own (`cannot produce cdylib ... does not
    support these crate types`) and rustc's command-line errors (`-Z` on a stable compiler).
    """
    workspace = f"{SOURCE_ROOT}/{scenario}/"
    filenames: list[str] = []
    executable: str | None = None
    diagnostics: list[Diagnostic] = []
    for message in _json_lines(stdout):
        manifest = str(message.get("manifest_path", ""))
        if not manifest.startswith(workspace):
            continue
        reason = message.get("reason")
        if reason == "compiler-message":
            diagnostics.append(_diagnostic(message["message"]))
        elif reason == "compiler-artifact" and _is_wanted(message, artifact):
            filenames = [str(f) for f in message.get("filenames", [])]
            executable = message.get("executable") or None
    rendered = "".join(d.rendered for d in diagnostics)  # the stderr errors are in the log already
    diagnostics += _stderr_errors(stderr, already={d.message for d in diagnostics})
    return CargoReport(
        filenames=tuple(filenames),
        executable=executable,
        diagnostics=tuple(diagnostics),
        rendered=rendered,
    )


def _json_lines(stdout: str) -> list[dict[str, Any]]:
    messages = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                messages.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return messages


def _is_wanted(message: dict[str, Any], artifact: ArtifactSpec) -> bool:
    target = message.get("target")
    if not isinstance(target, dict):
        return False
    kinds: Sequence[str] = target.get("kind", [])
    is_bin = "bin" in kinds
    package_id = str(message.get("package_id", ""))
    if artifact.target_kind is TargetKind.BIN:
        return is_bin and target.get("name") == artifact.bin_name
    return not is_bin and _package_name_in(package_id, artifact.package, target)


def _package_name_in(package_id: str, package: str, target: dict[str, object]) -> bool:
    """Lib targets are named after the package with '-' turned to '_'."""
    return (
        target.get("name") == package.replace("-", "_")
        or f"#{package}@" in package_id
        or f"/{package}#" in package_id
    )


def _diagnostic(message: dict[str, Any]) -> Diagnostic:
    code = message.get("code")
    code_text = str(code.get("code")) if isinstance(code, dict) and code.get("code") else None
    return Diagnostic(
        level=str(message.get("level", "")),
        message=str(message.get("message", "")),
        code=code_text,
        rendered=str(message.get("rendered") or ""),
    )


def _stderr_errors(stderr: str, *, already: set[str]) -> list[Diagnostic]:
    """`error: ...` lines of cargo's stderr that no JSON message carried."""
    found = []
    for line in stderr.splitlines():
        if line.startswith("error: ") and (message := line.removeprefix("error: ")) not in already:
            already.add(message)
            found.append(
                Diagnostic(level="error", message=message, code=None, rendered=line + "\n")
            )
    return found
