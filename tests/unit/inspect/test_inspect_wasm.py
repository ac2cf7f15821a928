"""wasm facts through wasmtime, the fallback section reader, dylink.0 and components."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

from orchestrator.inspect import ArtifactFormat, InspectionError, inspect_file

FUNC_RETURNING_I32 = b"\x60\x00\x01\x7f"  # (func (result i32))
I32_CONST_42 = b"\x41\x2a"
I32_ADD = b"\x6a"  # with an empty stack: invalid, so wasmtime refuses the module
END = b"\x0b"
MEMORY64_MIN_1 = b"\x04\x01"  # limits: 64-bit flag, min 1 page
COMPONENT_TEXT = """\
(component
  (import "host-fn" (func))
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (func (export "run") (canon lift (core func $i "f"))))
"""


def leb128(value: int) -> bytes:
    encoded = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        encoded.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(encoded)


def name(text: str) -> bytes:
    return leb128(len(text)) + text.encode()


def vector(*items: bytes) -> bytes:
    return leb128(len(items)) + b"".join(items)


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + leb128(len(payload)) + payload


def module_importing_and_exporting(body: bytes) -> bytes:
    """Imports env.host_answer (func) and env.memory (memory64); exports `answer`."""
    function_body = leb128(0) + body + END  # no locals
    return b"".join(
        [
            b"\0asm\x01\x00\x00\x00",
            section(1, vector(FUNC_RETURNING_I32)),
            section(
                2,
                vector(
                    name("env") + name("host_answer") + b"\x00" + leb128(0),
                    name("env") + name("memory") + b"\x02" + MEMORY64_MIN_1,
                ),
            ),
            section(3, vector(leb128(0))),
            section(7, vector(name("answer") + b"\x00" + leb128(1))),
            section(10, vector(leb128(len(function_body)) + function_body)),
        ]
    )


def write(tmp_path: Path, file_name: str, data: bytes) -> Path:
    path = tmp_path / file_name
    path.write_bytes(data)
    return path


def test_clang_module_exports_function_and_memory(wasm_module: Path) -> None:
    inspection = inspect_file(wasm_module)

    assert inspection.format == ArtifactFormat.WASM
    assert inspection.file_type == "module"
    assert inspection.exports == ("answer", "memory")
    assert inspection.imports == ()
    assert inspection.needed == ()
    assert inspection.static is None
    assert inspection.machine == "wasm32"


def test_side_module_lists_dylink_needed(wasm_side_module: Path) -> None:
    inspection = inspect_file(wasm_side_module)

    assert inspection.file_type == "emscripten-side-module"
    assert inspection.needed == ("libdep.so",)
    assert "env.dep_fn" in inspection.imports
    assert inspection.exports == ("answer",)


def test_hand_assembled_module_through_wasmtime(tmp_path: Path) -> None:
    path = write(tmp_path, "valid.wasm", module_importing_and_exporting(I32_CONST_42))

    inspection = inspect_file(path)

    assert inspection.imports == ("env.host_answer", "env.memory")
    assert inspection.exports == ("answer",)
    assert inspection.machine == "wasm64"
    assert inspection.notes == ()


def test_module_wasmtime_refuses_falls_back_to_section_reader(tmp_path: Path) -> None:
    path = write(tmp_path, "invalid.wasm", module_importing_and_exporting(I32_ADD))

    inspection = inspect_file(path)

    assert inspection.imports == ("env.host_answer", "env.memory")
    assert inspection.exports == ("answer",)
    assert inspection.machine == "wasm64"
    [note] = inspection.notes
    assert note.startswith("wasmtime refused the module")


def test_truncated_module_raises_naming_the_file(tmp_path: Path) -> None:
    data = module_importing_and_exporting(I32_CONST_42)[:-3]
    path = write(tmp_path, "truncated.wasm", data)

    with pytest.raises(InspectionError, match=r"truncated\.wasm"):
        inspect_file(path)


def test_component_reports_top_level_names(tmp_path: Path) -> None:
    path = write(tmp_path, "component.wasm", bytes(wasmtime.wat2wasm(COMPONENT_TEXT)))

    inspection = inspect_file(path)

    assert inspection.file_type == "component"
    assert inspection.imports == ("host-fn",)
    assert inspection.exports == ("run",)
