"""Integration tests run real images and cells. With CI=true and no engine they fail, never skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from orchestrator.engine.client import connect
from orchestrator.errors import EngineError
from orchestrator.results.codec import expand

REPO = Path(__file__).resolve().parents[2]

# What the integration tests run (the whole matrix is the main job, `nox -s matrix`): the core
# scenarios on every toolchain of the default release (every 1.96 image and std build), the
# whole catalogue on glibc for both releases, and one run-time check per runner kind the
# core does not reach (a static executable alone in an empty container). Every 1.85 image is
# touched by test_images.py, without a second std build per target.
TOOLCHAINS = (
    "glibc",
    "musl",
    "musl-dynamic",
    "windows-gnu",
    "msvc",
    "macos",
    "wasm",
    "emscripten",
    "ptx",
    "msvc-xwin",
    "macos-sdk",
)
CORE_SCENARIOS = (
    "export-executable-symbols",
    "exe-plugin-callback",
    "cdylib-exports",
    "reexport-staticlib",
    "ptx-kernel",
)
CI_CELLS = (
    *(f"{toolchain}/*/{scenario}" for toolchain in TOOLCHAINS for scenario in CORE_SCENARIOS),
    "glibc/*/*",
    "glibc@1.85/*/*",
    "glibc-rustup/*/*",  # the whole catalogue linked by rust-lld, as rustup's 1.96 links it
    "wasm@1.85/*/export-executable-symbols",
    "musl/*/static-scratch",
)
CI_SELECTION = tuple(arg for glob in CI_CELLS for arg in ("--only", glob))


# Modules that run after the others, in this order (the rest keep pytest's order, by file name).
LATE = ("test_check.py", "test_images.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The image test runs last: on a cold engine, the cell runs before it make the images they
    need in a background thread while std builds run, so fewer image builds run alone. The
    check test runs after test_matrix.py's cold run, which makes its glibc, windows-gnu and
    wasm images and std builds (by name it would come first and build them alone).
    """
    items.sort(key=lambda item: LATE.index(item.path.name) + 1 if item.path.name in LATE else 0)


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    try:
        return connect()
    except EngineError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, and these tests need a Docker engine: {exc}")
        pytest.skip(f"no Docker engine: {exc}")


@pytest.fixture(scope="session")
def cell_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cell cache for the session: the first run is cold, later ones may be warm."""
    return tmp_path_factory.mktemp("cell-cache")


@dataclass(frozen=True)
class Run:
    """One `linkmatrix run` subprocess and what it wrote."""

    exit_code: int
    output: str
    results: dict[str, Any]  # expanded: every name spelled out (see read_expanded)
    written: dict[str, Any]  # the file as written (the current version), for the schema

    def cell(self, cell_id: str) -> dict[str, Any]:
        return next(c for c in self.results["cells"] if c["id"] == cell_id)

    def artifact(self, cell_id: str, name: str) -> dict[str, Any]:
        return next(a for a in self.cell(cell_id)["artifacts"] if a["name"] == name)


def run_linkmatrix(*args: str, matrix: Path, out: Path, cache: Path, timeout: float = 2400) -> Run:
    command = [
        sys.executable,
        "-m",
        "orchestrator",
        "run",
        "--matrix",
        str(matrix),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        *args,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )
    output = done.stdout + done.stderr
    print(output)
    results_path = out / "results.json"
    written = json.loads(results_path.read_text()) if results_path.is_file() else {"cells": []}
    results = read_expanded(results_path) if results_path.is_file() else {"cells": []}
    return Run(exit_code=done.returncode, output=output, results=results, written=written)


def read_expanded(path: Path) -> dict[str, Any]:
    """A results.json as version-1 shaped data: every name spelled out where the tests read it.

    Version 2 stores names once and artifacts refer to them by index; the codec's `expand`
    is what the reader does before decoding. Marked version 1, so a test can write it back
    out as a baseline file that linkmatrix reads.
    """
    data = expand(json.loads(path.read_text()))
    data["schema_version"] = 1
    return data


def project_with(
    tmp_path: Path, *, matrix_edits: dict[str, str], scenarios: dict[str, Path]
) -> Path:
    """A copy of the repository's images with a changed matrix.yaml and chosen scenarios.

    Image tags are content hashes, so copied image folders reuse the images already built.
    """
    shutil.copytree(REPO / "images", tmp_path / "images", ignore=shutil.ignore_patterns("fetched"))
    for name, source in scenarios.items():
        shutil.copytree(
            source, tmp_path / "scenarios" / name, ignore=shutil.ignore_patterns("target")
        )
    text = (REPO / "matrix.yaml").read_text()
    for old, new in matrix_edits.items():
        assert old in text, old
        text = text.replace(old, new)
    (tmp_path / "matrix.yaml").write_text(text)
    return tmp_path / "matrix.yaml"
