"""Session fixtures that build tiny real artifacts with the host's compilers and linkers.

A missing tool skips the tests that need it (naming the package to install), or fails them
when CI=true, so a CI image without the tools cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

C_LIBRARY = """\
extern int puts(const char *);
int answer(void) { return 42; }
__attribute__((visibility("hidden"))) int hidden_fn(void) { return 1; }
int greet(void) { return puts("hi"); }
"""
C_PROGRAM = """\
extern int puts(const char *);
int main(void) { return puts("hi") < 0; }
"""
C_DEFINES_FOO = "int foo(void) { return 1; }\n"
C_USES_FOO_AND_BAR = """\
extern int foo(void);
extern int bar(void);
int baz(void) { return foo() + bar(); }
"""
C_LEAF = "int answer(void) { return 42; }\n"
C_CALLS_EXTERNAL = """\
extern int external_thing(void);
int answer(void) { return 42; }
int call_ext(void) { return external_thing(); }
"""
C_WINDOWS_DLL = """\
__declspec(dllimport) unsigned long __stdcall GetTickCount(void);
int answer(void) { return 42; }
int ticks(void) { return (int)GetTickCount(); }
"""
C_WINDOWS_EXE = "int start(void) { return 0; }\n"
C_CALLS_DEP = "extern int dep_fn(void);\nint answer(void) { return dep_fn() + 41; }\n"
C_DEP = "int dep_fn(void) { return 1; }\n"
KERNEL32_DEF = "LIBRARY KERNEL32.dll\nEXPORTS\nGetTickCount\n"
EXTERNAL_TBD = """\
--- !tapi-tbd
tbd-version: 4
targets: [ arm64-macos ]
install-name: '/usr/lib/libexternal.dylib'
current-version: 1.0
exports:
  - targets: [ arm64-macos ]
    symbols: [ _external_thing ]
...
"""
RUST_CDYLIB = '#[no_mangle]\npub extern "C" fn answer() -> i32 {\n    42\n}\n'
RUST_BIN = """\
#[no_mangle]
pub extern "C" fn exported_from_exe() -> i32 {
    42
}

fn main() {
    std::process::exit(exported_from_exe() - 42);
}
"""

WINDOWS_TARGET = "--target=x86_64-pc-windows-msvc"
MACOS_ARM64_TARGET = "--target=arm64-apple-macos11"
MACOS_X86_64_TARGET = "--target=x86_64-apple-macos11"
WASM_FLAGS = ("-nostdlib", "-fPIC", "-Wl,--no-entry", "-Wl,-shared")
LD64_ARM64_DYLIB = ("-dylib", "-arch", "arm64", "-platform_version", "macos")


def find_tool(*names: str, package: str) -> str:
    """The first of `names` on PATH; otherwise skip (fail when CI=true) naming the package."""
    for name in names:
        if found := shutil.which(name):
            return found
    message = f"{' / '.join(names)} not found: install {package}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_tool(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a build command; a failure fails the test with the tool's stderr."""
    argv = [str(part) for part in command]
    completed = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        pytest.fail(f"`{' '.join(argv)}` failed:\n{completed.stdout}{completed.stderr}")


