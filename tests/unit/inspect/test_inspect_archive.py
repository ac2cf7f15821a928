"""Static archives: GNU, BSD and COFF member layouts, object symbols, import libraries."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from orchestrator.inspect import ArtifactFormat, InspectionError, inspect_file

LONG_ELF_MEMBER = "object_with_a_name_longer_than_16.o"


def ar_member(name: str, data: bytes) -> bytes:
    """One GNU-style member: 60-byte header, data, even padding."""
    header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{644:<8}{len(data):<10}`\n".encode()
    return header + data + b"\n" * (len(data) % 2)


def test_gnu_archive_resolves_symbols_across_members(elf_archive: Path) -> None:
    inspection = inspect_file(elf_archive)

    assert inspection.format == ArtifactFormat.ARCHIVE
    assert inspection.file_type == "archive"
    assert inspection.exports == ("baz", "foo")
    assert inspection.imports == ("bar",)
    assert inspection.members == (LONG_ELF_MEMBER, "uses.o")
    assert inspection.needed == ()
    assert inspection.static is None
    assert inspection.machine == platform.machine()


def test_bsd_archive_of_macho_objects(macho_archive: Path) -> None:
    inspection = inspect_file(macho_archive)

    assert inspection.exports == ("baz", "foo")
    assert inspection.imports == ("bar",)
    assert inspection.members == ("foo-arm64.o", "uses-arm64.o")
    assert inspection.machine == "aarch64"


def test_coff_archive_from_llvm_lib(coff_archive: Path) -> None:
    inspection = inspect_file(coff_archive)

    assert inspection.exports == ("baz", "foo")
    assert inspection.imports == ("bar",)
    assert set(inspection.members) == {"coff_object_with_a_long_name.obj", "uses.obj"}
    assert inspection.machine == "x86_64"


def test_import_library_defines_thunks_and_imp_pointers(pe_import_library: Path) -> None:
    inspection = inspect_file(pe_import_library)

    assert {"answer", "__imp_answer", "ticks", "__imp_ticks"} <= set(inspection.exports)
    assert inspection.imports == ()
    assert set(inspection.needed) == {"answer.dll"}


def test_non_object_member_is_skipped_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "libnotes.a"
    path.write_bytes(b"!<arch>\n" + ar_member("README", b"plain text\n"))

    inspection = inspect_file(path)

    assert inspection.members == ("README",)
    assert inspection.exports == ()
    assert inspection.notes == ("member README skipped: not an ELF, Mach-O, COFF or wasm object",)


def test_malformed_archive_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "libbroken.a"
    path.write_bytes(b"!<arch>\n" + ar_member("a.o", b"\x7fELF")[:40])

    with pytest.raises(InspectionError, match=r"libbroken\.a"):
        inspect_file(path)


def test_wasm_archive_members_are_read_from_their_linking_section(wasm_archive: Path) -> None:
    inspection = inspect_file(wasm_archive)

    assert inspection.members == ("wasm-foo.o", "wasm-uses.o")
    assert inspection.exports == ("baz", "foo")
    assert inspection.imports == ("bar",)
    assert inspection.machine == "wasm32"
    assert inspection.notes == ()
