"""Read what a build artifact exports, imports and depends on, whatever its format."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import assert_never

from orchestrator.inspect.archive import AR_MAGIC, inspect_archive
from orchestrator.inspect.demangle import demangled_pairs
from orchestrator.inspect.elf import ELF_MAGIC, inspect_elf
from orchestrator.inspect.jsglue import inspect_glue, is_emscripten_glue
from orchestrator.inspect.macho import FAT_MAGIC, MACHO_MAGICS, inspect_macho
from orchestrator.inspect.model import ArtifactFormat, Inspection, InspectionError
from orchestrator.inspect.pe import MZ_MAGIC, inspect_pe
from orchestrator.inspect.ptx import inspect_ptx, is_ptx
from orchestrator.inspect.wasm import WASM_MAGIC, inspect_wasm

__all__ = ["ArtifactFormat", "Inspection", "InspectionError", "detect_format", "inspect_file"]

_MAGIC_FORMATS = (
    (ELF_MAGIC, ArtifactFormat.ELF),
    (MZ_MAGIC, ArtifactFormat.PE),
    *((magic, ArtifactFormat.MACHO) for magic in MACHO_MAGICS),
    (WASM_MAGIC, ArtifactFormat.WASM),
    (AR_MAGIC, ArtifactFormat.ARCHIVE),
)
_FIRST_JAVA_CLASS_VERSION = 45  # a Java class file shares the fat magic; its version is >= 45


def detect_format(data: bytes) -> ArtifactFormat:
    """The artifact format told by the magic bytes (PTX: by its directives)."""
    for magic, artifact_format in _MAGIC_FORMATS:
        if data.startswith(magic):
            return artifact_format
    if data.startswith(FAT_MAGIC) and _fat_slice_count(data) < _FIRST_JAVA_CLASS_VERSION:
        return ArtifactFormat.MACHO
    if is_ptx(data):
        return ArtifactFormat.PTX
    if is_emscripten_glue(data):
        return ArtifactFormat.EMSCRIPTEN_JS
    return ArtifactFormat.UNKNOWN


def inspect_file(path: Path) -> Inspection:
    """Inspect one artifact; raises InspectionError when a known format fails to parse."""
    data = path.read_bytes()
    artifact_format = detect_format(data)
    match artifact_format:
        case ArtifactFormat.ELF:
            inspection = inspect_elf(path)
        case ArtifactFormat.PE:
            inspection = inspect_pe(path)
        case ArtifactFormat.MACHO:
            inspection = inspect_macho(path)
        case ArtifactFormat.WASM:
            inspection = inspect_wasm(path, data)
        case ArtifactFormat.PTX:
            inspection = inspect_ptx(data)
        case ArtifactFormat.ARCHIVE:
            inspection = inspect_archive(path, data)
        case ArtifactFormat.EMSCRIPTEN_JS:
            inspection = inspect_glue(data)
        case ArtifactFormat.UNKNOWN:
            inspection = _unknown()
        case _:
            assert_never(artifact_format)
    return dataclasses.replace(inspection, demangled=demangled_pairs(inspection.exports))


def _fat_slice_count(data: bytes) -> int:
    return int.from_bytes(data[4:8], "big")


def _unknown() -> Inspection:
    return Inspection.empty(ArtifactFormat.UNKNOWN)
