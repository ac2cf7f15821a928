"""The linker's own line out of rustc's "linking with `cc` failed": one test per linker family.

The messages (fixtures/link-errors/<linker>.txt) are rendered as rustc 1.85+ renders them in
cargo's JSON (`rendered`): the headline, the command note (with the environment rustc set),
"some arguments are omitted", the linker's output as one note with indented continuation lines,
then rustc's own advice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.linker_output import MAX_LINE_CHARACTERS, is_link_failure, linker_lines

FIXTURES = Path(__file__).parent / "fixtures" / "link-errors"
ADVICE = (
    "  = note: some `extern` functions couldn't be found; some native libraries may need to be\n"
    "  = note: use the `-l` flag to specify native libraries to link\n"
)


def rendered(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "gnu-ld",
            (
                (
                    "/home/builder/src/link-order/exe/src/main.rs:6:(.text._ZN3exe4main17h0123456789"
                    "abcdefE+0x9): undefined reference to `b_calls_a'"
                ),
            ),
            id="gnu-ld-undefined-reference",
        ),
        pytest.param(
            "gnu-ld-version-script",
            (
                "/usr/bin/ld: sum_ints: undefined version:",
                "/usr/bin/ld: failed to set dynamic section sizes: bad value",
            ),
            id="gnu-ld-version-script",
        ),
        pytest.param(
            "mingw-ld-missing-library",
            ("/usr/bin/x86_64-w64-mingw32-ld: cannot find -lnative_a: No such file or directory",),
            id="mingw-ld-missing-library",
        ),
        pytest.param(
            "rust-lld",
            (
                "rust-lld: error: undefined symbol: missing_fn",
                "rust-lld: error: undefined symbol: other_fn",
            ),
            id="rust-lld",
        ),
        pytest.param(
            "lld-link",
            (
                "lld-link: error: undefined symbol: native_sum",
                "lld-link: error: <root>: undefined symbol: native_sum",
            ),
            id="lld-link",
        ),
        pytest.param(
            "wasm-ld",
            (
                (
                    "rust-lld: error: /home/builder/work/target/wasm32-unknown-unknown/debug/deps/"
                    "lib.lib.3c2b-cgu.0.rcgu.o: undefined symbol: host_fn"
                ),
            ),
            id="wasm-ld",
        ),
        pytest.param(
            "emscripten-wasm-ld",
            (
                (
                    "wasm-ld-14: error: /home/builder/work/target/wasm32-unknown-emscripten/debug/"
                    "deps/exe.exe.abc-cgu.0.rcgu.o: undefined symbol: shared_counter"
                ),
            ),
            id="emscripten-wasm-ld",
        ),
        pytest.param(
            "link-exe",
            (
                (
                    "liblib-1a2b.rlib(lib-1a2b.lib.abc-cgu.0.rcgu.o) : error LNK2019: unresolved "
                    "external symbol native_sum referenced in function "
                    "_ZN3lib4call17h0123456789abcdefE"
                ),
            ),
            id="link-exe",
        ),
        pytest.param(
            "ld64-lld", ("ld64.lld: error: undefined symbol: _plugin_entry",), id="ld64-lld"
        ),
        pytest.param(
            "only-the-drivers-summary",
            ("collect2: error: ld returned 1 exit status",),
            id="only-the-drivers-summary",
        ),
        pytest.param(
            "unrecognised-output",
            ("Segmentation fault in the linker plugin",),
            id="unrecognised-output",
        ),
    ],
)
def test_the_linkers_own_line_is_found(name: str, expected: tuple[str, ...]) -> None:
    assert linker_lines(rendered(name)) == expected


def test_no_linker_output_gives_no_line() -> None:
    """cargo's stderr errors carry only a headline; rustc's advice is not the linker's."""
    assert linker_lines("error: linking with `cc` failed: exit status: 1\n") == ()
    assert linker_lines("error: linking with `cc` failed: exit status: 1\n" + ADVICE) == ()
    assert linker_lines("") == ()


def test_the_command_and_rustcs_notes_are_never_taken() -> None:
    for name in ("gnu-ld", "lld-link", "link-exe", "wasm-ld"):
        for line in linker_lines(rendered(name)):
            assert not line.startswith(('"', "LC_ALL=", "some ", "use the")), line


def test_a_warning_is_not_the_error() -> None:
    assert all("warning" not in line for line in linker_lines(rendered("gnu-ld-version-script")))


def test_at_most_three_lines_each_shortened() -> None:
    many = "\n".join(f"          rust-lld: error: undefined symbol: f{n}" for n in range(10))
    long = "          rust-lld: error: undefined symbol: " + "x" * 1000
    text = f"error: linking with `cc` failed\n  = note: {many.strip()}\n{long}\n"
    lines = linker_lines(text)
    assert len(lines) == 3
    assert lines[0] == "rust-lld: error: undefined symbol: f0"
    text = f"error: linking with `cc` failed\n  = note: {long.strip()}\n"
    (only,) = linker_lines(text)
    assert len(only) == MAX_LINE_CHARACTERS
    assert only.endswith("…")


def test_newer_rustc_stream_labels_are_dropped() -> None:
    text = (
        "error: linking with `cc` failed: exit status: 1\n"
        '  = note: "cc" "-m64"\n'
        "  = note: linker stderr: rust-lld: error: undefined symbol: foo\n"
    )
    assert linker_lines(text) == ("rust-lld: error: undefined symbol: foo",)


def test_link_failures_are_told_by_their_headline() -> None:
    assert is_link_failure("linking with `cc` failed: exit status: 1")
    assert is_link_failure("linking with `lld-link-22` failed: exit status: 1")
    assert not is_link_failure("linker `link.exe` not found")
    assert not is_link_failure('could not compile `exe` (bin "exe") due to 1 previous error')
