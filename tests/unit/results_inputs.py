"""Fixed inputs for a results document: one built cell (every field filled) and two unbuilt ones.

The golden files under fixtures/results/golden/ were written from these inputs by the results
code before it was typed; the typed code must write the same JSON from them.
"""

from __future__ import annotations

from orchestrator.cell.observation import (
    ArtifactFile,
    BuildRecord,
    Diagnostic,
    NotRun,
    Observation,
    RunRecord,
    ToolInfo,
)
from orchestrator.config.matrix import Route, Toolchain
from orchestrator.inspect.model import ArtifactFormat, Inspection
from orchestrator.judge import CheckResult, Verdict
from orchestrator.plan import Cell
from orchestrator.status import CheckOutcome, Reason, Status

GLIBC = Toolchain(
    name="glibc",
    image="glibc",
    description="host",
    route=Route(linker="cc", libraries="glibc", stand_in=False),
    targets=(),
    releases=("1.96", "1.85"),
)
MACOS = Toolchain(
    name="macos",
    image="macos",
    description="zig",
    route=Route(linker="zig cc", libraries="stub SDK", stand_in=True),
    targets=(),
    releases=("1.96",),
)


def cell(toolchain: str, target: str, scenario: str, release: str = "1.96") -> Cell:
    suffix = "" if release == "1.96" else f"@{release}"
    return Cell(
        id=f"{toolchain}{suffix}/{target}/{scenario}",
        toolchain=toolchain,
        release=release,
        target=target,
        scenario=scenario,
        image=toolchain,
        not_applicable=None,
    )


BUILT = cell("glibc", "x86_64-unknown-linux-gnu", "cdylib-exports")
INAPPLICABLE = cell("glibc", "x86_64-unknown-linux-gnu", "ptx-kernel", release="1.85")
SKIPPED = cell("macos", "aarch64-apple-darwin", "cdylib-exports")


def verdict() -> Verdict:
    return Verdict(
        status=Status.XFAIL,
        reason=Reason.KNOWN_UPSTREAM,
        detail="missing foo\nsecond line",
        checks=(
            CheckResult(
                artifact="lib",
                property="exports",
                expectation="exports: includes ['foo']",
                outcome=CheckOutcome.XFAIL,
                detail="missing foo",
                why="what users want",
                xfail_reason="rustc does not re-export native symbols",
                xfail_link="https://github.com/rust-lang/rfcs/pull/3556",
            ),
            CheckResult(
                artifact="exe",
                property="runs",
                expectation="runs: exit 0",
                outcome=CheckOutcome.NOT_RUN,
                detail="no runner",
                why="it should run",
                xfail_reason=None,
                xfail_link=None,
            ),
        ),
    )


def observation() -> Observation:
    """Two builds (one failed), a run, a run not made; durations that need rounding."""
    inspection = Inspection(
        format=ArtifactFormat.ELF,
        exports=("answer", "_ZN3std2io5stdio6_print17h0123456789abcdefE", "DATA"),
        imports=("malloc",),
        needed=("libc.so.6",),
        interpreter=None,
        static=False,
        machine="x86_64",
        file_type="shared-library",
        notes=("stripped",),
        members=(),
        demangled=(("_ZN3std2io5stdio6_print17h0123456789abcdefE", "std::io::stdio::_print"),),
        data=("DATA",),
    )
    library = ArtifactFile(
        file="liba.so",
        path="artifacts/x/lib/liba.so",
        source="/t/liba.so",
        sha256="cd" * 32,
        size=1234,
        inspection=inspection,
    )
    archive = ArtifactFile(
        file="liba.a",
        path="artifacts/x/lib/liba.a",
        source="/t/liba.a",
        sha256="ef" * 32,
        size=99,
        inspection=Inspection.empty(ArtifactFormat.ARCHIVE, file_type="archive"),
    )
    lib = BuildRecord(
        name="lib",
        package="cdy",
        target_kind="lib",
        crate_type="cdylib",
        command=("cargo", "rustc", "--lib"),
        env=(("RUSTC_BOOTSTRAP", "1"), ("CARGO_TARGET_DIR", "/t")),
        exit_code=0,
        duration_s=1.23456,
        diagnostics=(
            Diagnostic(level="warning", message="unused", code=None, rendered="warning: unused"),
            Diagnostic(level="error", message="bad", code="E0001", rendered="error: bad"),
        ),
        files=(library, archive),
        primary="liba.so",
    )
    exe = BuildRecord(
        name="exe",
        package="exe",
        target_kind="bin",
        crate_type=None,
        command=("cargo", "rustc", "--bin", "exe"),
        env=(),
        exit_code=101,
        duration_s=0.5004,
        diagnostics=(),
        files=(),
        primary=None,
    )
    ran = RunRecord(
        name="run",
        artifact="exe",
        command=("./exe",),
        exit_code=0,
        stdout="x" * 5000,
        stderr="warn\n",
        duration_s=0.12345,
        not_run=None,
    )
    not_run = RunRecord(
        name="wasm",
        artifact="lib",
        command=("wasmtime", "x"),
        exit_code=None,
        stdout="",
        stderr="",
        duration_s=0.0,
        not_run=NotRun.NO_RUNNER,
    )
    return Observation(
        tools=ToolInfo(
            rustc="rustc 1.96.0", cargo="cargo 1.96.0", llvm="22.1.8", linker_version="2.40"
        ),
        builds=(lib, exe),
        runs=(ran, not_run),
        failure=None,
        log="== build ==\n",
        duration_s=2.34567,
    )


# Provenance facts of the machine a document is written on, fixed for a golden comparison.
HOST = {"node": "golden-host", "platform": "Linux-golden", "python_version": "3.11.7"}
STARTED = "2026-11-21T16:14:37+00:00"
FINISHED = "2026-11-21T16:40:00+00:00"
RUN_ID = "0123456789"
