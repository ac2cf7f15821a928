"""The linker's own error lines out of rustc's "linking with `cc` failed" message. Pure.

rustc reports every failed link with the same headline (`linking with `cc` failed: exit
status: 1`) and puts what matters in notes under it: the linker command, "some arguments are
omitted", the linker's own stdout and stderr, then advice of its own ("some `extern` functions
couldn't be found", "use the `-l` flag"). A reader needs the linker's line (`undefined reference
to `foo'`, `rust-lld: error: undefined symbol: foo`, `error LNK2019: unresolved external
symbol foo`): this module finds it in the message as rendered (cargo's JSON `rendered`).

Lines are ranked: first the errors proper (an undefined symbol, a missing library, a bad version
script), then the drivers' closing summaries (`collect2: error: ld returned 1 exit status`,
`fatal error LNK1120: 1 unresolved externals`) when nothing better was printed, then the first
line the linker printed at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# rustc's headline of a failed link; the message (without `error: `) starts with it
LINK_FAILED = re.compile(r"^linking with `[^`]+` failed")
# How many of the linker's lines are kept: the first errors say what is wrong, the rest repeat
MAX_LINES = 3
MAX_LINE_CHARACTERS = 300

# A note line of a rendered diagnostic: `  = note: text`, `  = help: text`, or `note: text`
_NOTE = re.compile(r"^\s*(?:=\s*)?(?:note|help):\s?(.*)$")
_GUTTER = re.compile(r"^\s*\|\s*$")
# The notes that are rustc's, not the linker's (the linker's output is everything else)
_RUSTC_NOTES = (
    "some arguments are omitted",
    "some `extern` functions couldn't be found",
    "use the `-l` flag",
    "use the `cargo:rustc-link-lib` directive",
    "the msvc targets depend on the msvc linker",
    "in the Visual Studio installer",
    "VS Code is a different product",
    "you may need to install",
    "`#[link]` attribute",
    "lld was configured",
)
# The linker command note: a quoted program, optionally after the environment rustc set
_COMMAND = re.compile(r'^(?:[A-Z_]+="[^"]*"\s+)*"[^"]+"(?:\s+"|$)')
# Newer rustc labels the linker's streams inside the note
_STREAM_LABEL = re.compile(r"^linker std(?:err|out):\s*")

# A linker's own prefix: GNU ld (`/usr/bin/ld`, `x86_64-w64-mingw32-ld`, `ld.bfd`), lld in each
# flavour (`ld.lld`, `rust-lld`, `lld-link`, `wasm-ld-14`, `ld64.lld`), mold, Apple's ld
_LINKER_PREFIX = re.compile(
    r"^(?:\S*/)?(?:[\w.+-]+-)?"
    r"(?:ld|ld\.bfd|ld\.gold|ld\.lld|lld|rust-lld|lld-link|wasm-ld|ld64\.lld|ld64|mold)"
    r"(?:-\d+(?:\.\d+)*)?(?:\.exe)?: "
)
_ERRORS = (
    re.compile(r"undefined reference to"),
    re.compile(r"undefined symbol"),
    re.compile(r"\berror LNK(?!1120)\d+"),  # link.exe; LNK1120 is the count at the end
    re.compile(r"^Undefined symbols for architecture"),  # Apple's ld
    re.compile(r"^\S+: (?:fatal )?error: "),  # `rust-lld: error: ...`, `gcc: error: ...`
)
_SUMMARIES = (
    re.compile(r"^collect2: error: ld returned \d+ exit status"),
    re.compile(r"\bfatal error LNK1120\b"),
    re.compile(r"^\S*clang\S*: error: linker command failed"),
    re.compile(r"^emcc: error: .* failed \(returned \d+\)"),
    re.compile(r"^ld: symbol\(s\) not found for architecture"),
)
# GNU ld's line before an undefined reference only says where: the next line says what
_CONTEXT = re.compile(r"in function `[^']*':$|referenced from:$|^>>> ")


def linker_lines(rendered: str) -> tuple[str, ...]:
    """The linker's own first error lines in one rendered rustc message; none if it has none.

    `rendered` is the message as rustc prints it (headline, `= note:` lines and their indented
    continuations); only the notes that are neither the linker command nor rustc's advice count.
    """
    output = _linker_output(rendered)
    for wanted in (_is_error, _is_summary):
        found = [line for line in output if wanted(line)]
        if found:
            return _shortened(found)
    return _shortened(output[:1])


def is_link_failure(message: str) -> bool:
    """Whether a rustc error message (its headline, without `error: `) is a failed link."""
    return LINK_FAILED.match(message) is not None


def _linker_output(rendered: str) -> list[str]:
    """The lines of the notes that carry the linker's own output, stripped, blanks dropped."""
    notes: list[list[str]] = []
    for line in rendered.splitlines()[1:]:  # the first line is rustc's headline
        if _GUTTER.match(line):
            continue
        note = _NOTE.match(line)
        if note is not None:
            notes.append([note.group(1)])
        elif notes:
            notes[-1].append(line)
    lines: list[str] = []
    for block in notes:
        first = block[0].strip()
        if _COMMAND.match(first) or any(phrase in first for phrase in _RUSTC_NOTES):
            continue
        lines += [_STREAM_LABEL.sub("", text.strip()) for text in block]
    return [line for line in lines if line and not line.startswith("error: aborting")]


def _is_error(line: str) -> bool:
    if _is_summary(line) or _CONTEXT.search(line) or re.search(r"\bwarning\b:", line):
        return False
    return any(p.search(line) for p in _ERRORS) or _LINKER_PREFIX.match(line) is not None


def _is_summary(line: str) -> bool:
    return any(p.search(line) for p in _SUMMARIES)


def _shortened(lines: Sequence[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(lines))[:MAX_LINES]
    return tuple(
        line if len(line) <= MAX_LINE_CHARACTERS else line[: MAX_LINE_CHARACTERS - 1] + "…"
        for line in unique
    )


@dataclass(frozen=True, kw_only=True)
class LinkError:
    """An artifact whose link failed: rustc's headline and what the linker itself said."""

    artifact: str
    message: str  # rustc's: `linking with `cc` failed: exit status: 1`
    lines: tuple[str, ...]  # the linker's first error lines; none when none was recognised

    @property
    def headline(self) -> str:
        """The linker's first line, or rustc's when the linker's was not found."""
        return self.lines[0] if self.lines else self.message
