"""Emscripten's JS glue: the names a JS caller uses, and which (minified) wasm export each is.

In optimised builds emcc renames the wasm's exports (`h`, `i`, ...); the glue maps them back:
`Module["_main"] = ... Module["asm"]["k"]` (emcc 3.1), `Module["_main"] = wasmExports["k"]`
or `createExportWrapper("main")` (later releases and ASSERTIONS builds). The JS-level name of a
C symbol carries emcc's `_` prefix; the reported export drops it, as Mach-O's `_` is dropped.
"""

from __future__ import annotations

import re

from orchestrator.inspect.model import ArtifactFormat, Inspection

_EXPORT = re.compile(
    r"""Module\[["']_(?P<name>\w+)["']\]\s*=\s*"""
    r"""(?:function\(\)\s*\{\s*return\s*\(\s*\w+\s*=\s*Module\[["']_\w+["']\]\s*=\s*)?"""
    r"""(?:Module\[["']asm["']\]|wasmExports)\[["'](?P<wasm>\w+)["']\]"""
)
_WRAPPED = re.compile(
    r"""Module\[["']_(?P<name>\w+)["']\]\s*=\s*createExportWrapper\(["'](?P<wasm>\w+)["']"""
)


def inspect_glue(data: bytes) -> Inspection:
    """The glue's exported names, each with the wasm export it stands for in the notes."""
    text = data.decode("utf-8", errors="replace")
    pairs = {
        m["name"]: m["wasm"] for pattern in (_EXPORT, _WRAPPED) for m in pattern.finditer(text)
    }
    notes = tuple(f"{name} -> wasm export {wasm!r}" for name, wasm in sorted(pairs.items()))
    return Inspection(
        format=ArtifactFormat.EMSCRIPTEN_JS,
        exports=tuple(sorted(pairs)),
        imports=(),
        needed=(),
        interpreter=None,
        static=None,
        machine="wasm32",
        file_type="emscripten-glue",
        notes=notes,
    )
