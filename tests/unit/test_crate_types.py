"""An artifact of several crate types (`crate_types:`), built as its Cargo.toml declares them.

The user who lists `crate-type = ["cdylib", "rlib"]` gets rustc's "dropping unsupported crate
type" warning and no cdylib where the target cannot have one, not cargo's refusal of a
`--crate-type` override; each crate type has its own file and `built`, and a leftover rlib is
not the artifact.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.cell.cargo import cargo_invocation
from orchestrator.cell.observation import (
    ArtifactFile,
    BuildRecord,
    BuiltFile,
    CrateTypeFile,
    Diagnostic,
    Observation,
)
from orchestrator.cell.runner import crate_type_files
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.config.scenario import CrateType
from orchestrator.errors import ConfigError
from orchestrator.inspect.model import ArtifactFormat, Inspection
from orchestrator.judge import judge
from orchestrator.plan import all_cells, cell_work
from orchestrator.report.html import render_index
from orchestrator.results.codec import encode
from orchestrator.results.document import CellRun, cell_record
from orchestrator.status import CheckOutcome, Reason, Status
from tests.unit.conftest import ProjectFactory, make_document
from tests.unit.results_inputs import GLIBC
from tests.unit.test_schema import assert_valid_results

SCENARIO = """\
description: a library built as cdylib and rlib
artifacts:
  - name: lib
    package: cdy
    target_kind: lib
    crate_types: [cdylib, rlib]
checks:
  - artifact: lib
    crate_type: rlib
    built: true
  - artifact: lib
    crate_type: cdylib
    exports: { includes: [answer] }
