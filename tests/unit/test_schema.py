"""schema/results.schema.json describes results.json exactly: every results file we see validates.

The fixture tests/unit/fixtures/results/sample/ was cut from real runs (glibc, musl, macos,
msvc, emscripten, ptx, ...): export and import lists trimmed to a dozen names, no binaries.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from orchestrator.cell.observation import (
    ArtifactFile,
    BuildRecord,
    Diagnostic,
    NotRun,
    Observation,
    RunRecord,
    ToolInfo,
)
from orchestrator.config.matrix import Matrix
from orchestrator.inspect.model import ArtifactFormat, Inspection
from orchestrator.judge import CheckResult, Verdict
from orchestrator.plan import make_plan
from orchestrator.results.document import CellRun, ResultsFile, cell_record, unbuilt_record
from orchestrator.status import CheckOutcome, Reason, Status

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "schema" / "results.schema.json"
FIXTURES = Path(__file__).parent / "fixtures" / "results"
SAMPLE = FIXTURES / "sample" / "results.json"


@functools.cache
def results_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def assert_valid_results(document: Any) -> None:
    """Fail with every schema violation, each with its JSON path."""
    errors = sorted(results_validator().iter_errors(document), key=lambda e: e.json_path)
    assert not errors, "\n".join(f"{e.json_path}: {e.message[:300]}" for e in errors)


def load_sample() -> dict[str, Any]:
    return dict(json.loads(SAMPLE.read_text(encoding="utf-8")))


def seen_results_files() -> list[Path]:
    """The fixtures, and any results a local run left under reports/."""
    return sorted([*FIXTURES.glob("*/results.json"), *REPO.glob("reports/*/results.json")])


def test_the_schema_is_draft_2020_12() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", seen_results_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_results_file_we_see_validates(path: Path) -> None:
    assert_valid_results(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("definition", "members"),
    [
        ("status", Status),
        ("reason", Reason),
        ("check_outcome", CheckOutcome),
        ("format", ArtifactFormat),
    ],
)
def test_enumerations_match_the_code(definition: str, members: type[enum.StrEnum]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$defs"][definition]["enum"] == [m.value for m in members]


def test_summary_keys_are_the_statuses() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$defs"]["summary"]["required"] == [s.value for s in Status]


def test_a_document_written_by_the_code_validates(matrix: Matrix, tmp_path: Path) -> None:
    plan = make_plan(matrix)
    toolchains = {t.name: t for t in matrix.toolchains}
    results = ResultsFile(
        path=tmp_path / "results.json",
        matrix="matrix.yaml",
        selection={"only": [], "shard": None, "baseline": None},
        run_id="0123456789",
    )
    built = plan.cells[0]
    inapplicable = dataclasses.replace(plan.cells[1], not_applicable="not on this target")
    toolchain = toolchains[built.toolchain]
    results.add(
        cell_record(
            CellRun(
                cell=built,
                toolchain=toolchain,
                verdict=_verdict(),
                observation=_observation(),
                image_id="sha256:" + "ab" * 32,
                cached=True,
                log_path="logs/x.log",
                bootstrap=True,
            )
        )
    )
    results.add(
        unbuilt_record(
            inapplicable,
            toolchains[inapplicable.toolchain],
            status=Status.NOT_APPLICABLE,
            reason=Reason.NOT_APPLICABLE,
            detail=inapplicable.not_applicable or "",
        )
    )
    results.finish()
    assert_valid_results(json.loads(results.path.read_text(encoding="utf-8")))


def test_unknown_keys_and_statuses_are_refused() -> None:
    document = load_sample()
    document["cells"][0]["status"] = "passed"
    document["cells"][1]["colour"] = "green"
    errors = list(results_validator().iter_errors(document))
    assert {e.json_path for e in errors} == {"$.cells[0].status", "$.cells[1]"}


def _verdict() -> Verdict:
    return Verdict(
        status=Status.XFAIL,
        reason=Reason.KNOWN_UPSTREAM,
        detail="missing foo",
        checks=(
            CheckResult(
                artifact="lib",
                property="exports",
                expectation="exports: includes ['foo']",
                outcome=CheckOutcome.XFAIL,
                detail="missing foo",
                why="what users want",
                xfail_reason="rustc does not re-export native symbols",
                xfail_link="https://github.com/rust-lang/rfcs/pull/3556",
            ),
        ),
    )


def _observation() -> Observation:
    inspection = Inspection(
        format=ArtifactFormat.ELF,
        exports=("answer",),
        imports=("malloc",),
        needed=("libc.so.6",),
        interpreter=None,
        static=False,
        machine="x86_64",
        file_type="shared-library",
    )
    library = ArtifactFile(
        file="liba.so",
        path="artifacts/x/lib/liba.so",
        source="/t/liba.so",
        sha256="cd" * 32,
        size=1234,
        inspection=inspection,
    )
    archive = ArtifactFile(
        file="liba.a",
        path="artifacts/x/lib/liba.a",
        source="/t/liba.a",
        sha256="ef" * 32,
        size=99,
        inspection=Inspection.empty(ArtifactFormat.ARCHIVE, file_type="archive"),
    )
    build = BuildRecord(
        name="lib",
        package="cdy",
        target_kind="lib",
        crate_type="cdylib",
        command=("cargo", "rustc", "--lib"),
        env=(("RUSTC_BOOTSTRAP", "1"),),
        exit_code=0,
        duration_s=1.5,
        diagnostics=(
            Diagnostic(level="warning", message="unused", code=None, rendered="warning: unused"),
        ),
        files=(library, archive),
        primary="liba.so",
    )
    run = RunRecord(
        name="run",
        artifact="lib",
        command=("wasmtime", "x"),
        exit_code=None,
        stdout="",
        stderr="",
        duration_s=0.0,
        not_run=NotRun.NO_RUNNER,
    )
    return Observation(
        tools=ToolInfo(
            rustc="rustc 1.96.0", cargo="cargo 1.96.0", llvm="22.1.8", linker_version="2.40"
        ),
        builds=(build,),
        runs=(run,),
        failure=None,
        log="== build ==\n",
        duration_s=2.0,
    )
