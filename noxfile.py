"""Sessions: `nox -s matrix` (the main job), `nox -s tests`, `nox -s lint`, `nox -s bench`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
# Host tools: debootstrap makes the base image where no registry is reachable; clang/lld/llvm 22
# build the tiny PE, Mach-O and wasm artifacts that the inspection unit tests read.
MATRIX_HOST_PACKAGES = {"debootstrap": "debootstrap"}
TEST_HOST_PACKAGES = {
    "chromium": "chromium",  # the HTML report's browser test
    "shellcheck": "shellcheck",  # actionlint checks the workflow's shell steps with it
    **MATRIX_HOST_PACKAGES,
    "clang-22": "clang-22",
    "lld-link-22": "lld-22",
    "llvm-nm-22": "llvm-22",
}


def install_host_packages(session: nox.Session, packages: dict[str, str]) -> None:
    """apt-get install what is missing, when we may (root on Debian); else say what is needed."""
    missing = sorted({pkg for tool, pkg in packages.items() if not _has_tool(tool)})
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        session.warn(f"missing host packages {missing}: install them (Debian: apt-get install ...)")
        return
    session.run("apt-get", "update", "-q", external=True)
    session.run(
        "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, external=True
    )


def _has_tool(tool: str) -> bool:
    return shutil.which(tool) is not None or Path("/usr/sbin", tool).exists()


@nox.session(python=PYTHON)
def matrix(session: nox.Session) -> None:
    """Build what is missing, run the matrix, write reports/latest/ (args: `linkmatrix run`)."""
    install_host_packages(session, MATRIX_HOST_PACKAGES)
    session.install(".")
    session.run("python", "-m", "orchestrator", "run", *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit tests (no Docker), then integration tests (real images and cells)."""
    install_host_packages(session, TEST_HOST_PACKAGES)
    session.install(".[test]")
    session.run("pytest", "tests/unit", *session.posargs)
    session.run("pytest", "tests/integration", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict."""
    session.install(".[test,lint]")  # lint brings nox: mypy checks this file
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed and memory targets, as ratios measured in one run (benchmarks/bench.py)."""
    session.install(".")
    session.run("python", "benchmarks/bench.py", *session.posargs)
