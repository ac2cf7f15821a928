"""ELF facts come from .dynsym, DT_NEEDED and PT_INTERP (and .symtab only for objects)."""

from __future__ import annotations

import platform
from pathlib import Path

from orchestrator.inspect import ArtifactFormat, inspect_file

HOST_MACHINE = platform.machine()


def test_shared_object_exports_default_visibility_only(c_shared_object: Path) -> None:
    inspection = inspect_file(c_shared_object)

    assert inspection.format == ArtifactFormat.ELF
    assert inspection.file_type == "shared-object"
    assert inspection.exports == ("answer", "greet")
    assert "hidden_fn" not in inspection.exports
    assert "puts" in inspection.imports
    assert "libc.so.6" in inspection.needed
    assert inspection.interpreter is None
    assert inspection.static is False
    assert inspection.machine == HOST_MACHINE


def test_symbol_versions_are_stripped(c_shared_object: Path) -> None:
    inspection = inspect_file(c_shared_object)

    assert not [name for name in inspection.imports + inspection.exports if "@" in name]


def test_pie_executable_has_interpreter(c_pie_executable: Path) -> None:
    inspection = inspect_file(c_pie_executable)

    assert inspection.file_type == "pie-executable"
    assert inspection.interpreter is not None
    assert "ld-" in inspection.interpreter
    assert inspection.static is False
    assert inspection.exports == ()


def test_static_executable_reports_no_symtab_names(c_static_executable: Path) -> None:
    inspection = inspect_file(c_static_executable)

    assert inspection.file_type == "executable"
    assert inspection.static is True
    assert inspection.interpreter is None
    assert inspection.needed == ()
    assert inspection.exports == ()


def test_static_pie_is_told_apart_from_shared_object(c_static_pie_executable: Path) -> None:
    inspection = inspect_file(c_static_pie_executable)

    assert inspection.file_type == "static-pie-executable"
    assert inspection.static is True


def test_relocatable_object_uses_symtab(elf_objects: tuple[Path, Path]) -> None:
    _, uses = elf_objects

    inspection = inspect_file(uses)

    assert inspection.file_type == "relocatable"
    assert inspection.exports == ("baz",)
    assert inspection.imports == ("bar", "foo")
    assert inspection.static is None


def test_rust_cdylib_exports_only_the_no_mangle_function(rust_cdylib: Path) -> None:
    inspection = inspect_file(rust_cdylib)

    assert "answer" in inspection.exports
    assert not [name for name in inspection.exports if name.startswith(("_ZN", "_R"))]


def test_rust_bin_exports_only_with_export_executable_symbols(
    rust_bin_exporting: Path, rust_bin_plain: Path
) -> None:
    assert "exported_from_exe" in inspect_file(rust_bin_exporting).exports
    assert "exported_from_exe" not in inspect_file(rust_bin_plain).exports
