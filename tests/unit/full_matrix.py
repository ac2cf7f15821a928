"""A whole-matrix results document, made up but shaped like the real one: for the size limits
of the views and for the browser test at full size.

Every toolchain, target and release of matrix.yaml × 17 scenarios = 442 cells, every status
present; the SDK routes skipped (`sdk-missing`) as without an SDK; about 29 % not applicable.
Artifacts carry what the real catalogue's do: a cdylib its few names (and compiler-rt's
builtins on Windows), a staticlib std's mangled names (their hash changing per column), about a
hundred compiler-rt builtins and LLVM-internal `anon.<hash>.N.llvm.N` names unique to each
column; the largest scenario has ~100 artifact columns, as crt-static-crate-types does. It is
deterministic: the same document every call.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

from orchestrator.inspect.model import ArtifactFormat
from orchestrator.results.document import Machine, provenance, results_document
from orchestrator.results.model import (
    ArtifactRecord,
    BuildInfo,
    CellRecord,
    CheckRecord,
    DiagnosticRecord,
    LinkerRecord,
    LinkErrorRecord,
    ResultsDocument,
    RouteRecord,
    Selection,
)
from orchestrator.status import CheckOutcome, Reason, Status

RELEASES = ("1.96", "1.85")  # the default first
TOOLCHAINS: dict[str, tuple[tuple[str, ...], bool]] = {  # targets, stand-in; matrix.yaml order
    "glibc": (("x86_64-unknown-linux-gnu",), False),
    "musl": (("x86_64-unknown-linux-musl",), False),
    "musl-dynamic": (("x86_64-unknown-linux-musl",), False),
    "windows-gnu": (("x86_64-pc-windows-gnu",), False),
    "wasm": (("wasm32-unknown-unknown",), False),
    "emscripten": (("wasm32-unknown-emscripten",), False),
    "ptx": (("nvptx64-nvidia-cuda",), False),
    "msvc": (("x86_64-pc-windows-msvc",), True),
    "msvc-xwin": (("x86_64-pc-windows-msvc",), False),
    "macos": (("aarch64-apple-darwin", "x86_64-apple-darwin"), True),
    "macos-sdk": (("aarch64-apple-darwin", "x86_64-apple-darwin"), False),
}
SDK_ROUTES = ("msvc-xwin", "macos-sdk")
SCENARIOS: dict[str, tuple[tuple[str, str], ...]] = {  # artifact name, kind
    "cdylib-exports": (("lib", "cdylib"),),
    "crt-static-crate-types": tuple(
        (f"{kind}-{flag}", kind)
        for kind in ("bin", "cdylib", "staticlib", "dylib")
        for flag in ("default", "plus", "minus")
    ),
    "crt-static-nss": (("exe", "bin"),),
    "exe-plugin-callback": (("host", "bin"), ("plugin", "cdylib")),
    "export-executable-symbols": (("exe-with-flag", "bin"), ("exe-without-flag", "bin")),
    "jni-static-callback": (("exe", "bin"),),
    "link-order": (("a", "staticlib"), ("b", "staticlib"), ("exe", "bin")),
    "plugin-callback-table": (("host", "bin"), ("plugin", "cdylib")),
    "plugin-host-dylib": (("api", "dylib"), ("plugin", "cdylib"), ("host", "bin")),
    "plugin-host-rlib": (("host", "bin"), ("plugin", "cdylib")),
    "ptx-kernel": (("kernel", "cdylib"),),
    "reexport-staticlib": (("lib", "cdylib"),),
    "reexport-staticlib-variants": tuple((f"lib-{v}", "cdylib") for v in "abcde"),
    "shared-static-global": (("one", "staticlib"), ("two", "staticlib"), ("exe", "bin")),
    "static-scratch": (("static", "bin"), ("dynamic", "bin")),
    "staticlib-contents": (("lib", "staticlib"),),
    "symbol-mangling": (("legacy", "staticlib"), ("v0", "staticlib"), ("default", "staticlib")),
}
BUILTINS = tuple(
    f"__{op}{ty}3"
    for op in ("add", "sub", "mul", "div", "pow", "neg", "cmp")
    for ty in ("sf", "df", "tf", "xf", "hf")
) + tuple(
    f"__{op}{ty}"
    for op in ("fixuns", "fix", "floatun", "float", "extend", "trunc")
    for ty in ("sfdi", "dfdi", "tfti", "sfti", "dfsi", "hfsf", "sfhf", "dfti")
)
STD = tuple(f"std{n}::io::stdio::_print{n}" for n in range(1600))  # readable names


def digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def mangled(path: str, salt: str) -> str:
    pieces = path.split("::")
    body = "".join(f"{len(p)}{p}" for p in pieces)
    return f"_ZN{body}17h{digest(path, salt)[:16]}E"


@functools.cache
def std_names(column: str) -> dict[str, str]:
    """std's mangled names as one column has them (the hash differs by column) → readable."""
    return {mangled(path, column): path for path in STD}


