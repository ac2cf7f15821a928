"""WebAssembly: names through wasmtime, with a small section reader for what it cannot say."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import wasmtime
import wasmtime.component

from orchestrator.inspect.detect import WASM_MAGIC
from orchestrator.inspect.model import ArtifactFormat, Inspection, InspectionError, sorted_unique

_MODULE_VERSION = b"\x01\x00\x00\x00"
_COMPONENT_VERSION = b"\x0d\x00\x01\x00"
_HEADER_SIZE = 8

CUSTOM_SECTION = 0
IMPORT_SECTION = 2
MEMORY_SECTION = 5
EXPORT_SECTION = 7
_GLOBAL_EXPORT = 0x03  # export kind byte of a global
DYLINK_SECTION_NAME = "dylink.0"
WASM_DYLINK_NEEDED = 2

_LIMITS_HAS_MAX = 0x01
_LIMITS_64_BIT = 0x04
_LIMITS_HAS_PAGE_SIZE = 0x08
_REF_TYPE_PREFIXES = frozenset({0x63, 0x64})  # (ref null ht) / (ref ht): a heap type follows


class WasmFormatError(Exception):
    """The bytes do not follow the wasm binary encoding."""


@dataclass(frozen=True)
class _Interface:
    imports: tuple[str, ...]
    exports: tuple[str, ...]
    imports_memory64: bool
    global_exports: tuple[str, ...] = ()  # a linked module exports a static as a global


class _Reader:
    """Cursor over wasm binary encoding: bytes, LEB128 integers, names."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self._data = data
        self._offset = offset

    def at_end(self) -> bool:
        return self._offset >= len(self._data)

    def peek(self) -> int:
        """The next byte, left unread."""
        if self.at_end():
            raise WasmFormatError(f"unexpected end of data at offset {self._offset}")
        return self._data[self._offset]

    def byte(self) -> int:
        if self.at_end():
            raise WasmFormatError(f"unexpected end of data at offset {self._offset}")
        value = self._data[self._offset]
        self._offset += 1
        return value

    def leb128(self) -> int:
        """An unsigned LEB128 integer (signed ones are only ever skipped here)."""
        value = shift = 0
        while True:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    def take(self, size: int) -> bytes:
        end = self._offset + size
        if end > len(self._data):
            raise WasmFormatError(f"{size} bytes at offset {self._offset} run past the end")
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    def rest(self) -> bytes:
        return self.take(len(self._data) - self._offset)

    def name(self) -> str:
        return self.take(self.leb128()).decode("utf-8", errors="backslashreplace")

    def limits(self) -> int:
        """Skip table/memory limits; return their flags."""
        flags = self.byte()
        self.leb128()
        if flags & _LIMITS_HAS_MAX:
            self.leb128()
        if flags & _LIMITS_HAS_PAGE_SIZE:
            self.leb128()
        return flags

    def value_type(self) -> None:
        """Skip a value type, including `(ref null? heaptype)` forms."""
        if self.byte() in _REF_TYPE_PREFIXES:
            self.leb128()


def inspect_wasm(path: Path, data: bytes) -> Inspection:
    """Inspect a core wasm module (or, coarsely, a component)."""
    version = data[len(WASM_MAGIC) : _HEADER_SIZE]
    if version == _COMPONENT_VERSION:
        return _inspect_component(path, data)
    if version != _MODULE_VERSION:
        raise InspectionError(f"{path}: unsupported wasm binary version {version.hex()}")
    try:
        sections = list(_sections(data))
        custom = _custom_sections(sections)
        interface, notes = _module_interface(data, sections)
        needed = _dylink_needed(custom.get(DYLINK_SECTION_NAME))
        memory64 = interface.imports_memory64 or _defines_memory64(sections)
    except WasmFormatError as error:
        raise InspectionError(f"{path}: malformed wasm module: {error}") from error
    return Inspection(
        format=ArtifactFormat.WASM,
        exports=sorted_unique(interface.exports),
        imports=sorted_unique(interface.imports),
        needed=needed,
        interpreter=None,
        static=None,
        machine="wasm64" if memory64 else "wasm32",
        file_type="emscripten-side-module" if DYLINK_SECTION_NAME in custom else "module",
        notes=notes,
        data=sorted_unique(interface.global_exports),
    )


@functools.cache
def _engine() -> wasmtime.Engine:
    """An engine accepting every proposal wasmtime-py can switch on, compiling cheaply."""
    config = wasmtime.Config()
    config.wasm_bulk_memory = True
    config.wasm_reference_types = True
    config.wasm_multi_value = True
    config.wasm_multi_memory = True
    config.wasm_simd = True
    config.wasm_relaxed_simd = True
    config.wasm_threads = True
    config.wasm_memory64 = True
    config.wasm_tail_call = True
    config.wasm_exceptions = True
    config.wasm_function_references = True
    config.wasm_gc = True
    config.gc_support = True
    config.wasm_wide_arithmetic = True
    config.wasm_custom_page_sizes = True
    config.wasm_component_model = True
    config.cranelift_opt_level = "none"
    return wasmtime.Engine(config)


