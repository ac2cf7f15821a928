"""A target's std, built once per std configuration into a sysroot (cell/stdlib.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.cell.stdlib import (
    std_build_command,
    std_build_env,
    std_crates,
    std_key,
    std_was_built,
    sysroot_dir,
    sysroot_rustflags,
)
from orchestrator.config.matrix import Matrix, TargetSpec


def wasm_of(matrix: Matrix) -> TargetSpec:
    return matrix.toolchains[1].targets[0]


def test_the_std_key_covers_what_changes_std_and_nothing_of_the_scenario(matrix: Matrix) -> None:
    wasm = wasm_of(matrix)
    assert std_key(wasm) == std_key(replace(wasm, runner=None, linker_version=("x",)))
    for changed in (
        replace(wasm, triple="wasm32-wasip1"),
        replace(wasm, build_std=("core",)),
        replace(wasm, build_std_features=("llvm-libunwind",)),
        replace(wasm, panic="unwind"),
        replace(wasm, rustflags=("-C", "target-feature=-crt-static")),
        replace(wasm, env=(("CFLAGS", "-O2"),)),
    ):
        assert std_key(changed) != std_key(wasm), changed


def test_std_always_comes_with_both_panic_runtimes(matrix: Matrix) -> None:
    wasm = wasm_of(matrix)
    assert std_crates(replace(wasm, build_std=("std",))) == ("std", "panic_abort")
    assert std_crates(wasm) == ("std", "panic_abort")
    assert std_crates(replace(wasm, build_std=("core",))) == ("core",)


def test_only_a_std_built_target_gets_a_sysroot(matrix: Matrix) -> None:
    glibc, wasm = matrix.toolchains[0].targets[0], wasm_of(matrix)
    assert sysroot_rustflags(glibc) == glibc.rustflags
    assert sysroot_rustflags(wasm) == ("--sysroot", sysroot_dir(wasm))


def test_the_std_command_passes_the_configuration_to_the_script(matrix: Matrix) -> None:
    wasm = replace(wasm_of(matrix), build_std_features=("a", "b"), rustflags=("-Cx=1", "-Cy"))
    command = std_build_command(wasm)
    assert command[:2] == ("sh", "-c")
    assert command[4:] == (
        sysroot_dir(wasm),
        "wasm32-unknown-unknown",
        "std,panic_abort",
        "a,b",
        "abort",
    )
    assert "RUSTC_BOOTSTRAP=1 cargo build --offline --release" in command[2]
    assert std_build_env(wasm)["RUSTFLAGS"] == "-Cx=1 -Cy"


def test_the_scripts_last_line_says_built_or_present() -> None:
    assert std_was_built("Compiling core\nlibstd.rlib\nBUILT /cache/sysroots/k\n") is True
    assert std_was_built("PRESENT /cache/sysroots/k\n") is False
    assert std_was_built("error: no vendor\n") is None


FAKE_CARGO = """#!/bin/sh
# a cargo that "builds std": its target dir gets std's rlibs and the crate's own
while [ $# -gt 0 ]; do
  case "$1" in --target) triple="$2"; shift ;; --target-dir) dir="$2"; shift ;; esac; shift
done
echo "RUSTC_BOOTSTRAP=$RUSTC_BOOTSTRAP" >> "$LOG"
cat "$CARGO_HOME/config.toml" > "$LOG.config"; touch "$CARGO_HOME/.package-cache"
mkdir -p "$dir/$triple/release/deps"
touch "$dir/$triple/release/deps/libstd-1.rlib" "$dir/$triple/release/deps/libcore-2.rlib"
touch "$dir/$triple/release/deps/liblinkmatrix_sysroot-3.rlib"
"""
FAKE_RUSTC = """#!/bin/sh
case "$1" in
  --print) echo "$REAL_SYSROOT" ;;
  -vV) printf 'rustc 1.96.0\\nhost: x86_64-unknown-linux-gnu\\n' ;;
esac
"""


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_the_script_builds_once_and_lays_out_a_rustup_like_sysroot(
    matrix: Matrix, tmp_path: Path
) -> None:
    bin_dir, real = tmp_path / "bin", tmp_path / "real"
    bin_dir.mkdir()
    for name, text in (("cargo", FAKE_CARGO), ("rustc", FAKE_RUSTC)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (real / "lib/rustlib/x86_64-unknown-linux-gnu/lib").mkdir(parents=True)
    (real / "lib/rustlib/wasm32-unknown-unknown/lib").mkdir(parents=True)
    (real / "lib/rustlib/wasm32-unknown-unknown/lib/rsbegin.o").touch()
    wasm = wasm_of(matrix)
    dest = tmp_path / "sysroots" / std_key(wasm)
    command = list(std_build_command(wasm))
    command[4] = str(dest)
    cargo_home = tmp_path / "cargo-home"  # the release's: the std build copies its config
    cargo_home.mkdir()
    (cargo_home / "config.toml").write_text("[net]\noffline = true\n")
    env = {
        **os.environ,
        "CARGO_HOME": str(cargo_home),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "LOG": str(tmp_path / "log"),
        "REAL_SYSROOT": str(real),
    }
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert std_was_built(first.stdout) is True
    assert std_was_built(second.stdout) is False
    assert (tmp_path / "log").read_text() == "RUSTC_BOOTSTRAP=1\n"  # one build, bootstrapped
    # the release's config, in a CARGO_HOME of the build's own: no lock left in the shared one
    assert (tmp_path / "log.config").read_text() == "[net]\noffline = true\n"
    assert [p.name for p in cargo_home.iterdir()] == ["config.toml"]
    lib = dest / "lib/rustlib/wasm32-unknown-unknown/lib"
    assert sorted(p.name for p in lib.iterdir()) == ["libcore-2.rlib", "libstd-1.rlib", "rsbegin.o"]
    host = dest / "lib/rustlib/x86_64-unknown-linux-gnu"
    assert host.is_symlink()
    assert host.resolve() == (real / "lib/rustlib/x86_64-unknown-linux-gnu").resolve()
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".building")]
