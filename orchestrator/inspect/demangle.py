"""Rust symbol names made readable: legacy (`_ZN…17h<hash>E`) and v0 (`_R…`) mangling."""

from __future__ import annotations

import re

import rust_demangler

# Mach-O prefixes every C-level name with `_`; LLVM may append a `.llvm.<n>` suffix. A legacy
# name always ends in its 16-digit hash (`17h…E`), which keeps C++ names out; it may hold `$LT$`
# and `..` escapes, hence the lazy match up to the hash.
_MANGLED = re.compile(r"^_?(?P<name>_ZN.*?17h[0-9a-f]{16}E|_R[0-9A-Za-z_]+)(?P<suffix>\..*)?$")


def demangle(symbol: str) -> str | None:
    """The demangled form of a Rust symbol, or None when `symbol` is not a mangled Rust name.

    A suffix the linker or LLVM appended (`.llvm.1234`) is kept, after the demangled name.
    """
    match = _MANGLED.match(symbol)
    if match is None:
        return None
    try:
        text = str(rust_demangler.demangle(match["name"]))
    except Exception:  # noqa: BLE001  (the library raises bare Exceptions on malformed names)
        return None
    if not text or text == match["name"]:
        return None
    return text + (match["suffix"] or "")


def demangled_pairs(symbols: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(raw, demangled) for each mangled Rust symbol among `symbols`, in their order."""
    return tuple((raw, text) for raw in symbols if (text := demangle(raw)) is not None)


# What linkers and import libraries put before a name: mingw's `.refptr.`, PE's `__imp_`.
_REFERENCE_PREFIXES = (".refptr.", "__imp_")


def is_mangled_rust(symbol: str) -> bool:
    """A legacy or v0 Rust name, bare or behind a `.refptr.`/`__imp_` prefix (views fold these)."""
    for prefix in _REFERENCE_PREFIXES:
        symbol = symbol.removeprefix(prefix)
    return _MANGLED.match(symbol) is not None