def write_source(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def cc() -> str:
    return find_tool("cc", package="gcc")


def clang() -> str:
    return find_tool("clang-22", "clang", package="clang-22")


def rustc() -> str:
    return find_tool("rustc", package="a Rust toolchain (rustup)")


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inspect-artifacts")


# ELF (gcc, rustc, ar) -------------------------------------------------------------------


@pytest.fixture(scope="session")
def c_shared_object(build_dir: Path) -> Path:
    source = write_source(build_dir, "answer_lib.c", C_LIBRARY)
    run_tool(cc(), "-shared", "-fPIC", "-o", "libanswer.so", source, cwd=build_dir)
    return build_dir / "libanswer.so"


@pytest.fixture(scope="session")
def c_pie_executable(build_dir: Path) -> Path:
    source = write_source(build_dir, "program.c", C_PROGRAM)
    run_tool(cc(), "-fPIE", "-pie", "-o", "pie-program", source, cwd=build_dir)
    return build_dir / "pie-program"


@pytest.fixture(scope="session")
def c_static_executable(build_dir: Path) -> Path:
    source = write_source(build_dir, "program.c", C_PROGRAM)
    run_tool(cc(), "-static", "-o", "static-program", source, cwd=build_dir)
    return build_dir / "static-program"


@pytest.fixture(scope="session")
def c_static_pie_executable(build_dir: Path) -> Path:
    source = write_source(build_dir, "program.c", C_PROGRAM)
    run_tool(cc(), "-static-pie", "-o", "static-pie-program", source, cwd=build_dir)
    return build_dir / "static-pie-program"


@pytest.fixture(scope="session")
def elf_objects(build_dir: Path) -> tuple[Path, Path]:
    """`foo` defined in a long-named object; `baz` using `foo` and `bar` in another."""
    defines = write_source(build_dir, "defines_foo.c", C_DEFINES_FOO)
    uses = write_source(build_dir, "uses.c", C_USES_FOO_AND_BAR)
    long_named = build_dir / "object_with_a_name_longer_than_16.o"
    run_tool(cc(), "-c", defines, "-o", long_named, cwd=build_dir)
    run_tool(cc(), "-c", uses, "-o", "uses.o", cwd=build_dir)
    return long_named, build_dir / "uses.o"


@pytest.fixture(scope="session")
def elf_archive(build_dir: Path, elf_objects: tuple[Path, Path]) -> Path:
    ar = find_tool("ar", package="binutils")
    run_tool(ar, "rcs", "libfoobaz.a", *(path.name for path in elf_objects), cwd=build_dir)
    return build_dir / "libfoobaz.a"


@pytest.fixture(scope="session")
def rust_cdylib(build_dir: Path) -> Path:
    source = write_source(build_dir, "answer.rs", RUST_CDYLIB)
    run_tool(rustc(), "--crate-type", "cdylib", "-o", "librust_answer.so", source, cwd=build_dir)
    return build_dir / "librust_answer.so"


@pytest.fixture(scope="session")
def rust_bin_exporting(build_dir: Path) -> Path:
    source = write_source(build_dir, "exe.rs", RUST_BIN)
    env = {**os.environ, "RUSTC_BOOTSTRAP": "1"}
    command = (rustc(), "-Z", "export-executable-symbols", "-o", "rust-exporting", source)
    run_tool(*command, cwd=build_dir, env=env)
    return build_dir / "rust-exporting"


@pytest.fixture(scope="session")
def rust_bin_plain(build_dir: Path) -> Path:
    source = write_source(build_dir, "exe.rs", RUST_BIN)
    run_tool(rustc(), "-o", "rust-plain", source, cwd=build_dir)
    return build_dir / "rust-plain"


# PE / COFF (clang, lld-link, llvm-dlltool, llvm-lib) -------------------------------------


@pytest.fixture(scope="session")
def pe_dll(build_dir: Path) -> Path:
    """answer.dll: exports `answer` and ordinal-only #7; imports kernel32!GetTickCount."""
    lld_link = find_tool("lld-link-22", "lld-link", package="lld-22")
    dlltool = find_tool("llvm-dlltool-22", "llvm-dlltool", package="llvm-22")
    source = write_source(build_dir, "answer_dll.c", C_WINDOWS_DLL)
    kernel32_def = write_source(build_dir, "kernel32.def", KERNEL32_DEF)
    run_tool(clang(), WINDOWS_TARGET, "-c", source, "-o", "answer_dll.obj", cwd=build_dir)
    run_tool(dlltool, "-m", "i386:x86-64", "-d", kernel32_def, "-l", "kernel32.lib", cwd=build_dir)
    run_tool(
        lld_link,
        "/dll",
        "/noentry",
        "/export:answer",
        "/export:ticks,@7,NONAME",
        "/out:answer.dll",
        "answer_dll.obj",
        "kernel32.lib",
        cwd=build_dir,
    )
    return build_dir / "answer.dll"


@pytest.fixture(scope="session")
def pe_import_library(pe_dll: Path) -> Path:
    """The import library lld-link writes next to answer.dll."""
    return pe_dll.with_suffix(".lib")


@pytest.fixture(scope="session")
def pe_exe(build_dir: Path) -> Path:
    lld_link = find_tool("lld-link-22", "lld-link", package="lld-22")
    source = write_source(build_dir, "start.c", C_WINDOWS_EXE)
    run_tool(clang(), WINDOWS_TARGET, "-c", source, "-o", "start.obj", cwd=build_dir)
    command = ("/entry:start", "/subsystem:console", "/out:start.exe", "start.obj")
    run_tool(lld_link, *command, cwd=build_dir)
    return build_dir / "start.exe"


@pytest.fixture(scope="session")
def coff_archive(build_dir: Path) -> Path:
    llvm_lib = find_tool("llvm-lib-22", "llvm-lib", package="llvm-22")
    defines = write_source(build_dir, "defines_foo.c", C_DEFINES_FOO)
    uses = write_source(build_dir, "uses.c", C_USES_FOO_AND_BAR)
    long_named = "coff_object_with_a_long_name.obj"
    run_tool(clang(), WINDOWS_TARGET, "-c", defines, "-o", long_named, cwd=build_dir)
    run_tool(clang(), WINDOWS_TARGET, "-c", uses, "-o", "uses.obj", cwd=build_dir)
    run_tool(llvm_lib, "/out:foobaz.lib", long_named, "uses.obj", cwd=build_dir)
    return build_dir / "foobaz.lib"


# Mach-O (clang, ld64.lld, llvm-lipo, llvm-ar) --------------------------------------------


def ld64() -> str:
    return find_tool("ld64.lld-22", "ld64.lld", package="lld-22")


@pytest.fixture(scope="session")
def macho_leaf_objects(build_dir: Path) -> tuple[Path, Path]:
    """`answer` compiled for arm64 and for x86_64 macOS."""
    source = write_source(build_dir, "leaf.c", C_LEAF)
    run_tool(clang(), MACOS_ARM64_TARGET, "-c", source, "-o", "leaf-arm64.o", cwd=build_dir)
    run_tool(clang(), MACOS_X86_64_TARGET, "-c", source, "-o", "leaf-x86_64.o", cwd=build_dir)
    return build_dir / "leaf-arm64.o", build_dir / "leaf-x86_64.o"


@pytest.fixture(scope="session")
def macho_leaf_dylib(build_dir: Path, macho_leaf_objects: tuple[Path, Path]) -> Path:
    """macOS 11 deployment: exports in LC_DYLD_INFO; no libSystem needed for a leaf."""
    arm64_object, _ = macho_leaf_objects
    command = (*LD64_ARM64_DYLIB, "11.0", "11.0", "-o", "libleaf.dylib", arm64_object)
    run_tool(ld64(), *command, cwd=build_dir)
    return build_dir / "libleaf.dylib"


@pytest.fixture(scope="session")
def macho_object(build_dir: Path) -> Path:
    source = write_source(build_dir, "calls_external.c", C_CALLS_EXTERNAL)
    run_tool(clang(), MACOS_ARM64_TARGET, "-c", source, "-o", "calls_external.o", cwd=build_dir)
    return build_dir / "calls_external.o"


@pytest.fixture(scope="session")
def macho_dependent_dylib(build_dir: Path, macho_object: Path) -> Path:
    """macOS 13 deployment (chained fixups, export trie), linked against a .tbd stub."""
    stub = write_source(build_dir, "libexternal.tbd", EXTERNAL_TBD)
    command = (*LD64_ARM64_DYLIB, "13.0", "13.0", "-o", "libdependent.dylib", macho_object, stub)
    run_tool(ld64(), *command, cwd=build_dir)
    return build_dir / "libdependent.dylib"


@pytest.fixture(scope="session")
def macho_fat_dylib(build_dir: Path, macho_leaf_objects: tuple[Path, Path]) -> Path:
    lipo = find_tool("llvm-lipo-22", "llvm-lipo", package="llvm-22")
    slices = []
    for arch, leaf_object in zip(("arm64", "x86_64"), macho_leaf_objects, strict=True):
        dylib = f"libleaf-{arch}.dylib"
        command = ("-dylib", "-arch", arch, "-platform_version", "macos", "11.0", "11.0")
        run_tool(ld64(), *command, "-o", dylib, leaf_object, cwd=build_dir)
        slices.append(dylib)
    run_tool(lipo, "-create", *slices, "-output", "libfat.dylib", cwd=build_dir)
    return build_dir / "libfat.dylib"


@pytest.fixture(scope="session")
def macho_archive(build_dir: Path) -> Path:
    """BSD-format archive (`#1/len` names, `__.SYMDEF`) of two arm64 objects."""
    llvm_ar = find_tool("llvm-ar-22", "llvm-ar", package="llvm-22")
    defines = write_source(build_dir, "defines_foo.c", C_DEFINES_FOO)
    uses = write_source(build_dir, "uses.c", C_USES_FOO_AND_BAR)
    run_tool(clang(), MACOS_ARM64_TARGET, "-c", defines, "-o", "foo-arm64.o", cwd=build_dir)
    run_tool(clang(), MACOS_ARM64_TARGET, "-c", uses, "-o", "uses-arm64.o", cwd=build_dir)
    command = ("--format=darwin", "rcs", "libfoobaz-darwin.a", "foo-arm64.o", "uses-arm64.o")
    run_tool(llvm_ar, *command, cwd=build_dir)
    return build_dir / "libfoobaz-darwin.a"


# wasm (clang, wasm-ld) -------------------------------------------------------------------


@pytest.fixture(scope="session")
def wasm_module(build_dir: Path) -> Path:
    find_tool("wasm-ld-22", "wasm-ld", package="lld-22")
    source = write_source(build_dir, "wasm_answer.c", C_LEAF)
    command = ("--target=wasm32", "-nostdlib", "-Wl,--no-entry", "-Wl,--export=answer")
    run_tool(clang(), *command, "-o", "answer.wasm", source, cwd=build_dir)
    return build_dir / "answer.wasm"


@pytest.fixture(scope="session")
def wasm_side_module(build_dir: Path) -> Path:
    """An emscripten side module whose dylink.0 section names libdep.so as needed."""
    find_tool("wasm-ld-22", "wasm-ld", package="lld-22")
    target = "--target=wasm32-unknown-emscripten"
    dep = write_source(build_dir, "dep.c", C_DEP)
    user = write_source(build_dir, "calls_dep.c", C_CALLS_DEP)
    exports_dep = "-Wl,--export=dep_fn"
    run_tool(clang(), target, *WASM_FLAGS, exports_dep, "-o", "libdep.so", dep, cwd=build_dir)
    command = (target, *WASM_FLAGS, "-Wl,--export=answer", "-o", "side.wasm", user, "libdep.so")
    run_tool(clang(), *command, cwd=build_dir)
    return build_dir / "side.wasm"


@pytest.fixture(scope="session")
def wasm_archive(build_dir: Path) -> Path:
    """A static library of two wasm objects (members with a `linking` section)."""
    llvm_ar = find_tool("llvm-ar-22", "llvm-ar", package="llvm-22")
    defines = write_source(build_dir, "wasm_defines_foo.c", C_DEFINES_FOO)
    uses = write_source(build_dir, "wasm_uses.c", C_USES_FOO_AND_BAR)
    run_tool(clang(), "--target=wasm32", "-O2", "-c", defines, "-o", "wasm-foo.o", cwd=build_dir)
    run_tool(clang(), "--target=wasm32", "-O2", "-c", uses, "-o", "wasm-uses.o", cwd=build_dir)
    run_tool(llvm_ar, "rcs", "libfoobaz-wasm.a", "wasm-foo.o", "wasm-uses.o", cwd=build_dir)
    return build_dir / "libfoobaz-wasm.a"
