"""PE/COFF: export directory, import and delay-import tables; COFF objects for archives."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

import lief

from orchestrator.inspect.model import (
    ArtifactFormat,
    Inspection,
    InspectionError,
    ObjectSymbols,
    as_text,
    parse_with_lief,
    sorted_unique,
)

_MACHINE = lief.PE.Header.MACHINE_TYPES
_STORAGE_CLASS = lief.COFF.Symbol.STORAGE_CLASS

_MACHINE_NAMES = {
    _MACHINE.AMD64: "x86_64",
    _MACHINE.I386: "i386",
    _MACHINE.ARM64: "aarch64",
    _MACHINE.ARMNT: "arm",
    _MACHINE.UNKNOWN: "",
}

_KNOWN_MACHINES = frozenset(machine.value for machine in _MACHINE.__members__.values()) - {0}
_ANON_OBJECT_SIGNATURE = b"\x00\x00\xff\xff"  # short import (version 0) or /bigobj (2)
_SHORT_IMPORT_HEADER = struct.Struct("<HHHHIIHH")
_SHORT_IMPORT_TYPE_MASK = 0x3
_SHORT_IMPORT_DATA = 1

_ImportTable = tuple[str, tuple[str, ...]]


def inspect_pe(path: Path) -> Inspection:
    """Inspect a PE image (EXE or DLL)."""
    binary, warnings = parse_with_lief(lief.PE.parse, str(path), what=f"PE file {path}")
    regular = [_import_table(table.name, table.entries) for table in binary.imports]
    delayed = [_import_table(table.name, table.entries) for table in binary.delay_imports]
    tables = regular + delayed
    is_dll = binary.header.has_characteristic(lief.PE.Header.CHARACTERISTICS.DLL)
    exports, data = _export_names(binary)
    return Inspection(
        format=ArtifactFormat.PE,
        exports=exports,
        data=data,
        imports=sorted_unique(f"{dll.lower()}!{name}" for dll, names in tables for name in names),
        needed=tuple(dll for dll, _ in tables),
        interpreter=None,
        static=not tables,
        machine=_machine_name(binary.header.machine),
        file_type="dll" if is_dll else "exe",
        notes=(
            *(f"delay-loaded: {dll}" for dll, _ in delayed),
            *(f"lief: {warning}" for warning in warnings),
        ),
    )


_COFF_HEADER = struct.Struct("<HHIIIHH")
_COFF_SYMBOL = struct.Struct("<8sIhHBB")
_COFF_SECTION_SIZE = 40
_COFF_SECTION_CHARACTERISTICS = struct.Struct("<36xI")
_SCN_CNT_CODE = 0x20
_SCN_MEM_EXECUTE = 0x20000000
_CODE_CHARACTERISTICS = _SCN_CNT_CODE | _SCN_MEM_EXECUTE
_SYM_CLASS_EXTERNAL = 2
_SYM_CLASS_WEAK_EXTERNAL = 105


def coff_object_symbols(data: bytes, member: str) -> ObjectSymbols:
    """Link-time symbols of a COFF object held in memory (an archive member).

    A plain COFF object's symbol table is read here, byte by byte: LIEF 1.0 returns an empty
    name for a symbol whose name is the tail of another string-table entry (LLVM shares such
    tails: `SHARED_COUNTER` inside `.refptr.SHARED_COUNTER`). A /bigobj object goes to LIEF.
    """
    if not data.startswith(_ANON_OBJECT_SIGNATURE):
        return _plain_coff_symbols(data, member)
    return _lief_coff_symbols(data, member)


def _plain_coff_symbols(data: bytes, member: str) -> ObjectSymbols:
    if len(data) < _COFF_HEADER.size:
        raise InspectionError(f"{member}: COFF header is truncated")
    machine, sections, _, table, count, optional_size, _ = _COFF_HEADER.unpack_from(data)
    strings = table + count * _COFF_SYMBOL.size
    if strings > len(data):
        raise InspectionError(f"{member}: COFF symbol table runs past the end")
    code_sections = _code_sections(data, _COFF_HEADER.size + optional_size, sections, member)
    defined: set[str] = set()
    undefined: set[str] = set()
    data_names: set[str] = set()
    index = 0
    while index < count:
        raw, value, section, _, storage, aux = _COFF_SYMBOL.unpack_from(
            data, table + index * _COFF_SYMBOL.size
        )
        index += 1 + aux
        if storage not in (_SYM_CLASS_EXTERNAL, _SYM_CLASS_WEAK_EXTERNAL):
            continue
        name = _coff_name(raw, data, strings)
        is_reference = storage == _SYM_CLASS_EXTERNAL and section == 0 and value == 0
        (undefined if is_reference else defined).add(name)
        if storage == _SYM_CLASS_EXTERNAL and _is_data_section(section, value, code_sections):
            data_names.add(name)
    return ObjectSymbols(
        defined=frozenset(defined),
        undefined=frozenset(undefined),
        data=frozenset(data_names),
        machine=_raw_machine_name(machine),
    )


def _code_sections(data: bytes, offset: int, count: int, member: str) -> frozenset[int]:
    """The 1-based numbers of the sections that hold code (CNT_CODE or MEM_EXECUTE)."""
    if offset + count * _COFF_SECTION_SIZE > len(data):
        raise InspectionError(f"{member}: COFF section table runs past the end")
    return frozenset(
        number
        for number in range(1, count + 1)
        if _COFF_SECTION_CHARACTERISTICS.unpack_from(
            data, offset + (number - 1) * _COFF_SECTION_SIZE
        )[0]
        & _CODE_CHARACTERISTICS
    )


def _is_data_section(section: int, value: int, code_sections: frozenset[int]) -> bool:
    """A defined symbol in a section without code, or a common symbol (section 0, a size)."""
    if section == 0:
        return value != 0
    return section > 0 and section not in code_sections


def _coff_name(raw: bytes, data: bytes, strings: int) -> str:
    """A short name in place, or a long one at an offset into the string table."""
    if raw[:4] != b"\0\0\0\0":
        text = raw.split(b"\0", 1)[0]
    else:
        offset = strings + int.from_bytes(raw[4:8], "little")
        text = data[offset : data.find(b"\0", offset)]
    return text.decode("utf-8", errors="backslashreplace")


def _lief_coff_symbols(data: bytes, member: str) -> ObjectSymbols:
    binary, warnings = parse_with_lief(lief.COFF.parse, data, what=f"COFF object {member}")
    defined: set[str] = set()
    undefined: set[str] = set()
    data_names: set[str] = set()
    code_sections = frozenset(
        number
        for number, section in enumerate(binary.sections, start=1)
        if section.characteristics & _CODE_CHARACTERISTICS
    )
    for symbol in binary.symbols:
        if symbol.storage_class not in {_STORAGE_CLASS.EXTERNAL, _STORAGE_CLASS.WEAK_EXTERNAL}:
            continue
        is_reference = symbol.storage_class == _STORAGE_CLASS.EXTERNAL and symbol.is_undefined
        (undefined if is_reference else defined).add(as_text(symbol.name))
        if symbol.storage_class == _STORAGE_CLASS.EXTERNAL and _is_data_section(
            symbol.section_idx, symbol.value, code_sections
        ):
            data_names.add(as_text(symbol.name))
    return ObjectSymbols(
        defined=frozenset(defined),
        undefined=frozenset(undefined),
        data=frozenset(data_names),
        machine=_machine_name(binary.header.machine),
        warnings=warnings,
    )


def short_import_symbols(data: bytes, member: str) -> ObjectSymbols:
    """Symbols an import-library member defines: `__imp_NAME`, plus the thunk `NAME` unless data."""
    header_size = _SHORT_IMPORT_HEADER.size
    if len(data) < header_size:
        raise InspectionError(f"{member}: short import header is truncated")
    _, _, _, machine, _, _, _, type_bits = _SHORT_IMPORT_HEADER.unpack_from(data)
    symbol = data[header_size:].split(b"\0", 1)[0].decode("utf-8", errors="backslashreplace")
    defined = {f"__imp_{symbol}"}
    if type_bits & _SHORT_IMPORT_TYPE_MASK != _SHORT_IMPORT_DATA:
        defined.add(symbol)
    return ObjectSymbols(
        defined=frozenset(defined), undefined=frozenset(), machine=_raw_machine_name(machine)
    )


def is_short_import(data: bytes) -> bool:
    """An import-library member: IMPORT_OBJECT_HEADER with version 0."""
    return data.startswith(_ANON_OBJECT_SIGNATURE) and data[4:6] == b"\x00\x00"


def is_coff_object(data: bytes) -> bool:
    """A COFF object: known machine first, or the /bigobj anonymous-object header."""
    if data.startswith(_ANON_OBJECT_SIGNATURE):
        return not is_short_import(data)
    return len(data) >= 2 and int.from_bytes(data[:2], "little") in _KNOWN_MACHINES


def _import_table(
    dll: str | bytes, entries: Iterable[lief.PE.ImportEntry | lief.PE.DelayImportEntry]
) -> _ImportTable:
    names = tuple(
        f"#{entry.ordinal}" if entry.is_ordinal else as_text(entry.name) for entry in entries
    )
    return as_text(dll), names


def _export_names(binary: lief.PE.Binary) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The exported names (or #ordinals), and those of them whose RVA is in a data section."""
    export = binary.get_export()
    if export is None:
        return (), ()
    names: list[str] = []
    data_names: list[str] = []
    for entry in export.entries:
        name = as_text(entry.name) if entry.name else f"#{entry.ordinal}"
        names.append(name)
        if not entry.is_forwarded and _is_data_rva(binary, entry.address):
            data_names.append(name)
    return sorted_unique(names), sorted_unique(data_names)


def _is_data_rva(binary: lief.PE.Binary, rva: int) -> bool:
    section = binary.section_from_rva(rva)
    return section is not None and not section.characteristics & _CODE_CHARACTERISTICS


def _machine_name(machine: lief.PE.Header.MACHINE_TYPES) -> str:
    return _MACHINE_NAMES.get(machine, machine.name.lower())


def _raw_machine_name(raw_machine: int) -> str:
    return _machine_name(_MACHINE(raw_machine)) if raw_machine in _KNOWN_MACHINES else ""
