"""Read what a build artifact exports, imports and depends on, whatever its format."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import assert_never

from orchestrator.inspect.demangle import demangled_pairs
from orchestrator.inspect.detect import detect_format
from orchestrator.inspect.model import ArtifactFormat, Inspection, InspectionError

__all__ = ["ArtifactFormat", "Inspection", "InspectionError", "detect_format", "inspect_file"]


def inspect_file(path: Path) -> Inspection:
    """Inspect one artifact; raises InspectionError when a known format fails to parse."""
    # The readers load LIEF and wasmtime (a third of a second): imported when a file is read,
    # so a warm re-run, whose inspections all come from the cache, never pays for them.
    from orchestrator.inspect.archive import inspect_archive  # noqa: PLC0415
    from orchestrator.inspect.elf import inspect_elf  # noqa: PLC0415
    from orchestrator.inspect.jsglue import inspect_glue  # noqa: PLC0415
    from orchestrator.inspect.macho import inspect_macho  # noqa: PLC0415
    from orchestrator.inspect.pe import inspect_pe  # noqa: PLC0415
    from orchestrator.inspect.ptx import inspect_ptx  # noqa: PLC0415
    from orchestrator.inspect.wasm import inspect_wasm  # noqa: PLC0415

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


def _unknown() -> Inspection:
    return Inspection.empty(ArtifactFormat.UNKNOWN)
