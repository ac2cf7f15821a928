"""The cargo command of an artifact and the reading of cargo's JSON messages."""

from __future__ import annotations

import json

from orchestrator.cargo import build_dir, cargo_invocation, flagset_digest, parse_cargo_messages
from orchestrator.config import Matrix
from orchestrator.scenario import ArtifactSpec


def artifact(matrix: Matrix, name: str) -> ArtifactSpec:
    return next(a for a in matrix.scenario("alpha").artifacts if a.name == name)


def test_bootstrap_only_for_builds_that_need_it(matrix: Matrix) -> None:
    glibc, wasm = matrix.toolchains[0].targets[0], matrix.toolchains[1].targets[0]
    plain = cargo_invocation(
        scenario="alpha", target=glibc, artifact=artifact(matrix, "lib"), workdir="/w"
    )
    flagged = cargo_invocation(
        scenario="alpha", target=glibc, artifact=artifact(matrix, "exe"), workdir="/w"
    )
    cross = cargo_invocation(
        scenario="alpha", target=wasm, artifact=artifact(matrix, "lib"), workdir="/w"
    )
    assert "RUSTC_BOOTSTRAP" not in dict(plain.env)
    assert dict(flagged.env)["RUSTC_BOOTSTRAP"] == "1"
    assert dict(cross.env)["RUSTC_BOOTSTRAP"] == "1"
    assert "-Zbuild-std=std,panic_abort" in cross.argv
    assert 'profile.release.panic="abort"' in cross.argv
    assert not any(a.startswith("-Z") for a in plain.argv)


def test_per_artifact_flags_go_after_the_separator_so_std_is_shared(matrix: Matrix) -> None:
    glibc = matrix.toolchains[0].targets[0]
    flagged = cargo_invocation(
        scenario="alpha", target=glibc, artifact=artifact(matrix, "exe"), workdir="/w"
    )
    separator = flagged.argv.index("--")
    assert flagged.argv[separator + 1 :] == (
        "-L",
        "native=/w/native",
        "-Zexport-executable-symbols",
    )
    assert dict(flagged.env)["CARGO_BUILD_BUILD_DIR"] == build_dir(glibc)
    assert dict(flagged.env)["CARGO_TARGET_DIR"] == "/w/target/exe"
    assert "RUSTFLAGS" not in dict(flagged.env)


def test_flagset_digest_changes_with_rustflags(matrix: Matrix) -> None:
    from dataclasses import replace

    glibc = matrix.toolchains[0].targets[0]
    assert flagset_digest(glibc) == flagset_digest(replace(glibc))
    assert flagset_digest(glibc) != flagset_digest(replace(glibc, rustflags=("-Cdebuginfo=1",)))


def test_parse_messages_keeps_the_wanted_target_and_workspace_diagnostics(matrix: Matrix) -> None:
    lines = [
        {
            "reason": "compiler-artifact",
            "manifest_path": "/usr/src/rustc/library/std/Cargo.toml",
            "target": {"kind": ["lib"], "name": "std"},
            "filenames": ["/c/libstd.rlib"],
        },
        {
            "reason": "compiler-message",
            "manifest_path": "/src/alpha/cdy/Cargo.toml",
            "message": {
                "level": "warning",
                "message": "unused variable: `x`",
                "code": {"code": "unused_variables"},
                "rendered": "warning: unused variable\n",
            },
        },
        {
            "reason": "compiler-artifact",
            "manifest_path": "/src/alpha/cdy/Cargo.toml",
            "package_id": "path+file:///src/alpha/cdy#0.1.0",
            "target": {"kind": ["cdylib"], "name": "cdy"},
            "filenames": ["/c/libcdy.so"],
            "executable": None,
        },
        {"reason": "build-finished", "success": True},
    ]
    stdout = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    report = parse_cargo_messages(stdout, scenario="alpha", artifact=artifact(matrix, "lib"))
    assert report.filenames == ("/c/libcdy.so",)
    assert [d.headline for d in report.diagnostics] == ["warning: unused variable: `x`"]
    assert report.diagnostics[0].code == "unused_variables"
    assert report.rendered == "warning: unused variable\n"
    exe = parse_cargo_messages(stdout, scenario="alpha", artifact=artifact(matrix, "exe"))
    assert exe.filenames == ()


def test_cargo_refusals_on_stderr_become_diagnostics(matrix: Matrix) -> None:
    stderr = (
        "   Compiling cdy v0.1.0\n"
        "error: cannot produce cdylib for `cdy v0.1.0 (/src/alpha/cdy)` as the target "
        "`x86_64-unknown-linux-musl` does not support these crate types\n"
    )
    report = parse_cargo_messages(
        "", scenario="alpha", artifact=artifact(matrix, "lib"), stderr=stderr
    )
    assert [d.level for d in report.diagnostics] == ["error"]
    assert "does not support these crate types" in report.diagnostics[0].message
    assert report.rendered == ""
