"""ELF: what the dynamic linker sees (.dynsym, DT_NEEDED, PT_INTERP); .symtab only for `.o`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import lief

from orchestrator.inspect.model import (
    ArtifactFormat,
    Inspection,
    ObjectSymbols,
    as_text,
    parse_with_lief,
    sorted_unique,
)

_ARCH = lief.ELF.ARCH
_FILE_TYPE = lief.ELF.Header.FILE_TYPE
_BINDING = lief.ELF.Symbol.BINDING
_VISIBILITY = lief.ELF.Symbol.VISIBILITY
_TYPE = lief.ELF.Symbol.TYPE

SHN_UNDEF = 0
_LINKABLE_BINDINGS = frozenset({_BINDING.GLOBAL, _BINDING.WEAK, _BINDING.GNU_UNIQUE})
_EXPORTED_VISIBILITIES = frozenset({_VISIBILITY.DEFAULT, _VISIBILITY.PROTECTED})
_DATA_TYPES = frozenset({_TYPE.OBJECT, _TYPE.TLS, _TYPE.COMMON})

_MACHINE_NAMES = {
    _ARCH.NONE: "",
    _ARCH.X86_64: "x86_64",
    _ARCH.I386: "i386",
    _ARCH.AARCH64: "aarch64",
    _ARCH.ARM: "arm",
    _ARCH.PPC: "powerpc",
    _ARCH.PPC64: "powerpc64",
    _ARCH.SPARCV9: "sparc64",
    _ARCH.CUDA: "nvptx64",
}
_MACHINE_NAMES_BY_CLASS = {
    _ARCH.RISCV: ("riscv32", "riscv64"),
    _ARCH.LOONGARCH: ("loongarch32", "loongarch64"),
    _ARCH.MIPS: ("mips", "mips64"),
    _ARCH.S390: ("s390", "s390x"),
}
_LITTLE_ENDIAN_SUFFIXES = {_ARCH.PPC64: "le", _ARCH.MIPS: "el"}


def inspect_elf(path: Path) -> Inspection:
    """Inspect an ELF executable, shared object or relocatable object."""
    binary, warnings = parse_with_lief(lief.ELF.parse, str(path), what=f"ELF file {path}")
    interpreter = binary.interpreter if binary.has_interpreter else None
    needed = tuple(as_text(library) for library in binary.libraries)
    is_relocatable = binary.header.file_type == _FILE_TYPE.REL
    if is_relocatable:
        symbols = _linkable_symbols(binary.symtab_symbols)
        exports, imports, data = symbols.defined, symbols.undefined, symbols.data
    else:
        exported = list(_dynamic_exports(binary.dynamic_symbols))
        exports = frozenset(as_text(symbol.name) for symbol in exported)
        data = frozenset(as_text(symbol.name) for symbol in exported if _is_data(symbol))
        imports = frozenset(_dynamic_imports(binary.dynamic_symbols))
    notes = [] if binary.has_section(".symtab") else ["stripped: no .symtab"]
    return Inspection(
        format=ArtifactFormat.ELF,
        exports=sorted_unique(exports),
        imports=sorted_unique(imports),
        needed=needed,
        interpreter=interpreter,
        static=None if is_relocatable else (interpreter is None and not needed),
        machine=_machine(binary.header),
        file_type=_file_type(binary),
        notes=(*notes, *(f"lief: {warning}" for warning in warnings)),
        data=sorted_unique(data),
    )


def elf_object_symbols(data: bytes, member: str) -> ObjectSymbols:
    """Link-time symbols of an ELF relocatable object held in memory (an archive member)."""
    binary, warnings = parse_with_lief(lief.ELF.parse, data, what=f"ELF object {member}")
    symbols = _linkable_symbols(binary.symtab_symbols)
    return replace(symbols, machine=_machine(binary.header), warnings=warnings)


def _dynamic_exports(symbols: Iterable[lief.ELF.Symbol]) -> Iterable[lief.ELF.Symbol]:
    for symbol in symbols:
        if (
            symbol.shndx != SHN_UNDEF
            and symbol.binding in _LINKABLE_BINDINGS
            and symbol.visibility in _EXPORTED_VISIBILITIES
            and symbol.name
        ):
            yield symbol


def _is_data(symbol: lief.ELF.Symbol) -> bool:
    """STT_OBJECT, STT_TLS and STT_COMMON name data; STT_FUNC and STT_GNU_IFUNC code."""
    return symbol.type in _DATA_TYPES


def _dynamic_imports(symbols: Iterable[lief.ELF.Symbol]) -> Iterable[str]:
    for symbol in symbols:
        if symbol.shndx == SHN_UNDEF and symbol.name:
            yield as_text(symbol.name)


def _linkable_symbols(symbols: Iterable[lief.ELF.Symbol]) -> ObjectSymbols:
    """Global/weak symbols of a `.symtab`, any visibility: a static link resolves them all."""
    defined: set[str] = set()
    undefined: set[str] = set()
    data: set[str] = set()
    for symbol in symbols:
        if symbol.binding not in _LINKABLE_BINDINGS or not symbol.name:
            continue
        name = as_text(symbol.name)
        if symbol.shndx == SHN_UNDEF:  # a common symbol has SHN_COMMON: defined
            undefined.add(name)
            continue
        defined.add(name)
        if _is_data(symbol):
            data.add(name)
    return ObjectSymbols(
        defined=frozenset(defined), undefined=frozenset(undefined), data=frozenset(data)
    )


def _file_type(binary: lief.ELF.Binary) -> str:
    match binary.header.file_type:
        case _FILE_TYPE.EXEC:
            return "executable"
        case _FILE_TYPE.REL:
            return "relocatable"
        case _FILE_TYPE.DYN if binary.has_interpreter:
            return "pie-executable"
        case _FILE_TYPE.DYN if _has_pie_flag(binary):
            return "static-pie-executable"
        case _FILE_TYPE.DYN:
            return "shared-object"
        case other:
            return other.name.lower()


def _has_pie_flag(binary: lief.ELF.Binary) -> bool:
    flags_1 = binary.get(lief.ELF.DynamicEntry.TAG.FLAGS_1)
    return isinstance(flags_1, lief.ELF.DynamicEntryFlags) and flags_1.has(
        lief.ELF.DynamicEntryFlags.FLAG.PIE
    )


def _machine(header: lief.ELF.Header) -> str:
    arch = header.machine_type
    if arch in _MACHINE_NAMES_BY_CLASS:
        name_32, name_64 = _MACHINE_NAMES_BY_CLASS[arch]
        name = name_64 if header.identity_class == lief.ELF.Header.CLASS.ELF64 else name_32
    else:
        name = _MACHINE_NAMES.get(arch, arch.name.lower())
    if header.identity_data == lief.ELF.Header.ELF_DATA.LSB:
        name += _LITTLE_ENDIAN_SUFFIXES.get(arch, "")
    return name
