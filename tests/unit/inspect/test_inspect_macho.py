"""Mach-O facts: export trie / dyld info, imported symbols, dylib load commands, fat slices."""

from __future__ import annotations

from pathlib import Path

from orchestrator.inspect import ArtifactFormat, inspect_file


def test_leaf_dylib_exports_name_without_underscore(macho_leaf_dylib: Path) -> None:
    inspection = inspect_file(macho_leaf_dylib)

    assert inspection.format == ArtifactFormat.MACHO
    assert inspection.file_type == "dylib"
    assert inspection.exports == ("answer",)
    assert inspection.needed == ()
    assert inspection.static is True
    assert inspection.machine == "aarch64"


def test_dependent_dylib_reads_export_trie_imports_and_needed(
    macho_dependent_dylib: Path,
) -> None:
    inspection = inspect_file(macho_dependent_dylib)

    assert inspection.exports == ("answer", "call_ext")
    assert inspection.imports == ("external_thing",)
    assert inspection.needed == ("/usr/lib/libexternal.dylib",)
    assert inspection.static is False


def test_object_file_uses_symbol_table(macho_object: Path) -> None:
    inspection = inspect_file(macho_object)

    assert inspection.file_type == "object"
    assert inspection.exports == ("answer", "call_ext")
    assert inspection.imports == ("external_thing",)
    assert inspection.static is None


def test_fat_binary_reports_first_slice_and_notes_all(macho_fat_dylib: Path) -> None:
    inspection = inspect_file(macho_fat_dylib)

    assert inspection.exports == ("answer",)
    assert inspection.machine in {"aarch64", "x86_64"}
    [note] = [note for note in inspection.notes if note.startswith("fat binary")]
    assert "aarch64" in note
    assert "x86_64" in note
