"""PTX assembly text: visible kernels, functions and variables, extern functions, targets."""

from __future__ import annotations

import re

from orchestrator.inspect.detect import PTX_COMMENT as _COMMENT
from orchestrator.inspect.detect import PTX_TARGET_DIRECTIVE as _TARGET_DIRECTIVE
from orchestrator.inspect.detect import PTX_VERSION_DIRECTIVE as _VERSION_DIRECTIVE
from orchestrator.inspect.model import ArtifactFormat, Inspection, sorted_unique

_IDENTIFIER = r"[A-Za-z_$%][\w$%]*"
_RETURN_PARAMS = r"(?:\([^)]*\)\s*)?"
_ADDRESS_SIZE_64 = re.compile(r"^\s*\.address_size\s+64\b", re.MULTILINE)
_VISIBLE_ENTRY = re.compile(rf"\.visible\s+\.entry\s+({_IDENTIFIER})\s*\(")
_VISIBLE_FUNC = re.compile(rf"\.visible\s+\.func\s+{_RETURN_PARAMS}({_IDENTIFIER})\s*\(")
_EXTERN_FUNC = re.compile(rf"\.extern\s+\.func\s+{_RETURN_PARAMS}({_IDENTIFIER})\s*\(")
# `.visible .global .align 4 .u32 NAME;`, `.visible .const .align 8 .b8 NAME[16] = {...};`
_VISIBLE_VARIABLE = re.compile(
    rf"\.visible\s+\.(?:global|const)\b[^;{{(]*?({_IDENTIFIER})\s*(?:\[[^\]]*\]\s*)*[=;]"
)


def inspect_ptx(data: bytes) -> Inspection:
    """Inspect a PTX module."""
    text = _COMMENT.sub("", data.decode("utf-8", errors="replace"))
    version = _VERSION_DIRECTIVE.search(text)
    target = _TARGET_DIRECTIVE.search(text)
    notes = (
        *([f"ptx-version {version[1]}"] if version else []),
        *([f"target {target[1].strip()}"] if target else []),
    )
    variables = _VISIBLE_VARIABLE.findall(text)
    functions = [*_VISIBLE_ENTRY.findall(text), *_VISIBLE_FUNC.findall(text)]
    return Inspection(
        format=ArtifactFormat.PTX,
        exports=sorted_unique([*functions, *variables]),
        data=sorted_unique(variables),
        imports=sorted_unique(_EXTERN_FUNC.findall(text)),
        needed=(),
        interpreter=None,
        static=None,
        machine="nvptx64" if _ADDRESS_SIZE_64.search(text) else "nvptx",
        file_type="ptx",
        notes=notes,
    )
