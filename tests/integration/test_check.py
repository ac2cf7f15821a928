"""`linkmatrix check` on a user's crate outside the checkout: bless, re-check, an export renamed.

The crate (tests/integration/fixtures/check-crate: a cdylib with one `#[no_mangle]` function and
one crates.io dependency, itoa, vendored on the host) is copied into tmp_path and checked from
there, with tmp_path as the working directory: no matrix.yaml there, so linkmatrix reads the one
it was installed with (the checkout's for an editable install, the wheel's copy otherwise; both
give the same image tags). Three columns: glibc, windows-gnu (mingw, a PE DLL) and
wasm32-unknown-unknown, whose images and std builds the cold run of test_matrix.py made (this
module runs after it: conftest.pytest_collection_modifyitems). Its own --out and --cache-dir;
the engine's images and std volumes are shared.

Run time on a warm engine: the three cells built twice (first check, then the renamed export),
a cached re-check in between.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from orchestrator.check.snapshot import SNAPSHOT_FILE
from tests.integration.conftest import REPO, read_expanded

pytestmark = pytest.mark.docker

FIXTURE = REPO / "tests/integration/fixtures/check-crate"
ARTIFACT = "linkcheck.cdylib"  # <package>.<crate type>
EXPORT = "linkcheck_digits"
RENAMED = "linkcheck_count_digits"
COLUMNS = (
    "glibc/x86_64-unknown-linux-gnu",
    "wasm/wasm32-unknown-unknown",
    "windows-gnu/x86_64-pc-windows-gnu",
)
# The default release only: `glibc/*` does not match `glibc@1.85/...`.
ONLY = ("--only", "glibc/*", "--only", "windows-gnu/*", "--only", "wasm/*")


@dataclass(frozen=True)
class Check:
    """One `linkmatrix check` subprocess and the results.json it wrote."""

    exit_code: int
    stdout: str  # the export table and the diff (the reporter writes stdout only)
    output: str  # stdout and stderr, for assertion messages
    results: dict[str, Any]

    def cells(self) -> dict[str, dict[str, Any]]:
        return {cell["id"]: cell for cell in self.results["cells"]}


def run_check(crate: Path, *args: str, out: Path, cache: Path) -> Check:
    """`python -m orchestrator check` with the working directory beside the crate."""
    command = [
        sys.executable,
        "-m",
        "orchestrator",
        "check",
        str(crate),
        *ONLY,
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        *args,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=1800, cwd=crate.parent, check=False
    )
    output = done.stdout + done.stderr
    print(output)
    results_path = out / "results.json"
    assert results_path.is_file(), f"no {results_path}; exit {done.returncode}\n{output}"
    return Check(done.returncode, done.stdout, output, read_expanded(results_path))


@pytest.fixture(scope="module")
def workspace(docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the repository: the crate copied into it, the check's out and cache."""
    root = tmp_path_factory.mktemp("check")
    assert not (root / "matrix.yaml").exists()
    shutil.copytree(FIXTURE, root / "crate", ignore=shutil.ignore_patterns("target"))
    return root


@pytest.fixture(scope="module")
def blessed(workspace: Path) -> Check:
    return run_check(
        workspace / "crate", "--bless", out=workspace / "bless", cache=workspace / "cache"
    )


def cell_ids() -> list[str]:
    return [f"{column}/linkcheck" for column in COLUMNS]


def test_bless_builds_the_three_columns_from_the_installed_matrix(
    blessed: Check, workspace: Path
) -> None:
    assert blessed.exit_code == 0, blessed.output
    provenance = blessed.results["provenance"]
    assert sorted(provenance["planned"]) == cell_ids()
    matrix = Path(provenance["matrix"])
    # the installed (or editable checkout's) default, not one of the working directory
    assert matrix.name == "matrix.yaml" and matrix.is_absolute(), matrix
    assert not matrix.is_relative_to(workspace), matrix
    cells = blessed.cells()
    assert sorted(cells) == cell_ids()
    for cell in cells.values():
        assert (cell["status"], cell["cached"]) == ("pass", False), (cell["id"], cell["detail"])
        [artifact] = cell["artifacts"]
        assert (artifact["name"], artifact["built"]) == (ARTIFACT, True), cell["id"]
        assert EXPORT in artifact["exports"], (cell["id"], artifact["exports"])
    formats = {cell["toolchain"]: cell["artifacts"][0]["format"] for cell in cells.values()}
    assert formats == {"glibc": "elf", "windows-gnu": "pe", "wasm": "wasm"}
    assert f"blessed 3 cells into {workspace / 'crate' / SNAPSHOT_FILE}" in blessed.stdout


def test_the_snapshot_holds_exactly_the_crates_export_per_column(
    blessed: Check, workspace: Path
) -> None:
    snapshot = tomllib.loads((workspace / "crate" / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    assert snapshot["version"] == 1
    assert snapshot["filter"] == {"ignore": [], "keep": []}
    assert sorted(snapshot["cells"]) == list(COLUMNS)
    for column in COLUMNS:
        # the platform's and std's names (wasm's `memory`, `__heap_base`, ...) are left out
        assert snapshot["cells"][column] == {ARTIFACT: {"built": True, "exports": [EXPORT]}}


def test_a_recheck_of_the_unchanged_crate_passes_from_the_cache(
    blessed: Check, workspace: Path
) -> None:
    snapshot = workspace / "crate" / SNAPSHOT_FILE
    before = snapshot.read_bytes()
    check = run_check(workspace / "crate", out=workspace / "recheck", cache=workspace / "cache")
    assert check.exit_code == 0, check.output
    assert sorted(check.cells()) == cell_ids()
    assert all(cell["cached"] for cell in check.cells().values()), check.output
    assert "exports changed" not in check.stdout
    assert "differences from" not in check.stdout
    for column in COLUMNS:
        assert column in check.stdout.splitlines(), column  # the table's heading per column
    assert snapshot.read_bytes() == before


def test_a_renamed_export_fails_the_check_and_is_shown_name_by_name(
    blessed: Check, workspace: Path, tmp_path: Path
) -> None:
    """On a copy of the blessed crate, so the other tests' crate stays as blessed."""
    crate = tmp_path / "crate"
    shutil.copytree(workspace / "crate", crate)
    source = crate / "src" / "lib.rs"
    text = source.read_text(encoding="utf-8")
    assert f"fn {EXPORT}(" in text
    source.write_text(text.replace(f"fn {EXPORT}(", f"fn {RENAMED}("), encoding="utf-8")
    before = (crate / SNAPSHOT_FILE).read_bytes()
    check = run_check(crate, out=tmp_path / "out", cache=workspace / "cache")
    assert check.exit_code == 1, check.output
    assert not any(cell["cached"] for cell in check.cells().values())  # the source changed
    lines = check.stdout.splitlines()
    for column in COLUMNS:
        heading = lines.index(f"{column} {ARTIFACT}: exports changed")
        assert lines[heading + 1 : heading + 3] == [f"  + {RENAMED}", f"  - {EXPORT}"], column
    assert f"3 differences from {crate / SNAPSHOT_FILE}" in check.stdout
    assert (crate / SNAPSHOT_FILE).read_bytes() == before  # a failed check writes nothing
    exports = {
        cell["toolchain"]: cell["artifacts"][0]["exports"] for cell in check.results["cells"]
    }
    assert all(RENAMED in names and EXPORT not in names for names in exports.values()), exports
