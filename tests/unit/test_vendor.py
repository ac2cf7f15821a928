"""crates.io dependencies: found in Cargo.lock, vendored on the host, merged in the cell."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from orchestrator.cell.cargo import cargo_invocation, vendor_merge_command
from orchestrator.cell.vendor import registry_packages, vendor_scenario
from orchestrator.config.matrix import Matrix
from orchestrator.errors import FetchError

LOCK = """\
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["cfg-if"]

[[package]]
name = "cfg-if"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "baf1de4339761588bc0619e3cbc0120ee582ebb74b53b4efbf79117bd2da40fd"
"""


def test_registry_packages_are_read_from_the_lock(tmp_path: Path) -> None:
    (tmp_path / "Cargo.lock").write_text(LOCK)
    assert registry_packages(tmp_path / "Cargo.lock") == ("cfg-if@1.0.0",)


def test_a_scenario_without_registry_packages_needs_no_vendoring(tmp_path: Path) -> None:
    lock = 'version = 4\n[[package]]\nname = "app"\nversion = "0.1.0"\n'
    (tmp_path / "Cargo.lock").write_text(lock)
    assert vendor_scenario(tmp_path, tmp_path / "vendor") is None
    assert not (tmp_path / "vendor").exists()


def test_a_broken_lock_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "Cargo.lock").write_text("[[package]\n")
    with pytest.raises(FetchError, match=r"Cargo\.lock"):
        registry_packages(tmp_path / "Cargo.lock")


def test_a_vendored_lock_is_reused_without_cargo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Cargo.lock").write_text(LOCK)
    first = tmp_path / "vendor"
    monkeypatch.setenv("PATH", str(tmp_path / "no-cargo-here"))
    with pytest.raises(FetchError, match="needs cargo on the host"):
        vendor_scenario(tmp_path, first)
    done = first / hashlib.sha256(LOCK.encode()).hexdigest()[:16]
    done.mkdir(parents=True)
    assert vendor_scenario(tmp_path, first) == done


def test_the_cell_merges_std_and_scenario_crates(tmp_path: Path) -> None:
    std, mine, home = tmp_path / "std", tmp_path / "src" / "s" / ".vendor", tmp_path / "home"
    crates = (std / "cfg-if", std / "libc", mine / "cfg-if-1.0.0", mine / "jni-sys-0.3.0")
    for folder in (*crates, home):
        folder.mkdir(parents=True)
    (home / "config.toml").write_text(f'[source.rust-std-vendor]\ndirectory = "{std}"\n')
    command = list(vendor_merge_command("s", str(tmp_path / "w")))
    command[-1] = str(mine)  # the test's stand-in for /src/s/.vendor
    subprocess.run(command, check=True, env={**os.environ, "CARGO_HOME": str(home)})
    merged = sorted(p.name for p in (tmp_path / "w" / "vendor").iterdir())
    assert merged == ["cfg-if", "cfg-if-1.0.0", "jni-sys-0.3.0", "libc"]


def test_vendored_builds_point_crates_io_at_the_merged_dir(matrix: Matrix) -> None:
    glibc = matrix.toolchains[0].targets[0]
    spec = matrix.scenario("alpha").artifacts[0]
    plain = cargo_invocation(scenario="alpha", target=glibc, artifact=spec, workdir="/w")
    vendored = cargo_invocation(
        scenario="alpha", target=glibc, artifact=spec, workdir="/w", vendored=True
    )
    assert not any("replace-with" in arg for arg in plain.argv)
    assert 'source.crates-io.replace-with="linkmatrix-cell-vendor"' in vendored.argv
    assert 'source.linkmatrix-cell-vendor.directory="/w/vendor"' in vendored.argv
    assert vendored.argv.index("--config") < vendored.argv.index("--")
    env = dict(vendored.env)
    assert env["ARTIFACTS"] == "/w/artifacts"
    assert (env["NATIVE"], env["SRC"]) == ("/w/native", "/src/alpha")
