"""Unit tests never reach a Docker engine: the client is unreachable here by construction."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.inspect.model import ArtifactFormat
from orchestrator.results.document import Machine, provenance, results_document, summarize
from orchestrator.results.model import (
    ArtifactRecord,
    BuildInfo,
    CellRecord,
    DiagnosticRecord,
    LinkerRecord,
    ResultsDocument,
    RouteRecord,
    Selection,
)
from orchestrator.status import Reason, Status

UNREACHABLE_DOCKER = "unix:///nonexistent/linkmatrix-unit-tests.sock"


@pytest.fixture(autouse=True)
def unreachable_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE_DOCKER)
    # a CI job's step summary is not the tests' to write (cli appends to it when set)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


MATRIX = """\
schema_version: 1
base:
  tag: linkmatrix/debian:bookworm
  suite: bookworm
  mirror: http://deb.debian.org/debian
  security_mirror: http://deb.debian.org/debian-security
releases:
  "1.96": { rustc_web: "1.96.0+dfsg1-1~deb12u2" }
  "1.85": { rustc_web: "1.85.0+dfsg3-1~deb12u3" }
default_release: "1.96"
limits: { memory: 2g, pids: 256, cell_timeout_s: 60, idle_timeout_s: 30 }
images:
  rust: { parent: base }
  glibc: { parent: rust }
  wasm: { parent: rust }
toolchains:
  glibc:
    image: glibc
    description: host
    route: { linker: cc, libraries: glibc, stand_in: false }
    targets:
      x86_64-unknown-linux-gnu: { linker_version: [ld, --version] }
  wasm:
    image: wasm
    description: wasm
    releases: ["1.96"]
    route: { linker: rust-lld, libraries: none, stand_in: false }
    targets:
      wasm32-unknown-unknown:
        build_std: [std, panic_abort]
        panic: abort
        linker_version: [rust-lld, -flavor, wasm, --version]
scenarios: all
"""

SCENARIO = """\
description: a cdylib exporting one function
not_applicable:
  - when: { target: "wasm32-*", release: "1.85" }
    reason: not on old wasm
artifacts:
  - name: lib
    package: cdy
    target_kind: lib
    crate_type: cdylib
  - name: exe
    package: exe
    target_kind: bin
    rustc_args: [-Zexport-executable-symbols]
checks:
  - artifact: lib
    exports: { includes: [answer], excludes_matching: ["^_ZN"] }
  - artifact: exe
    exports: { includes: [exported_from_exe] }
    when: { toolchain: glibc }
"""

ProjectFactory = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """A project folder with matrix.yaml, images/*/Dockerfile and scenarios/*/."""

    def make(matrix: str = MATRIX, scenarios: dict[str, str] | None = None) -> Path:
        for image in ("rust", "glibc", "wasm"):
            folder = tmp_path / "images" / image
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "Dockerfile").write_text(f"ARG BASE\nFROM ${{BASE}}\nLABEL x={image}\n")
        for name, text in (scenarios or {"alpha": SCENARIO, "beta": SCENARIO}).items():
            folder = tmp_path / "scenarios" / name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "scenario.yaml").write_text(textwrap.dedent(text))
            (folder / "Cargo.toml").write_text("[workspace]\n")
        (tmp_path / "matrix.yaml").write_text(matrix)
        return tmp_path / "matrix.yaml"

    return make


@pytest.fixture
def matrix(make_project: ProjectFactory) -> Matrix:
    return load_matrix(make_project())


# -- typed results records, for tests that need a document without a run -------------------


def make_artifact(name: str, *exports: str, built: bool = True) -> ArtifactRecord:
    """An artifact record: an ELF cdylib exporting `exports` (nothing when not built)."""
    return ArtifactRecord(
        name=name,
        kind="cdylib",
        built=built,
        file=f"artifacts/{name}.so" if built else None,
        format=ArtifactFormat.ELF if built else None,
        file_type="shared-library" if built else None,
        machine="x86_64" if built else None,
        exports=exports,
        imports=(),
        needed=(),
        interpreter=None,
        static=False if built else None,
        notes=(),
        sha256=None,
        size=None,
        other_files=(),
        build=BuildInfo(
            command=("cargo", "rustc"), env={}, exit_code=0 if built else 101, duration_s=1.0
        ),
    )


def make_cell(
    cell_id: str,
    status: Status | str = Status.PASS,
    reason: Reason | str | None = None,
    *,
    release: str = "1.96",
    detail: str = "",
    artifacts: Sequence[ArtifactRecord] = (),
    warnings: Sequence[str] = (),
    **changes: Any,
) -> CellRecord:
    """A cell record for id `toolchain[@release]/target/scenario`; `changes` replace fields."""
    head, target, scenario = cell_id.split("/")
    toolchain = head.split("@")[0]
    record = CellRecord(
        id=cell_id,
        toolchain=toolchain,
        release=release,
        target=target,
        scenario=scenario,
        status=Status(status),
        reason=Reason(reason) if reason is not None else None,
        detail=detail,
        rustc=f"rustc {release}.0",
        cargo=None,
        llvm=None,
        linker=LinkerRecord(name="ld", version="2.40"),
        route=RouteRecord(linker="ld", libraries="glibc", stand_in=False),
        image=None,
        duration_s=1.0,
        cached=False,
        diagnostics=tuple(
            DiagnosticRecord(level="warning", message=m, code="unused_attributes", rendered="")
            for m in warnings
        ),
        artifacts=tuple(artifacts),
        checks=(),
        runs=(),
        log=None,
    )
    return dataclasses.replace(record, **changes)


def make_document(*cells: CellRecord, run_id: str = "r") -> ResultsDocument:
    """A finished run's document of `cells`."""
    made = provenance(
        run_id=run_id,
        machine=Machine(host="h", platform="p", python="3"),
        matrix="matrix.yaml",
        selection=Selection(only=(), shard=None),
        started="2026-11-21T16:00:00+00:00",
        finished="2026-11-21T16:10:00+00:00",
    )
    return results_document(made, cells)


def replace_cell(document: ResultsDocument, cell_id: str, **changes: Any) -> ResultsDocument:
    """`document` with the fields of one cell replaced (records are frozen)."""
    assert any(c.id == cell_id for c in document.cells), cell_id
    cells = tuple(
        dataclasses.replace(c, **changes) if c.id == cell_id else c for c in document.cells
    )
    return dataclasses.replace(document, cells=cells, summary=summarize(cells))
