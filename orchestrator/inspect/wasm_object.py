"""Symbols of a wasm relocatable object (an archive member), from its `linking` section.

A wasm object (clang/rustc `-c` output) is a module with a `linking` custom section whose
WASM_SYMBOL_TABLE lists every symbol, defined or undefined, with flags (tool-conventions'
Linking.md). Undefined functions, globals, tables and tags without WASM_SYM_EXPLICIT_NAME take
their name from the import they refer to.
"""

from __future__ import annotations

from orchestrator.inspect.detect import WASM_MAGIC
from orchestrator.inspect.model import InspectionError, ObjectSymbols
from orchestrator.inspect.wasm import (
    CUSTOM_SECTION,
    IMPORT_SECTION,
    WasmFormatError,
    _Reader,
    _sections,
    _skip_import_description,
)

LINKING_SECTION = "linking"
_SYMBOL_TABLE = 8
_KIND_FUNCTION, _KIND_DATA, _KIND_GLOBAL, _KIND_SECTION, _KIND_TAG, _KIND_TABLE = range(6)
_BINDING_LOCAL = 0x02
_UNDEFINED = 0x10
_EXPLICIT_NAME = 0x40
_IMPORT_KINDS = {0x00: _KIND_FUNCTION, 0x01: _KIND_TABLE, 0x03: _KIND_GLOBAL, 0x04: _KIND_TAG}


def is_wasm_object(data: bytes) -> bool:
    """A wasm module that carries a `linking` section (a relocatable object, not a linked one)."""
    if not data.startswith(WASM_MAGIC):
        return False
    return b"\x07linking" in data[:4096] or _has_linking(data)


def wasm_object_symbols(data: bytes, member: str) -> ObjectSymbols:
    """Defined (non-local) and undefined symbol names of one wasm object."""
    try:
        sections = list(_sections(data))
        imported = _imported_names(sections)
        linking = next(
            (
                reader.rest()
                for section_id, payload in sections
                if section_id == CUSTOM_SECTION
                and (reader := _Reader(payload)).name() == LINKING_SECTION
            ),
            None,
        )
        if linking is None:
            raise InspectionError(f"{member}: a wasm module without a linking section")
        return _symbol_table(linking, imported)
    except WasmFormatError as error:
        raise InspectionError(f"{member}: malformed wasm object: {error}") from error


def _has_linking(data: bytes) -> bool:
    try:
        return any(
            section_id == CUSTOM_SECTION and _Reader(payload).name() == LINKING_SECTION
            for section_id, payload in _sections(data)
        )
    except WasmFormatError:
        return False


def _imported_names(sections: list[tuple[int, bytes]]) -> dict[int, list[str]]:
    """Field names of the imports, per symbol kind, in index order."""
    names: dict[int, list[str]] = {kind: [] for kind in _IMPORT_KINDS.values()}
    for section_id, payload in sections:
        if section_id != IMPORT_SECTION:
            continue
        reader = _Reader(payload)
        for _ in range(reader.leb128()):
            reader.name()  # module
            field = reader.name()
            kind_byte = reader.peek()
            _skip_import_description(reader)
            if kind_byte in _IMPORT_KINDS:
                names[_IMPORT_KINDS[kind_byte]].append(field)
    return names


def _symbol_table(linking: bytes, imported: dict[int, list[str]]) -> ObjectSymbols:
    reader = _Reader(linking)
    reader.leb128()  # version
    defined: set[str] = set()
    undefined: set[str] = set()
    data: set[str] = set()
    while not reader.at_end():
        subsection = reader.byte()
        body = _Reader(reader.take(reader.leb128()))
        if subsection != _SYMBOL_TABLE:
            continue
        for _ in range(body.leb128()):
            kind, name, flags = _symbol(body, imported)
            if name is None or (flags & _BINDING_LOCAL and not flags & _UNDEFINED):
                continue
            if flags & _UNDEFINED:
                undefined.add(name)
                continue
            defined.add(name)
            if kind == _KIND_DATA:
                data.add(name)
    return ObjectSymbols(
        defined=frozenset(defined),
        undefined=frozenset(undefined),
        data=frozenset(data),
        machine="wasm32",
    )


def _symbol(body: _Reader, imported: dict[int, list[str]]) -> tuple[int, str | None, int]:
    """(kind, name, flags) of one symbol-table entry; no name for a section symbol."""
    kind = body.byte()
    flags = body.leb128()
    if kind == _KIND_DATA:
        name = body.name()
        if not flags & _UNDEFINED:
            body.leb128()  # segment
            body.leb128()  # offset
            body.leb128()  # size
        return kind, name, flags
    if kind == _KIND_SECTION:
        body.leb128()
        return kind, None, flags
    index = body.leb128()
    if flags & _UNDEFINED and not flags & _EXPLICIT_NAME:
        names = imported.get(kind, [])
        return kind, (names[index] if index < len(names) else None), flags
    return kind, body.name(), flags
