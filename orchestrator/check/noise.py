"""Which exported names belong to the crate, and which are the platform's or std's. Pure.

The rule, in order (README "Snapshots" says the same):
1. a name matching a `keep` glob of the snapshot file is kept;
2. a name matching an `ignore` glob of the snapshot file is dropped;
3. a name of the built-in noise is dropped: linker-defined and C-runtime names (`_init`,
   `__bss_start`, `__mh_execute_header`, `_DllMainCRTStartup`, wasm's `memory`, ...), any name
   starting with `__` (C reserves those for the implementation: compiler-rt, the allocator
   shims, `__rust_*`), Rust's runtime hooks (`rust_eh_personality`, ...), and mangled Rust
   names of the standard library's crates (`std::`, `core::`, `alloc::`, hashbrown, ...);
4. every other name is kept.

Globs (fnmatch, case-sensitive) match the name as the snapshot writes it: a mangled Rust name
as its demangled path without the hash (`mylib::add`, not `_ZN5mylib3add17h…E`), so that a
rebuild that changes only the hash is no change; every other name as exported.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Linker-defined, C-runtime and loader names: what every binary of a platform exports, whatever
# the crate (ELF, Mach-O, PE, wasm, emscripten).
PLATFORM_NOISE = (
    # ELF: crt objects and the linker's section bounds
    "_init",
    "_fini",
    "_start",
    "_edata",
    "_end",
    "__bss_start",
    "__data_start",
    "data_start",
    "_IO_stdin_used",
    "_DYNAMIC",
    "_GLOBAL_OFFSET_TABLE_",
    "_ITM_*",
    # Mach-O: the image header
    "__mh_*_header",
    "_mh_*_header",
    # Windows: entry points, TLS and mingw's runtime
    "DllMain",
    "_DllMainCRTStartup",
    "DllMainCRTStartup",
    "mainCRTStartup",
    "WinMainCRTStartup",
    "_tls_used",
    "_tls_index",
    "_tls_start",
    "_tls_end",
    "_CRT_*",
    "_pei386_runtime_relocator",
    "mingw_*",
    # wasm and emscripten: the module's memory, table, start hooks and JS-glue helpers
    "memory",
    "_initialize",
    "stackSave",
    "stackRestore",
    "stackAlloc",
    "emscripten_*",
    "_emscripten_*",
    "dynCall_*",
    "fflush",
    "malloc",
    "free",
    # compiler_builtins' C functions, exported where no libc has them (staticlibs, wasm)
    "memcpy",
    "memmove",
    "memset",
    "memcmp",
    "bcmp",
    "strlen",
)
# Rust's runtime hooks: std's, present in every artifact that links std.
# `rust_metadata_<crate>_<hash>` (a dylib's metadata) is the crate's, but its hash changes with
# every build, so it would show as a change each time.
RUST_RUNTIME_NOISE = (
    "rust_eh_personality",
    "rust_begin_unwind",
    "rust_panic",
    "rust_*_alloc*",
    "rust_metadata_*",
)
# The standard library's crates (std's own and what it vendors), whose mangled names a crate
# that links std carries without having written them.
STD_CRATES = frozenset(
    {
        "std",
        "core",
        "alloc",
        "compiler_builtins",
        "panic_unwind",
        "panic_abort",
        "unwind",
        "std_detect",
        "hashbrown",
        "rustc_demangle",
        "addr2line",
        "gimli",
        "miniz_oxide",
        "object",
        "memchr",
        "adler",
        "adler2",
        "cfg_if",
        "dlmalloc",
        "rustc_std_workspace_core",
        "rustc_std_workspace_alloc",
        "__rustc",
    }
)
_HASH = re.compile(r"::h[0-9a-f]{16}$")
_FIRST_CRATE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)::")


@dataclass(frozen=True, kw_only=True)
class Filter:
    """The snapshot file's `[filter]`: globs that override the built-in rule."""

    ignore: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()


def written_name(raw: str, demangled: str | None) -> str:
    """How the snapshot writes a name: a Rust name demangled, without its hash or LLVM suffix."""
    if demangled is None:
        return raw
    return _HASH.sub("", demangled.split(".llvm.", 1)[0])


def is_noise(name: str, *, rust: bool) -> bool:
    """Rule 3: the platform's or std's name (`rust`: `name` is a demangled Rust path)."""
    if rust:
        first = _FIRST_CRATE.search(name)
        return first is not None and first[1] in STD_CRATES
    return name.startswith("__") or matches(name, PLATFORM_NOISE + RUST_RUNTIME_NOISE)


def crate_names(
    exports: Iterable[str], demangled: Mapping[str, str], rule: Filter
) -> tuple[str, ...]:
    """The exports that belong to the crate, as the snapshot writes them, sorted and unique."""
    kept = set()
    for raw in exports:
        readable = demangled.get(raw)
        name = written_name(raw, readable)
        if matches(name, rule.keep) or not (
            matches(name, rule.ignore) or is_noise(name, rust=readable is not None)
        ):
            kept.add(name)
    return tuple(sorted(kept))


def matches(name: str, globs: Iterable[str]) -> bool:
    """`name` matches one of the fnmatch `globs` (case-sensitive)."""
    return any(fnmatch.fnmatchcase(name, glob) for glob in globs)