"""
MANIFEST = """\
[package]
name = "cdy"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = {types}
"""
DROPPED = Diagnostic(
    level="warning",
    message="dropping unsupported crate type `cdylib` for target `x86_64-unknown-linux-musl`",
    code=None,
    rendered="",
)


def project(
    make_project: ProjectFactory, scenario: str = SCENARIO, types: str = '["cdylib", "rlib"]'
) -> Path:
    path = make_project(scenarios={"alpha": scenario})
    folder = path.parent / "scenarios" / "alpha"
    (folder / "Cargo.toml").write_text('[workspace]\nmembers = ["cdy"]\n')
    (folder / "cdy" / "src").mkdir(parents=True)
    (folder / "cdy" / "Cargo.toml").write_text(MANIFEST.format(types=types))
    (folder / "cdy" / "src" / "lib.rs").write_text("")
    return path


def error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_matrix(path)
    return str(caught.value)


@pytest.fixture
def loaded(make_project: ProjectFactory) -> Matrix:
    return load_matrix(project(make_project))


def test_crate_types_load_and_build_without_a_crate_type_override(loaded: Matrix) -> None:
    lib = loaded.scenario("alpha").artifacts[0]
    assert lib.crate_types == (CrateType.CDYLIB, CrateType.RLIB)
    assert lib.crate_type is None
    checks = loaded.scenario("alpha").checks
    assert [c.crate_type for c in checks] == [CrateType.RLIB, CrateType.CDYLIB]
    assert checks[0].describe() == "rlib: built is true"
    target = loaded.toolchains[0].targets[0]
    argv = cargo_invocation(scenario="alpha", target=target, artifact=lib, workdir="/w").argv
    assert "--crate-type" not in argv
    assert argv[argv.index("--lib") - 1] == "--message-format=json"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "crate_types: [cdylib, rlib]",
            "crate_types: [cdylib, staticlib]",
            (
                r"artifacts\[0\]\.crate_types: package 'cdy' declares crate-type = \['cdylib', "
                r"'rlib'\] in its Cargo.toml, not \['cdylib', 'staticlib'\]"
            ),
        ),
        (
            "crate_types: [cdylib, rlib]",
            "crate_types: [cdylib, rlib]\n    crate_type: cdylib",
            r"artifacts\[0\]\.crate_types: crate_types builds .* without `crate_type`",
        ),
        (
            "crate_types: [cdylib, rlib]",
            "crate_types: [cdylib, lib]",
            r"artifacts\[0\]\.crate_types\[1\]: 'lib' is not one of rlib, dylib, cdylib, staticlib",
        ),
        ("crate_types: [cdylib, rlib]", "crate_types: [rlib, rlib]", r".*listed twice"),
        ("crate_types: [cdylib, rlib]", "crate_types: [cdylib, dylib]", r".*the same file"),
        ("package: cdy", "package: other", r".*has no package 'other'"),
        (
            "    crate_type: rlib\n    built: true",
            "    crate_type: dylib\n    built: true",
            r"checks\[0\]\.crate_type: 'dylib' is not one of cdylib, rlib",
        ),
        (
            "    crate_type: rlib\n    built: true",
            "    crate_type: rlib\n    diagnostics: { includes: [x] }",
            r"checks\[0\]\.crate_type: diagnostics is the whole build's",
        ),
        (
            "    crate_type: rlib\n    built: true",
            "    crate_type: rlib\n    file: '*.rlib'\n    built: true",
            r"checks\[0\]\.crate_type: `file:` and `crate_type:` both pick",
        ),
    ],
)
def test_crate_types_that_do_not_say_what_the_manifest_does_are_refused(
    make_project: ProjectFactory, old: str, new: str, expected: str
) -> None:
    assert old in SCENARIO
    message = error(project(make_project, SCENARIO.replace(old, new)))
    assert re.search(r"scenarios/alpha/scenario\.yaml:\d+: " + expected, message), message


def test_a_check_crate_type_on_a_one_crate_type_artifact_is_refused(
    make_project: ProjectFactory,
) -> None:
    scenario = SCENARIO.replace("crate_types: [cdylib, rlib]", "crate_type: cdylib")
    message = error(project(make_project, scenario))
    assert "checks[0].crate_type: artifact 'lib' has one crate type" in message


def built(name: str, fmt: ArtifactFormat) -> BuiltFile:
    return BuiltFile(
        file=name, path=f"a/{name}", source=f"/t/{name}", sha256="0", size=1, format=fmt
    )


def test_each_crate_type_is_told_its_file_by_name_and_format() -> None:
    linux = [built("libcdy.so", ArtifactFormat.ELF), built("libcdy.rlib", ArtifactFormat.ARCHIVE)]
    assert crate_type_files((CrateType.CDYLIB, CrateType.RLIB), linux) == (
        CrateTypeFile(crate_type="cdylib", file="libcdy.so"),
        CrateTypeFile(crate_type="rlib", file="libcdy.rlib"),
    )
    # rustc dropped the cdylib (musl, +crt-static): the rlib is there, the cdylib is not
    assert crate_type_files((CrateType.CDYLIB, CrateType.RLIB), linux[1:]) == (
        CrateTypeFile(crate_type="cdylib", file=None),
        CrateTypeFile(crate_type="rlib", file="libcdy.rlib"),
    )
    # msvc: a DLL's import library is an archive, but not the staticlib
    msvc = [
        built("cdy.dll", ArtifactFormat.PE),
        built("cdy.dll.lib", ArtifactFormat.ARCHIVE),
        built("cdy.lib", ArtifactFormat.ARCHIVE),
    ]
    assert crate_type_files((CrateType.STATICLIB, CrateType.CDYLIB), msvc) == (
        CrateTypeFile(crate_type="staticlib", file="cdy.lib"),
        CrateTypeFile(crate_type="cdylib", file="cdy.dll"),
    )


def inspected(name: str, fmt: ArtifactFormat, exports: tuple[str, ...]) -> ArtifactFile:
    inspection = replace(Inspection.empty(fmt, file_type="x"), exports=exports)
    return ArtifactFile(
        file=name,
        path=f"a/{name}",
        source=f"/t/{name}",
        sha256="0" * 64,
        size=1,
        inspection=inspection,
    )


def build(*files: ArtifactFile, diagnostics: tuple[Diagnostic, ...] = ()) -> BuildRecord:
    names = {f.file for f in files}
    crate_files = (
        CrateTypeFile(crate_type="cdylib", file="libcdy.so" if "libcdy.so" in names else None),
        CrateTypeFile(crate_type="rlib", file="libcdy.rlib" if "libcdy.rlib" in names else None),
    )
    return BuildRecord(
        name="lib",
        package="cdy",
        target_kind="lib",
        crate_type=None,
        command=("cargo", "rustc", "--lib"),
        env=(),
        exit_code=0,
        duration_s=0.1,
        diagnostics=diagnostics,
        files=files,
        primary=crate_files[0].file,
        crate_files=crate_files,
    )


def seen(record: BuildRecord) -> Observation:
    return Observation(tools=None, builds=(record,), runs=(), failure=None, log="", duration_s=1.0)


SO = inspected("libcdy.so", ArtifactFormat.ELF, ("answer",))
RLIB = inspected("libcdy.rlib", ArtifactFormat.ARCHIVE, ("answer", "_ZN3cdy"))


def test_both_crate_types_built_pass_and_are_recorded_each(loaded: Matrix, tmp_path: Path) -> None:
    work = cell_work(all_cells(loaded)[0], loaded.scenario("alpha"))
    record = build(SO, RLIB)
    assert record.built
    verdict = judge(work, seen(record))
    assert verdict.status is Status.PASS, verdict
    cell = cell_record(
        CellRun(
            cell=work.cell,
            toolchain=GLIBC,
            verdict=verdict,
            observation=seen(record),
            image_id=None,
            cached=False,
            log_path=None,
        )
    )
    written = json.loads(encode(make_document(cell)))
    assert_valid_results(written)
    assert written["cells"][0]["artifacts"][0]["crate_types"][1] == {
        "crate_type": "rlib",
        "built": True,
        "file": "a/libcdy.rlib",
    }
    page = render_index(make_document(cell), tmp_path)
    assert (
        "crate types: <code>cdylib</code> built (<code>a/libcdy.so</code>), "
        "<code>rlib</code> built (<code>a/libcdy.rlib</code>)"
    ) in page
    artifact = cell.artifacts[0]
    assert artifact.kind == "cdylib,rlib"
    assert artifact.crate_types is not None
    assert [(c.crate_type, c.built, c.file) for c in artifact.crate_types] == [
        ("cdylib", True, "a/libcdy.so"),
        ("rlib", True, "a/libcdy.rlib"),
    ]


def test_a_dropped_crate_type_is_not_built_and_the_leftover_rlib_is_not_the_artifact(
    loaded: Matrix,
) -> None:
    work = cell_work(all_cells(loaded)[0], loaded.scenario("alpha"))
    record = build(RLIB, diagnostics=(DROPPED,))
    assert not record.built
    assert record.primary_file() is None
    verdict = judge(work, seen(record))
    # nothing says the cdylib may be missing: the cell errs with rustc's warning as the reason
    assert verdict.status is Status.ERROR
    assert verdict.reason is Reason.BUILD_ERROR
    assert "no file for cdylib (dropping unsupported crate type `cdylib`" in verdict.detail
    assert [c.outcome for c in verdict.checks] == [CheckOutcome.PASS, CheckOutcome.UNKNOWN]
    assert verdict.checks[1].detail == "the artifact's cdylib was not built"


def test_a_check_may_expect_one_crate_type_dropped(make_project: ProjectFactory) -> None:
    scenario = SCENARIO.replace(
        "    crate_type: cdylib\n    exports: { includes: [answer] }\n",
        "    crate_type: cdylib\n    built: false\n"
        "  - artifact: lib\n    diagnostics: { includes: ['dropping unsupported crate type'] }\n",
    )
    matrix = load_matrix(project(make_project, scenario))
    work = cell_work(all_cells(matrix)[0], matrix.scenario("alpha"))
    verdict = judge(work, seen(build(RLIB, diagnostics=(DROPPED,))))
    assert verdict.status is Status.PASS, verdict
    both = judge(work, seen(build(SO, RLIB)))
    assert both.status is Status.FAIL
    assert both.checks[1].detail == "expected built false, observed built true"
    assert both.checks[1].suggestion is not None
    assert "  crate_type: cdylib\n  built: true\n" in both.checks[1].suggestion
