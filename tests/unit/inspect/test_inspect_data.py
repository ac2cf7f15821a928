"""`data`: which exported or defined symbols name data (statics), not code, in every format.

One C source (an initialized global, a zeroed one, a read-only table and a function) is built
into each format; `data` must list the three variables and never the function.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.inspect import inspect_file
from orchestrator.inspect.ptx import inspect_ptx
from tests.unit.inspect.conftest import (
    LD64_ARM64_DYLIB,
    MACOS_ARM64_TARGET,
    WINDOWS_TARGET,
    cc,
    clang,
    find_tool,
    ld64,
    run_tool,
    write_source,
)

C_DATA = """\
EXPORT int data_counter = 1;
EXPORT int data_zeroed;
EXPORT const int data_table[4] = {1, 2, 3, 4};
EXPORT int data_function(void) { return data_counter + data_zeroed + data_table[1]; }
"""
VARIABLES = ("data_counter", "data_table", "data_zeroed")
DEFAULT_EXPORT = '-DEXPORT=__attribute__((visibility("default")))'


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("data-symbols")
    write_source(directory, "data.c", C_DATA)
    return directory


def elf_object(data_dir: Path) -> Path:
    run_tool(cc(), DEFAULT_EXPORT, "-fno-common", "-c", "data.c", "-o", "data.o", cwd=data_dir)
    return data_dir / "data.o"


def elf_shared_object(data_dir: Path) -> Path:
    command = (DEFAULT_EXPORT, "-shared", "-fPIC", "-o", "libdata.so", "data.c")
    run_tool(cc(), *command, cwd=data_dir)
    return data_dir / "libdata.so"


def elf_archive(data_dir: Path) -> Path:
    ar = find_tool("ar", package="binutils")
    run_tool(ar, "rcs", "libdata.a", elf_object(data_dir).name, cwd=data_dir)
    return data_dir / "libdata.a"


def coff_archive(data_dir: Path) -> Path:
    llvm_lib = find_tool("llvm-lib-22", "llvm-lib", package="llvm-22")
    run_tool(clang(), WINDOWS_TARGET, "-DEXPORT=", "-c", "data.c", "-o", "data.obj", cwd=data_dir)
    run_tool(llvm_lib, "/out:data.lib", "data.obj", cwd=data_dir)
    return data_dir / "data.lib"


def pe_dll(data_dir: Path) -> Path:
    lld_link = find_tool("lld-link-22", "lld-link", package="lld-22")
    export = "-DEXPORT=__declspec(dllexport)"
    run_tool(clang(), WINDOWS_TARGET, export, "-c", "data.c", "-o", "dll.obj", cwd=data_dir)
    run_tool(lld_link, "/dll", "/noentry", "/out:data.dll", "dll.obj", cwd=data_dir)
    return data_dir / "data.dll"


def macho_object(data_dir: Path) -> Path:
    command = (MACOS_ARM64_TARGET, DEFAULT_EXPORT, "-c", "data.c", "-o", "data-arm64.o")
    run_tool(clang(), *command, cwd=data_dir)
    return data_dir / "data-arm64.o"


def macho_dylib(data_dir: Path) -> Path:
    for version, name in (("11.0", "libdata-dyldinfo.dylib"), ("13.0", "libdata-trie.dylib")):
        command = (*LD64_ARM64_DYLIB, version, version, "-o", name, macho_object(data_dir).name)
        run_tool(ld64(), *command, cwd=data_dir)
    return data_dir / "libdata-trie.dylib"


def macho_dylib_with_dyld_info(data_dir: Path) -> Path:
    macho_dylib(data_dir)
    return data_dir / "libdata-dyldinfo.dylib"


def wasm_object(data_dir: Path) -> Path:
    command = ("--target=wasm32", "-O2", DEFAULT_EXPORT, "-c", "data.c", "-o", "data-wasm.o")
    run_tool(clang(), *command, cwd=data_dir)
    llvm_ar = find_tool("llvm-ar-22", "llvm-ar", package="llvm-22")
    run_tool(llvm_ar, "rcs", "libdata-wasm.a", "data-wasm.o", cwd=data_dir)
    return data_dir / "libdata-wasm.a"


def wasm_module(data_dir: Path) -> Path:
    find_tool("wasm-ld-22", "wasm-ld", package="lld-22")
    exports = [f"-Wl,--export={name}" for name in (*VARIABLES, "data_function")]
    command = ("--target=wasm32", "-nostdlib", "-Wl,--no-entry", DEFAULT_EXPORT, *exports)
    run_tool(clang(), *command, "-o", "data.wasm", "data.c", cwd=data_dir)
    return data_dir / "data.wasm"


BUILDERS = {
    "elf-object": elf_object,
    "elf-shared-object": elf_shared_object,
    "elf-archive": elf_archive,
    "coff-archive": coff_archive,
    "pe-dll": pe_dll,
    "macho-object": macho_object,
    "macho-dylib-export-trie": macho_dylib,
    "macho-dylib-dyld-info": macho_dylib_with_dyld_info,
    "wasm-archive": wasm_object,
    "wasm-module": wasm_module,
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_data_lists_the_variables_and_not_the_function(data_dir: Path, kind: str) -> None:
    inspection = inspect_file(BUILDERS[kind](data_dir))
    assert "data_function" in inspection.exports, inspection.exports
    assert set(VARIABLES) <= set(inspection.exports), inspection.exports
    assert set(VARIABLES) <= set(inspection.data), inspection.data
    assert "data_function" not in inspection.data
    assert set(inspection.data) <= set(inspection.exports)


def test_ptx_variables_are_exports_and_data() -> None:
    text = """\
.version 7.0
.target sm_70
.address_size 64
.visible .global .align 4 .u32 COUNTER;
.visible .const .align 4 .b8 TABLE[16] = {1, 0, 0, 0};
.global .align 4 .u32 hidden_counter;
.visible .entry kernel(.param .u64 out) { ret; }
"""
    inspection = inspect_ptx(text.encode())
    assert inspection.exports == ("COUNTER", "TABLE", "kernel")
    assert inspection.data == ("COUNTER", "TABLE")
