"""Emscripten's JS glue: the JS-level names, mapped to the minified wasm exports."""
# ruff: noqa: E501  (verbatim emcc output lines)

from __future__ import annotations

from pathlib import Path

from orchestrator.inspect import ArtifactFormat, detect_format, inspect_file

GLUE_3_1 = b"""var Module=typeof Module!="undefined"?Module:{};
var _exported_from_exe=Module["_exported_from_exe"]=function(){return(_exported_from_exe=Module["_exported_from_exe"]=Module["asm"]["k"]).apply(null,arguments)};
var _main=Module["_main"]=function(){return(_main=Module["_main"]=Module["asm"]["l"]).apply(null,arguments)};
"""
GLUE_ASSERTIONS = b"""var Module = typeof Module != 'undefined' ? Module : {};
var wasmExports;
var _answer = Module['_answer'] = createExportWrapper('answer');
"""


def test_emscripten_glue_names_map_to_minified_wasm_exports(tmp_path: Path) -> None:
    path = tmp_path / "exe.js"
    path.write_bytes(GLUE_3_1)
    inspection = inspect_file(path)
    assert inspection.format is ArtifactFormat.EMSCRIPTEN_JS
    assert inspection.exports == ("exported_from_exe", "main")
    assert inspection.notes == ("exported_from_exe -> wasm export 'k'", "main -> wasm export 'l'")


def test_assertion_builds_use_export_wrappers() -> None:
    assert detect_format(GLUE_ASSERTIONS) is ArtifactFormat.EMSCRIPTEN_JS


def test_other_javascript_is_not_glue() -> None:
    assert detect_format(b"console.log('hello');\n") is ArtifactFormat.UNKNOWN
