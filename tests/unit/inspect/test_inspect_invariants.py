"""Properties every inspection keeps, whatever the format."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.inspect import inspect_file

BUILT_ARTIFACTS = [
    "c_shared_object",
    "c_pie_executable",
    "c_static_executable",
    "rust_cdylib",
    "elf_archive",
    "pe_dll",
    "pe_import_library",
    "macho_dependent_dylib",
    "macho_archive",
    "wasm_module",
    "wasm_side_module",
]


@pytest.mark.parametrize("fixture_name", BUILT_ARTIFACTS)
def test_names_are_sorted_and_unique(fixture_name: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(fixture_name)

    inspection = inspect_file(path)

    assert list(inspection.exports) == sorted(set(inspection.exports))
    assert list(inspection.imports) == sorted(set(inspection.imports))
    assert "" not in inspection.exports + inspection.imports


@pytest.mark.parametrize("fixture_name", BUILT_ARTIFACTS)
def test_inspection_is_deterministic(fixture_name: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(fixture_name)

    assert inspect_file(path) == inspect_file(path)