def exports_of(kind: str, column: str, toolchain: str, artifact: str) -> tuple[str, ...]:
    plain = ["answer", "allocate_and_sum", f"{artifact.replace('-', '_')}_entry"]
    if toolchain.startswith("macos"):
        plain = [f"_{name}" for name in plain]
    windows = "windows" in column or "msvc" in column
    anon = [
        f"anon.{digest(column, artifact)[:32]}.{n}.llvm.{int(digest(column, str(n))[:6], 16)}"
        for n in range(40)
    ]
    if kind == "staticlib":
        return (*plain, *BUILTINS, *anon, *std_names(column))
    if kind == "dylib":
        return (*plain, *list(std_names(column))[:300], *anon[:10])
    if kind == "bin":
        extra = ["main"] if not windows else ["main", "mainCRTStartup"]
        return (*plain[:1], *extra, *anon[:5])
    return (*plain, *(BUILTINS if windows else ()), *anon[:3])


def status_of(toolchain: str, release: str, scenario: str) -> tuple[Status, Reason | None, str]:
    if toolchain in SDK_ROUTES:
        return Status.SKIP, Reason.SDK_MISSING, f"image {toolchain}@{release}: no SDK supplied"
    roll = int(digest(toolchain, release, scenario)[:4], 16) % 100
    if (toolchain == "ptx" and scenario != "ptx-kernel") or roll < 22:
        return Status.NOT_APPLICABLE, Reason.NOT_APPLICABLE, "does not apply to this target"
    if roll < 30:
        return (
            Status.XFAIL,
            Reason.KNOWN_UPSTREAM,
            "lib: exports: includes ['foo']: missing foo (https://github.com/rust-lang/rust/issues/84161)",
        )
    if roll < 34:
        return Status.FAIL, Reason.LINK_ERROR, "error: linking with `cc` failed: exit status: 1"
    if roll < 36:
        return Status.ERROR, Reason.BUILD_ERROR, "error[E0463]: can't find crate for `std`"
    if roll < 37:
        return Status.XPASS, Reason.UNEXPECTED_PASS, "an expected failure passed"
    if release == "1.85" and roll < 45:
        return Status.FAIL, Reason.SYMBOL_MISSING, "lib: exports: includes ['answer']"
    return Status.PASS, None, ""


def artifact(name: str, kind: str, column: str, toolchain: str, *, built: bool) -> ArtifactRecord:
    exports = exports_of(kind, column, toolchain, name) if built else None
    demangled = std_names(column) if built and kind == "staticlib" else {}
    windows = "windows" in column or "msvc" in column
    return ArtifactRecord(
        name=name,
        kind=kind,
        built=built,
        file=f"artifacts/{column}/{name}/lib{name}.bin" if built else None,
        format=(ArtifactFormat.PE if windows else ArtifactFormat.ELF) if built else None,
        file_type="shared-library" if built else None,
        machine="x86_64" if built else None,
        exports=exports,
        imports=("malloc", "free") if built else None,
        needed=("libc.so.6",) if built else None,
        members=(),
        demangled=demangled,
        data=(),
        interpreter=None,
        static=False if built else None,
        notes=(),
        sha256=digest(column, name) if built else None,
        size=1000 if built else None,
        other_files=(),
        build=BuildInfo(
            command=("cargo", "rustc", "--lib"),
            env={},
            exit_code=0 if built else 101,
            duration_s=1.5,
        ),
    )


