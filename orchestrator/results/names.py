"""What kind of name a symbol is, so views can list the few that matter and count the bulk.

- mangled Rust names (`_ZN…17h<hash>E`, `_R…`): std's, whose hashes change with every release;
- compiler-rt / compiler-builtins intrinsics (`__addtf3`, `__udivti3`, `__aeabi_*`, ...): the
  same hundred come and go with every staticlib;
- LLVM-internal and hash-only names (`anon.<hash>.N.llvm.N`, `.L…`, `__llvm…`, `alloc_<hash>`,
  ThinLTO's `….llvm.<N>` suffix): compiler plumbing, never an API;
- plain names: everything else, what a C caller could link against. Views list these.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.inspect.demangle import is_mangled_rust


class NameKind(enum.Enum):
    PLAIN = "plain"
    LLVM = "LLVM-internal or hash-only"
    BUILTIN = "compiler-rt builtin"
    RUST = "mangled Rust"

    def counted(self, count: int) -> str:
        """`3 mangled Rust names`."""
        return f"{count} {self.value} name{'s' if count != 1 else ''}"


LLVM_INTERNAL = re.compile(
    r"^(?:\.L|L_|ltmp\d|__llvm|_?anon\.[0-9a-f]+\.)"  # local labels, LLVM's own, anon constants
    r"|\.llvm\.\d+$"  # a local promoted by (Thin)LTO
    r"|^_*(?:alloc_|str\.|__unnamed_)?[0-9a-f]{16,}$"  # a hash and nothing else
    r"|^(?:GCC_except_table|__unnamed_|str\.)\d+$"
)
BUILTIN = re.compile(
    r"^__(?:aeabi_\w+|chkstk\w*|rust_probestack|morestack\w*"
    r"|(?:add|sub|mul|div|mod|neg|pow|cmp|ucmp|udiv|umod|udivmod|divmod|ashl|ashr|lshr|clz|ctz"
    r"|ffs|popcount|parity|bswap|fixuns|fix|floatun|float|extend|trunc|eq|ne|ge|gt|le|lt|unord"
    r"|mulo|addo|subo|absv|negv|mulv|addv|subv)[a-z]*(?:[0-9]|[sdtxh]f|[sdt]i))$"
)


@functools.lru_cache(maxsize=1 << 17)  # the views ask again for the same names: std's, per page
def name_kind(name: str) -> NameKind:
    if ("_ZN" in name or "_R" in name) and is_mangled_rust(name):
        return NameKind.LLVM if LLVM_INTERNAL.search(name) else NameKind.RUST
    if LLVM_INTERNAL.search(name):
        return NameKind.LLVM
    if BUILTIN.match(name):
        return NameKind.BUILTIN
    return NameKind.PLAIN


@dataclass(frozen=True, kw_only=True)
class NameSummary:
    """Plain names to list (up to a limit), and how many of each bulk kind there are."""

    listed: tuple[str, ...]
    more: int  # plain names past the limit
    counted: tuple[tuple[NameKind, int], ...]  # bulk kinds, in NameKind order, non-zero only

    def bulk_text(self) -> str:
        """`12 more plain names, 104 compiler-rt builtin names`; empty when there is none."""
        parts = [f"{self.more} more plain name{'s' if self.more != 1 else ''}"] if self.more else []
        parts += [kind.counted(count) for kind, count in self.counted]
        return ", ".join(parts)


def summarize_names(names: Iterable[str], *, limit: int) -> NameSummary:
    plain: list[str] = []
    llvm = builtin = rust = 0  # counted apart: hashing an enum member is slow in a hot loop
    for name in names:
        kind = name_kind(name)
        if kind is NameKind.PLAIN:
            plain.append(name)
        elif kind is NameKind.LLVM:
            llvm += 1
        elif kind is NameKind.BUILTIN:
            builtin += 1
        else:
            rust += 1
    counts = ((NameKind.LLVM, llvm), (NameKind.BUILTIN, builtin), (NameKind.RUST, rust))
    return NameSummary(
        listed=tuple(plain[:limit]),
        more=max(0, len(plain) - limit),
        counted=tuple((kind, count) for kind, count in counts if count),
    )
