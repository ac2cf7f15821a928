"""Tell an artifact's format from its bytes: magic numbers, PTX directives, emscripten glue.

Apart from the inspectors on purpose: the cell stage detects formats (to choose a build's primary
and runnable files) and its cache key hashes this module, not the inspectors, so an inspector fix
re-inspects cached files instead of rebuilding every cell.
"""

from __future__ import annotations

import re

from orchestrator.inspect.model import ArtifactFormat

ELF_MAGIC = b"\x7fELF"
MZ_MAGIC = b"MZ"
MACHO_MAGICS = (
    b"\xfe\xed\xfa\xce",  # 32-bit, big-endian
    b"\xce\xfa\xed\xfe",  # 32-bit, little-endian
    b"\xfe\xed\xfa\xcf",  # 64-bit, big-endian
    b"\xcf\xfa\xed\xfe",  # 64-bit, little-endian
)
FAT_MAGIC = b"\xca\xfe\xba\xbe"
WASM_MAGIC = b"\0asm"
AR_MAGIC = b"!<arch>\n"

PTX_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
PTX_VERSION_DIRECTIVE = re.compile(r"^\s*\.version\s+(\d+\.\d+)", re.MULTILINE)
PTX_TARGET_DIRECTIVE = re.compile(r"^\s*\.target\s+([^\n]+)", re.MULTILINE)

_GLUE_MARKERS = (b'Module["asm"]', b"wasmExports", b"createExportWrapper", b"Module['asm']")
_GLUE_SNIFF_BYTES = 1 << 20

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


def is_ptx(data: bytes) -> bool:
    """Text carrying both a `.version` and a `.target` directive."""
    try:
        text = PTX_COMMENT.sub("", data.decode("utf-8"))
    except UnicodeDecodeError:
        return False
    return bool(PTX_VERSION_DIRECTIVE.search(text) and PTX_TARGET_DIRECTIVE.search(text))


def is_emscripten_glue(data: bytes) -> bool:
    """A JS file that loads a wasm module the emscripten way."""
    head = data[:_GLUE_SNIFF_BYTES]
    return b"Module" in head and any(marker in data for marker in _GLUE_MARKERS)


def _fat_slice_count(data: bytes) -> int:
    return int.from_bytes(data[4:8], "big")
