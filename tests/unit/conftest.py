"""Unit tests never reach a Docker engine: the client is unreachable here by construction."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.config.matrix import Matrix, load_matrix

UNREACHABLE_DOCKER = "unix:///nonexistent/linkmatrix-unit-tests.sock"


@pytest.fixture(autouse=True)
def unreachable_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE_DOCKER)


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
