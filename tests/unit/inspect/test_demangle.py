"""Rust names made readable, beside the raw ones."""

from __future__ import annotations

import pytest

from orchestrator.inspect.demangle import demangle, demangled_pairs


@pytest.mark.parametrize(
    ("raw", "readable"),
    [
        ("_ZN7mycrate3foo17h0123456789abcdefE", "mycrate::foo::h0123456789abcdef"),
        ("__ZN7mycrate3foo17h0123456789abcdefE", "mycrate::foo::h0123456789abcdef"),  # Mach-O
        ("_RNvCs1234_7mycrate3foo", "mycrate::foo"),
        ("_RNvCs1234_7mycrate3foo.llvm.5", "mycrate::foo.llvm.5"),
        (
            "_ZN4core3ptr42drop_in_place$LT$alloc..string..String$GT$17h0123456789abcdefE",
            "core::ptr::drop_in_place<alloc::string::String>::h0123456789abcdef",
        ),
    ],
)
def test_legacy_and_v0_names_demangle(raw: str, readable: str) -> None:
    assert demangle(raw) == readable


@pytest.mark.parametrize("raw", ["main", "foo", "_ZNSt6vectorIiE", "_Rbad", "__imp_foo"])
def test_c_and_cpp_names_are_left_alone(raw: str) -> None:
    assert demangle(raw) is None


def test_pairs_keep_only_the_rust_names_in_order() -> None:
    names = ("plugin_entry", "_RNvCs1234_7mycrate3foo", "_ZN1a1b17h0123456789abcdefE")
    assert demangled_pairs(names) == (
        ("_RNvCs1234_7mycrate3foo", "mycrate::foo"),
        ("_ZN1a1b17h0123456789abcdefE", "a::b::h0123456789abcdef"),
    )
