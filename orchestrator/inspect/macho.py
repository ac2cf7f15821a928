"""Mach-O: dyld export trie, imported symbols and dylib load commands; names lose one `_`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
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

_CPU = lief.MachO.Header.CPU_TYPE
_COMMAND = lief.MachO.LoadCommand.TYPE

_DEPENDENCY_COMMANDS = frozenset(
    {
        _COMMAND.LOAD_DYLIB,
        _COMMAND.LOAD_WEAK_DYLIB,
        _COMMAND.REEXPORT_DYLIB,
        _COMMAND.LOAD_UPWARD_DYLIB,
        _COMMAND.LAZY_LOAD_DYLIB,
    }
)
_MACHINE_NAMES = {
    _CPU.X86_64: "x86_64",
    _CPU.X86: "i386",
    _CPU.ARM64: "aarch64",
    _CPU.ARM: "arm",
    _CPU.POWERPC: "powerpc",
    _CPU.POWERPC64: "powerpc64",
    _CPU.ANY: "",
}


# nlist n_type bits (<mach-o/nlist.h>)
N_STAB = 0xE0
N_TYPE = 0x0E
N_EXT = 0x01
N_UNDF = 0x00
N_SECT = 0x0E
_CODE_FLAGS = (
    lief.MachO.Section.FLAGS.PURE_INSTRUCTIONS,
    lief.MachO.Section.FLAGS.SOME_INSTRUCTIONS,
)


def inspect_macho(path: Path) -> Inspection:
    """Inspect a Mach-O image or object; of a fat file, the first slice."""
    fat, warnings = parse_with_lief(lief.MachO.parse, str(path), what=f"Mach-O file {path}")
    slices = list(fat)
    if not slices:
        raise InspectionError(f"{path}: Mach-O file holds no slice LIEF could read")
    binary = slices[0]
    needed = tuple(
        as_text(library.name)
        for library in binary.libraries
        if library.command in _DEPENDENCY_COMMANDS
    )
    is_object = binary.header.file_type == lief.MachO.Header.FILE_TYPE.OBJECT
    if is_object:
        symbols = _linkable_symbols(binary)
        exports, imports, data = symbols.defined, symbols.undefined, symbols.data
    else:
        exported = _exported(binary)
        exports = frozenset(_strip_underscore(name) for name, _ in exported)
        data = frozenset(_strip_underscore(name) for name, is_data in exported if is_data)
        imports = frozenset(_strip_underscore(as_text(s.name)) for s in binary.imported_symbols)
    return Inspection(
        format=ArtifactFormat.MACHO,
        exports=sorted_unique(exports),
        imports=sorted_unique(imports),
        needed=needed,
        interpreter=None,
        static=None if is_object else not needed,
        machine=_machine_name(binary),
        file_type=binary.header.file_type.name.lower(),
        notes=(*_fat_notes(slices), *(f"lief: {warning}" for warning in warnings)),
        data=sorted_unique(data),
    )


def macho_object_symbols(data: bytes, member: str) -> ObjectSymbols:
    """Link-time symbols of a Mach-O object held in memory (an archive member)."""
    fat, warnings = parse_with_lief(lief.MachO.parse, data, what=f"Mach-O object {member}")
    binary = fat.at(0)
    if binary is None:
        raise InspectionError(f"{member}: Mach-O object holds no slice LIEF could read")
    symbols = _linkable_symbols(binary)
    return replace(symbols, machine=_machine_name(binary), warnings=warnings)


def _exported(binary: lief.MachO.Binary) -> list[tuple[str, bool]]:
    """(name, names data?) from LC_DYLD_EXPORTS_TRIE, else LC_DYLD_INFO, else the symbol table.

    The symbol table loses exports to strip; the trie keeps each one's address, relative to
    the image base: data when the section there holds no instructions, or a thread-local.
    """
    trie = binary.dyld_exports_trie if binary.has_dyld_exports_trie else None
    dyld_info = binary.dyld_info if binary.has_dyld_info else None
    if trie is not None:
        entries: Iterable[lief.MachO.ExportInfo] = trie.exports
    elif dyld_info is not None:
        entries = dyld_info.exports
    else:
        return [
            (as_text(symbol.name), _is_data_address(binary, symbol.value))
            for symbol in binary.exported_symbols
        ]
    return [
        (as_text(symbol.name), _is_data_export(binary, entry))
        for entry in entries
        if (symbol := entry.symbol) is not None
    ]


def _is_data_export(binary: lief.MachO.Binary, entry: lief.MachO.ExportInfo) -> bool:
    match entry.kind:
        case lief.MachO.ExportInfo.KIND.THREAD_LOCAL_KIND:
            return True
        case lief.MachO.ExportInfo.KIND.REGULAR:
            return _is_data_address(binary, binary.imagebase + entry.address)
        case _:  # absolute: a value, in no section
            return False


def _is_data_address(binary: lief.MachO.Binary, address: int) -> bool:
    section = binary.section_from_virtual_address(address)
    return section is not None and not _holds_code(section)


def _holds_code(section: lief.MachO.Section) -> bool:
    return any(section.has(flag) for flag in _CODE_FLAGS)


def _linkable_symbols(binary: lief.MachO.Binary) -> ObjectSymbols:
    """External nlist entries, private externs included; an N_UNDF with a value is common."""
    sections = list(binary.sections)  # in n_sect order (numbered from 1)
    defined: set[str] = set()
    undefined: set[str] = set()
    data: set[str] = set()
    for symbol in binary.symbols:
        if symbol.raw_type & N_STAB or not symbol.raw_type & N_EXT:
            continue
        name = _strip_underscore(as_text(symbol.name))
        kind = symbol.raw_type & N_TYPE
        if kind == N_UNDF and symbol.value == 0:
            undefined.add(name)
            continue
        defined.add(name)
        in_section = kind == N_SECT and 0 < symbol.numberof_sections <= len(sections)
        if (kind == N_UNDF) or (
            in_section and not _holds_code(sections[symbol.numberof_sections - 1])
        ):
            data.add(name)
    return ObjectSymbols(
        defined=frozenset(defined), undefined=frozenset(undefined), data=frozenset(data)
    )


def _fat_notes(slices: list[lief.MachO.Binary]) -> list[str]:
    if len(slices) < 2:
        return []
    machines = ", ".join(_machine_name(binary) for binary in slices)
    return [f"fat binary with slices: {machines}; inspected the first"]


def _machine_name(binary: lief.MachO.Binary) -> str:
    cpu = binary.header.cpu_type
    return _MACHINE_NAMES.get(cpu, cpu.name.lower())


def _strip_underscore(name: str) -> str:
    return name.removeprefix("_")