def cell(toolchain: str, release: str, target: str, scenario: str) -> CellRecord:
    stand_in = TOOLCHAINS[toolchain][1]
    suffix = "" if release == RELEASES[0] else f"@{release}"
    column = f"{toolchain}{suffix}/{target}"
    status, reason, detail = status_of(toolchain, release, scenario)
    ran = status not in (Status.SKIP, Status.NOT_APPLICABLE)
    built = status is not Status.ERROR
    artifacts = (
        tuple(
            artifact(name, kind, column, toolchain, built=built)
            for name, kind in SCENARIOS[scenario]
        )
        if ran
        else ()
    )
    checks = (
        (
            CheckRecord(
                artifact="lib",
                property="exports",
                expectation="exports: includes ['foo']",
                outcome=CheckOutcome.XFAIL,
                detail="missing foo",
                why="what users want",
                xfail_reason="rustc does not re-export native symbols",
                xfail_link="https://github.com/rust-lang/rust/issues/84161",
            ),
        )
        if status is Status.XFAIL
        else ()
    )
    diagnostics = (
        (DiagnosticRecord(level="warning", message=f"unused in {release}", code=None, rendered=""),)
        if ran and release == "1.85"
        else ()
    )
    link_error = (
        LinkErrorRecord(
            artifact=SCENARIOS[scenario][-1][0],
            message="linking with `cc` failed: exit status: 1",
            lines=(
                (
                    f"rust-lld: error: undefined symbol: {scenario.replace('-', '_')}_"
                    f"{digest(column)[:8]}"
                ),
                (
                    f"/usr/bin/ld: /home/builder/work/target/{target}/debug/deps/"
                    f"{scenario}-{digest(column, scenario)[:16]}.rcgu.o: undefined reference to `x'"
                ),
            ),
        )
        if reason is Reason.LINK_ERROR
        else None
    )
    return CellRecord(
        id=f"{column}/{scenario}",
        toolchain=toolchain,
        release=release,
        target=target,
        scenario=scenario,
        status=status,
        reason=reason,
        detail=detail,
        link_error=link_error,
        rustc=f"rustc {release}.0" if ran else None,
        cargo=None,
        llvm=None,
        linker=LinkerRecord(name="ld", version="2.40" if ran else None),
        route=RouteRecord(
            linker="ld", libraries="vendor's" if not stand_in else "stub", stand_in=stand_in
        ),
        image=None,
        duration_s=3.0 if ran else 0.0,
        cached=False,
        diagnostics=diagnostics,
        artifacts=artifacts,
        checks=checks,
        runs=(),
        log=f"logs/{column.replace('/', '_')}_{scenario}.log" if ran else None,
    )


def plan() -> tuple[str, ...]:
    return tuple(c.id for c in all_cells())


def all_cells() -> list[CellRecord]:
    return [
        cell(toolchain, release, target, scenario)
        for toolchain, (targets, _) in TOOLCHAINS.items()
        for release in RELEASES
        for target in targets
        for scenario in SCENARIOS
    ]


def full_matrix(*, keep: Sequence[str] | None = None) -> ResultsDocument:
    """The whole matrix; `keep`: only the cells with these ids (the plan stays whole)."""
    cells = all_cells()
    if keep is not None:
        wanted = set(keep)
        cells = [c for c in cells if c.id in wanted]
    made = provenance(
        run_id="fullmatrix",
        machine=Machine(host="h", platform="p", python="3"),
        matrix="matrix.yaml",
        selection=Selection(only=(), shard=None),
        started="2026-11-21T16:00:00+00:00",
        finished="2026-11-21T17:10:00+00:00",
        planned=plan(),
        complete=keep is None,
    )
    return results_document(made, cells)


def stopped(after: int) -> ResultsDocument:
    """The whole matrix's run stopped after its first `after` planned cells."""
    return full_matrix(keep=plan()[:after])
