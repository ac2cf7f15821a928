"""`ar` archives (GNU, BSD, COFF/MSVC lib): members read here, objects through LIEF."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.inspect.detect import AR_MAGIC, ELF_MAGIC, MACHO_MAGICS
from orchestrator.inspect.elf import elf_object_symbols
from orchestrator.inspect.macho import macho_object_symbols
from orchestrator.inspect.model import (
    ArtifactFormat,
    Inspection,
    InspectionError,
    ObjectSymbols,
    sorted_unique,
)
from orchestrator.inspect.pe import (
    coff_object_symbols,
    is_coff_object,
    is_short_import,
    short_import_symbols,
)
from orchestrator.inspect.wasm_object import is_wasm_object, wasm_object_symbols

_HEADER_SIZE = 60
_HEADER_END = b"`\n"
_NAME_FIELD = slice(0, 16)
_SIZE_FIELD = slice(48, 58)
_BSD_LONG_NAME_PREFIX = "#1/"
_LONG_NAME_TABLE = "//"
_BSD_SYMBOL_TABLE_PREFIX = "__.SYMDEF"


class ArchiveFormatError(Exception):
    """The bytes do not follow the `ar` layout."""


@dataclass(frozen=True)
class ArchiveMember:
    """One regular member: its name (long names resolved) and contents."""

    name: str
    data: bytes


def inspect_archive(path: Path, data: bytes) -> Inspection:
    """Inspect a static library: symbols across its object members.

    `members` lists every member in file order; `needed` names the DLLs an import library's
    members import from (nothing for an ordinary static library).
    """
    try:
        members = list(archive_members(data))
    except ArchiveFormatError as error:
        raise InspectionError(f"{path}: malformed ar archive: {error}") from error
    defined: set[str] = set()
    undefined: set[str] = set()
    data_names: set[str] = set()
    machines: set[str] = set()
    notes: list[str] = []
    imported_dlls: list[str] = []
    for member in members:
        try:
            symbols = _member_symbols(member)
        except InspectionError as error:
            notes.append(f"member {member.name} skipped: {error}")
            continue
        if symbols is None:
            notes.append(f"member {member.name} skipped: not an ELF, Mach-O, COFF or wasm object")
            continue
        defined |= symbols.defined
        undefined |= symbols.undefined
        data_names |= symbols.data
        if is_short_import(member.data):
            imported_dlls.append(member.name)
        machines.add(symbols.machine)
        notes.extend(f"member {member.name}: lief: {warning}" for warning in symbols.warnings)
    if len(machines) > 1:
        notes.append(f"members target several machines: {', '.join(sorted(machines))}")
    return Inspection(
        format=ArtifactFormat.ARCHIVE,
        exports=sorted_unique(defined),
        imports=sorted_unique(undefined - defined),
        needed=tuple(dict.fromkeys(imported_dlls)),
        interpreter=None,
        static=None,
        machine=machines.pop() if len(machines) == 1 else "",
        file_type="archive",
        notes=tuple(notes),
        members=tuple(member.name for member in members),
        data=sorted_unique(data_names),
    )


def archive_members(data: bytes) -> Iterator[ArchiveMember]:
    """Regular members in file order; symbol tables and the long-name table are skipped."""
    if not data.startswith(AR_MAGIC):
        raise ArchiveFormatError("no !<arch> magic")
    long_names = b""
    offset = len(AR_MAGIC)
    while offset < len(data):
        raw_name, body = _read_member(data, offset)
        offset += _HEADER_SIZE + len(body) + len(body) % 2
        if raw_name == _LONG_NAME_TABLE:
            long_names = body
            continue
        if _is_gnu_or_coff_symbol_table(raw_name):
            continue
        member = _named_member(raw_name, body, long_names)
        if not member.name.startswith(_BSD_SYMBOL_TABLE_PREFIX):
            yield member


def _read_member(data: bytes, offset: int) -> tuple[str, bytes]:
    header = data[offset : offset + _HEADER_SIZE]
    if len(header) < _HEADER_SIZE or not header.endswith(_HEADER_END):
        raise ArchiveFormatError(f"bad member header at offset {offset}")
    size = _decimal(header[_SIZE_FIELD].decode("ascii", errors="replace"))
    body = data[offset + _HEADER_SIZE : offset + _HEADER_SIZE + size]
    if len(body) < size:
        raise ArchiveFormatError(f"member at offset {offset} is truncated")
    return header[_NAME_FIELD].decode("utf-8", errors="backslashreplace").rstrip(" "), body


def _is_gnu_or_coff_symbol_table(raw_name: str) -> bool:
    """GNU `/` and `/SYM64/`, COFF `/<ECSYMBOLS>/`: a `/` not followed by a long-name offset."""
    return raw_name.startswith("/") and not raw_name[1:].isdecimal()


def _named_member(raw_name: str, body: bytes, long_names: bytes) -> ArchiveMember:
    if raw_name.startswith(_BSD_LONG_NAME_PREFIX):
        name_length = _decimal(raw_name.removeprefix(_BSD_LONG_NAME_PREFIX))
        name = body[:name_length].rstrip(b"\0").decode("utf-8", errors="backslashreplace")
        return ArchiveMember(name=name, data=body[name_length:])
    if raw_name.startswith("/"):
        return ArchiveMember(name=_long_name(long_names, _decimal(raw_name[1:])), data=body)
    return ArchiveMember(name=raw_name.removesuffix("/"), data=body)


def _long_name(long_names: bytes, offset: int) -> str:
    r"""GNU entries end in `/\\n`, MSVC ones in NUL."""
    entry = long_names[offset:].split(b"\n", 1)[0].split(b"\0", 1)[0]
    return entry.removesuffix(b"/").decode("utf-8", errors="backslashreplace")


def _decimal(field: str) -> int:
    if not field.strip().isdecimal():
        raise ArchiveFormatError(f"{field!r} is not a decimal number")
    return int(field)


def _member_symbols(member: ArchiveMember) -> ObjectSymbols | None:
    """The member's symbols, or None when it is no object file (rmeta, bitcode, text).

    Objects: ELF, Mach-O, COFF (and import-library members), wasm with a `linking` section.
    """
    data = member.data
    if data.startswith(ELF_MAGIC):
        return elf_object_symbols(data, member.name)
    if data.startswith(MACHO_MAGICS):
        return macho_object_symbols(data, member.name)
    if is_short_import(data):
        return short_import_symbols(data, member.name)
    if is_coff_object(data):
        return coff_object_symbols(data, member.name)
    if is_wasm_object(data):
        return wasm_object_symbols(data, member.name)
    return None