def _module_interface(
    data: bytes, sections: list[tuple[int, bytes]]
) -> tuple[_Interface, tuple[str, ...]]:
    """Imports/exports from wasmtime; from the section reader (with a note) if it refuses."""
    try:
        module = wasmtime.Module(_engine(), data)
    except wasmtime.WasmtimeError as error:
        reason = _one_line(error)
        note = f"wasmtime refused the module ({reason}); names read by the built-in section reader"
        return _interface_from_sections(sections), (note,)
    imports = [(f"{item.module}.{item.name or ''}", item.type) for item in module.imports]
    return _Interface(
        imports=tuple(name for name, _ in imports),
        exports=tuple(item.name for item in module.exports),
        imports_memory64=any(_is_memory64(extern_type) for _, extern_type in imports),
        global_exports=tuple(
            item.name for item in module.exports if isinstance(item.type, wasmtime.GlobalType)
        ),
    ), ()


def _one_line(error: wasmtime.WasmtimeError) -> str:
    """wasmtime's multi-line error chain, `Caused by:` dropped, on one line."""
    lines = (line.strip() for line in str(error).splitlines())
    return " / ".join(line for line in lines if line and line != "Caused by:")


def _is_memory64(extern_type: object) -> bool:
    return isinstance(extern_type, wasmtime.MemoryType) and extern_type.is_64


def _inspect_component(path: Path, data: bytes) -> Inspection:
    try:
        component_type = wasmtime.component.Component(_engine(), data).type
    except wasmtime.WasmtimeError as error:
        reason = _one_line(error)
        raise InspectionError(f"{path}: wasmtime cannot load this component: {reason}") from error
    return Inspection(
        format=ArtifactFormat.WASM,
        exports=sorted_unique(component_type.exports(_engine())),
        imports=sorted_unique(component_type.imports(_engine())),
        needed=(),
        interpreter=None,
        static=None,
        machine="wasm32",
        file_type="component",
        notes=("component model: names are the component's top-level imports and exports",),
    )


def _sections(data: bytes) -> Iterator[tuple[int, bytes]]:
    reader = _Reader(data, _HEADER_SIZE)
    while not reader.at_end():
        section_id = reader.byte()
        yield section_id, reader.take(reader.leb128())


def _custom_sections(sections: list[tuple[int, bytes]]) -> dict[str, bytes]:
    """Custom sections by name (the first of each name), contents after the name."""
    custom: dict[str, bytes] = {}
    for section_id, payload in sections:
        if section_id == CUSTOM_SECTION:
            reader = _Reader(payload)
            custom.setdefault(reader.name(), reader.rest())
    return custom


def _section(sections: list[tuple[int, bytes]], wanted_id: int) -> _Reader | None:
    return next((_Reader(payload) for id_, payload in sections if id_ == wanted_id), None)


def _interface_from_sections(sections: list[tuple[int, bytes]]) -> _Interface:
    """Names straight from the import (2) and export (7) sections."""
    imports: list[str] = []
    imports_memory64 = False
    if reader := _section(sections, IMPORT_SECTION):
        for _ in range(reader.leb128()):
            imports.append(f"{reader.name()}.{reader.name()}")
            imports_memory64 |= _skip_import_description(reader)
    exports: list[str] = []
    global_exports: list[str] = []
    if reader := _section(sections, EXPORT_SECTION):
        for _ in range(reader.leb128()):
            exports.append(reader.name())
            if reader.byte() == _GLOBAL_EXPORT:
                global_exports.append(exports[-1])
            reader.leb128()
    return _Interface(
        imports=tuple(imports),
        exports=tuple(exports),
        imports_memory64=imports_memory64,
        global_exports=tuple(global_exports),
    )


def _skip_import_description(reader: _Reader) -> bool:
    """Skip one import's description; True if it is a 64-bit memory."""
    match reader.byte():
        case 0x00:  # func: type index
            reader.leb128()
        case 0x01:  # table: reference type, limits
            reader.value_type()
            reader.limits()
        case 0x02:  # memory: limits
            return bool(reader.limits() & _LIMITS_64_BIT)
        case 0x03:  # global: value type, mutability
            reader.value_type()
            reader.byte()
        case 0x04:  # tag: attribute, type index
            reader.byte()
            reader.leb128()
        case kind:
            raise WasmFormatError(f"unknown import kind 0x{kind:02x}")
    return False


def _defines_memory64(sections: list[tuple[int, bytes]]) -> bool:
    reader = _section(sections, MEMORY_SECTION)
    if reader is None:
        return False
    return any(reader.limits() & _LIMITS_64_BIT for _ in range(reader.leb128()))


def _dylink_needed(dylink: bytes | None) -> tuple[str, ...]:
    """Libraries listed by the WASM_DYLINK_NEEDED subsection of `dylink.0`."""
    if dylink is None:
        return ()
    reader = _Reader(dylink)
    while not reader.at_end():
        subsection_type = reader.byte()
        subsection = _Reader(reader.take(reader.leb128()))
        if subsection_type == WASM_DYLINK_NEEDED:
            return tuple(subsection.name() for _ in range(subsection.leb128()))
    return ()
