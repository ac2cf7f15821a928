"""PE facts: export directory (ordinal-only entries as #N), import tables, DLL flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.inspect import ArtifactFormat, InspectionError, inspect_file


def test_dll_exports_imports_and_needed(pe_dll: Path) -> None:
    inspection = inspect_file(pe_dll)

    assert inspection.format == ArtifactFormat.PE
    assert inspection.file_type == "dll"
    assert inspection.exports == ("#7", "answer")
    assert inspection.imports == ("kernel32.dll!GetTickCount",)
    assert inspection.needed == ("KERNEL32.dll",)
    assert inspection.static is False
    assert inspection.machine == "x86_64"
    assert inspection.interpreter is None


def test_exe_without_imports_is_static(pe_exe: Path) -> None:
    inspection = inspect_file(pe_exe)

    assert inspection.file_type == "exe"
    assert inspection.exports == ()
    assert inspection.needed == ()
    assert inspection.static is True


def test_unparsable_pe_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.dll"
    path.write_bytes(b"MZ" + bytes(126))

    with pytest.raises(InspectionError, match=r"broken\.dll"):
        inspect_file(path)
