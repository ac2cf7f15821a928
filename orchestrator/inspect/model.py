"""What an inspection reports, plus the small helpers every format reader shares."""

from __future__ import annotations

import atexit
import enum
import functools
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

_Parsed = TypeVar("_Parsed")
_Source = TypeVar("_Source")

_LIEF_LOG_LOCK = threading.Lock()


class ArtifactFormat(enum.StrEnum):
    """Container format of a build artifact, as told by its first bytes."""

    ELF = "elf"
    PE = "pe"
    MACHO = "macho"
    WASM = "wasm"
    PTX = "ptx"
    ARCHIVE = "archive"
    EMSCRIPTEN_JS = "emscripten-js"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class Inspection:
    """Facts read from one artifact: exports and imports sorted and unique, needed in file order."""

    format: ArtifactFormat
    exports: tuple[str, ...]
    imports: tuple[str, ...]
    needed: tuple[str, ...]
    interpreter: str | None
    static: bool | None
    machine: str
    file_type: str
    notes: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # an archive's members, in file order
    demangled: tuple[tuple[str, str], ...] = ()  # (export, its demangled name) for Rust names
    data: tuple[str, ...] = ()  # the exports that name data (statics), not code

    @classmethod
    def empty(cls, artifact_format: ArtifactFormat, file_type: str = "") -> Inspection:
        """No symbols, no dependencies: what an unknown file (or an empty archive) shows."""
        return cls(
            format=artifact_format,
            exports=(),
            imports=(),
            needed=(),
            interpreter=None,
            static=None,
            machine="",
            file_type=file_type,
        )


class InspectionError(Exception):
    """A file of a known format could not be parsed."""


@dataclass(frozen=True)
class ObjectSymbols:
    """Link-time symbols of one relocatable object (an archive member or a `.o`)."""

    defined: frozenset[str]
    undefined: frozenset[str]
    data: frozenset[str] = frozenset()  # the defined symbols that name data, not code
    machine: str = ""
    warnings: tuple[str, ...] = ()


def sorted_unique(names: Iterable[str]) -> tuple[str, ...]:
    """The names sorted, each once."""
    return tuple(sorted(set(names)))


def as_text(name: str | bytes) -> str:
    """A LIEF string as text; LIEF hands back bytes when a name is not valid UTF-8."""
    if isinstance(name, bytes):
        return name.decode("utf-8", errors="backslashreplace")
    return name


def parse_with_lief(
    parse: Callable[[_Source], _Parsed | None], source: _Source, *, what: str
) -> tuple[_Parsed, tuple[str, ...]]:
    """Run a LIEF parser; return its result and what it logged (kept off stderr).

    Raises InspectionError naming `what` and LIEF's complaint when nothing could be parsed.
    """
    import lief  # noqa: PLC0415 - loaded by the first parse, not by every reader of the model

    with _LIEF_LOG_LOCK:
        log_path = _lief_log_path()
        lief.logging.set_path(str(log_path))  # truncates the file
        try:
            parsed = parse(source)
        finally:
            lief.logging.reset()
        logged = log_path.read_text(errors="replace")
    messages = tuple(dict.fromkeys(s for line in logged.splitlines() if (s := line.strip())))
    if parsed is None:
        complaint = "; ".join(messages) or "no details logged"
        raise InspectionError(f"LIEF could not parse {what}: {complaint}")
    return parsed, messages


@functools.cache
def _lief_log_path() -> Path:
    """One scratch file for LIEF's log, reused by every parse and removed at exit."""
    handle, name = tempfile.mkstemp(prefix="linkmatrix-lief-", suffix=".log")
    os.close(handle)
    path = Path(name)
    atexit.register(path.unlink, missing_ok=True)
    return path
