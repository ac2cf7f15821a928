"""schema/results.schema.json describes results.json exactly: every results file we see validates.

The fixture tests/unit/fixtures/results/sample/ was cut from real runs (glibc, musl, macos,
msvc, emscripten, ptx, ...): export and import lists trimmed to a dozen names, no binaries.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from orchestrator.cell.observation import (
    ArtifactFile,
    Bootstrap,
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
from orchestrator.linker_output import LinkError
from orchestrator.plan import make_plan
from orchestrator.results.codec import DEMANGLED, NAME_LISTS, SYMBOLS, encode, load_results
from orchestrator.results.document import CellRun, ResultsFile, cell_record, unbuilt_record
from orchestrator.results.model import (
    SCHEMA_VERSION,
    ArtifactRecord,
    ResultsDocument,
    RunnerRecord,
    Selection,
)
from orchestrator.status import BootstrapCause, CheckOutcome, Reason, Status

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "schema" / "results.schema.json"
V1_SCHEMA_PATH = REPO / "schema" / "results-v1.schema.json"  # what older files were written in
V2_SCHEMA_PATH = REPO / "schema" / "results-v2.schema.json"
V3_SCHEMA_PATH = REPO / "schema" / "results-v3.schema.json"
V4_SCHEMA_PATH = REPO / "schema" / "results-v4.schema.json"
FIXTURES = Path(__file__).parent / "fixtures" / "results"
SAMPLE = FIXTURES / "sample" / "results.json"
GOLDEN = FIXTURES / "golden"


@functools.cache
def results_validator(version: int = SCHEMA_VERSION) -> jsonschema.protocols.Validator:
    paths = {1: V1_SCHEMA_PATH, 2: V2_SCHEMA_PATH, 3: V3_SCHEMA_PATH, 4: V4_SCHEMA_PATH}
    path = paths.get(version, SCHEMA_PATH)
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def assert_valid_results(document: Any) -> None:
    """Fail with every schema violation of the document's version, each with its JSON path."""
    validator = results_validator(document.get("schema_version", SCHEMA_VERSION))
    errors = sorted(validator.iter_errors(document), key=lambda e: e.json_path)
    assert not errors, "\n".join(f"{e.json_path}: {e.message[:300]}" for e in errors)


def load_sample_data() -> dict[str, Any]:
    """The sample results.json as parsed JSON, to edit before writing it somewhere."""
    return dict(json.loads(SAMPLE.read_text(encoding="utf-8")))


def load_sample() -> ResultsDocument:
    return load_results(SAMPLE)


def seen_results_files() -> list[Path]:
    """The fixtures, the golden documents, and any results a local run left under reports/."""
    return sorted(
        [
            *FIXTURES.glob("*/results.json"),
            *GOLDEN.glob("*.json"),
            *REPO.glob("reports/*/results.json"),
        ]
    )


def test_the_schema_is_draft_2020_12() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", seen_results_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_results_file_we_see_validates(path: Path) -> None:
    assert_valid_results(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", seen_results_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_results_file_we_see_loads(path: Path) -> None:
    # every value had its declared type; a version-1 file reads as the current version
    assert load_results(path).schema_version == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("definition", "members"),
    [
        ("status", Status),
        ("reason", Reason),
        ("check_outcome", CheckOutcome),
        ("format", ArtifactFormat),
        ("bootstrap_cause", BootstrapCause),
    ],
)
def test_enumerations_match_the_code(definition: str, members: type[enum.StrEnum]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$defs"][definition]["enum"] == [m.value for m in members]


def test_summary_keys_are_the_statuses() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$defs"]["summary"]["required"] == [s.value for s in Status]


# -- the schema and the model agree, field by field ---------------------------------------

JSON_TYPES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def test_the_schema_describes_the_model() -> None:
    """Every dataclass field is a schema property of a compatible type, in order, and back.

    Required properties are the fields without a default; null is allowed where the field
    is `X | None` (unless the key is left out instead of written as null).
    """
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    problems = _compare(ResultsDocument, schema, schema, "$")
    assert not problems, "\n".join(problems)


def test_the_schema_describes_the_symbol_table_the_codec_writes() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["properties"][SYMBOLS] == {"$ref": "#/$defs/symbols"}
    assert list(schema["$defs"]["symbols"]["properties"]) == ["names", DEMANGLED]
    artifact = schema["$defs"]["artifact"]["properties"]
    nullable = [{"$ref": "#/$defs/name_refs"}, {"type": "null"}]  # null: not observed
    assert all(artifact[key]["oneOf"] == nullable for key in NAME_LISTS)
    assert artifact[DEMANGLED]["$ref"] == "#/$defs/pair_refs"


class StoredRef:
    """A reference into the symbol table as stored: an index, or a [first, count] run."""


# What the file holds instead of a model field: references into the symbol table (codec.py).
STORED_AS: dict[tuple[type, str], Any] = {
    **{(ArtifactRecord, key): tuple[StoredRef, ...] | None for key in NAME_LISTS},
    (ArtifactRecord, DEMANGLED): tuple[StoredRef, ...],
}
# Keys the file holds beyond the model's fields.
STORED_EXTRA: dict[type, list[str]] = {ResultsDocument: [SYMBOLS]}


def test_the_comparison_finds_a_mismatch() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    schema["$defs"]["run"]["properties"]["exit_code"]["type"] = "integer"  # no null any more
    del schema["$defs"]["cell"]["properties"]["log"]
    schema["$defs"]["build"]["properties"]["duration_s"]["type"] = "string"
    problems = _compare(ResultsDocument, schema, schema, "$")
    assert any("exit_code" in p and "null" in p for p in problems), problems
    assert any("log" in p for p in problems), problems
    assert any("duration_s" in p for p in problems), problems


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def _nullable(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
    """The schema without its null alternative, or None when it allows no null."""
    kinds = node.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        rest = [k for k in kinds if k != "null"]
        return {**node, "type": rest[0] if len(rest) == 1 else rest}
    options = node.get("oneOf", [])
    if any(_resolve(o, root).get("type") == "null" for o in options):
        (rest,) = [o for o in options if _resolve(o, root).get("type") != "null"]
        return _resolve(rest, root)
    return None


def _compare(hint: Any, node: dict[str, Any], root: dict[str, Any], where: str) -> list[str]:
    node = _resolve(node, root)
    if hint is StoredRef:
        kinds = [_resolve(option, root).get("type") for option in node.get("oneOf", [])]
        return [] if kinds == ["integer", "array"] else [f"{where}: not an index or a run"]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        stripped = _nullable(node, root)
        if stripped is None:
            return [f"{where}: the model allows null, the schema does not"]
        return _compare(inner, stripped, root, where)
    if _nullable(node, root) is not None:
        return [f"{where}: the schema allows null, the model does not"]
    origin = typing.get_origin(hint)
    if origin is tuple:
        if node.get("type") != "array":
            return [f"{where}: the model has a list, the schema {node.get('type')}"]
        return _compare(typing.get_args(hint)[0], node["items"], root, f"{where}[]")
    if origin in (dict, Mapping):
        return _compare_mapping(hint, node, root, where)
    if dataclasses.is_dataclass(hint):
        return _compare_dataclass(hint, node, root, where)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if node.get("enum") != [m.value for m in hint]:
            return [f"{where}: the schema's enum is not {hint.__name__}'s values"]
        return []
    if "const" in node:
        return [] if type(node["const"]) is hint else [f"{where}: const is not a {hint}"]
    if node.get("type") != JSON_TYPES[hint]:
        return [f"{where}: the model has {hint.__name__}, the schema {node.get('type')}"]
    return []


def _compare_mapping(
    hint: Any, node: dict[str, Any], root: dict[str, Any], where: str
) -> list[str]:
    key_type, value_type = typing.get_args(hint)
    if node.get("type") != "object":
        return [f"{where}: the model has a mapping, the schema {node.get('type')}"]
    if isinstance(key_type, type) and issubclass(key_type, enum.Enum):
        keys = [m.value for m in key_type]
        if list(node["properties"]) != keys or node["required"] != keys:
            return [f"{where}: the schema's keys are not {key_type.__name__}'s values"]
        return [
            p
            for key in keys
            for p in _compare(value_type, node["properties"][key], root, f"{where}.{key}")
        ]
    return _compare(value_type, node["additionalProperties"], root, f"{where}.*")


def _compare_dataclass(
    hint: Any, node: dict[str, Any], root: dict[str, Any], where: str
) -> list[str]:
    fields = dataclasses.fields(hint)
    properties = node.get("properties", {})
    problems = []
    extra = STORED_EXTRA.get(hint, [])
    if [f.name for f in fields] + extra != list(properties):
        problems.append(f"{where}: fields {[f.name for f in fields]} != {list(properties)}")
    if node.get("additionalProperties") is not False:
        problems.append(f"{where}: the schema allows keys {hint.__name__} does not have")
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    if required | set(extra) != set(node.get("required", [])):
        problems.append(
            f"{where}: required {sorted(node.get('required', []))} != {sorted(required)}"
        )
    hints = typing.get_type_hints(hint)
    for field in fields:
        if field.name not in properties:
            continue
        field_hint = STORED_AS.get((hint, field.name), hints[field.name])
        if field.metadata.get("omit_when_none"):  # absent rather than null
            (field_hint,) = [a for a in typing.get_args(field_hint) if a is not type(None)]
        problems += _compare(field_hint, properties[field.name], root, f"{where}.{field.name}")
    return problems


def test_a_document_written_by_the_code_validates(matrix: Matrix, tmp_path: Path) -> None:
    plan = make_plan(matrix)
    toolchains = {t.name: t for t in matrix.toolchains}
    results = ResultsFile(
        path=tmp_path / "results.json",
        matrix="matrix.yaml",
        selection=Selection(only=(), shard=None, baseline=None),
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
    unlinked = plan.cells[2]
    results.add(
        cell_record(
            CellRun(
                cell=unlinked,
                toolchain=toolchains[unlinked.toolchain],
                verdict=Verdict(
                    status=Status.ERROR,
                    reason=Reason.LINK_ERROR,
                    detail="building artifact 'exe' failed (exit 101)",
                    checks=(),
                    link_error=LinkError(
                        artifact="exe",
                        message="linking with `cc` failed: exit status: 1",
                        lines=("rust-lld: error: undefined symbol: foo",),
                    ),
                ),
                observation=None,
                image_id=None,
                cached=False,
                log_path=None,
            )
        )
    )
    results.finish()
    written = json.loads(results.path.read_text(encoding="utf-8"))
    assert_valid_results(written)
    assert load_results(results.path) == results.document()
    assert [("link_error" in cell) for cell in written["cells"]].count(True) == 1
    # why RUSTC_BOOTSTRAP=1 was set, per artifact; absent where it was not
    assert written["cells"][0]["artifacts"][0]["build"]["bootstrap"] == {
        "cause": "declared",
        "why": "#![feature(abi_ptx)]",
    }
    assert written["cells"][0]["artifacts"][0]["build"]["rustflags"] == ["-C", "opt-level=1"]


def test_unknown_keys_and_statuses_are_refused() -> None:
    document = json.loads(encode(load_sample()))
    document["cells"][0]["status"] = "passed"
    document["cells"][1]["colour"] = "green"
    errors = list(results_validator().iter_errors(document))
    assert {e.json_path for e in errors} == {"$.cells[0].status", "$.cells[1]"}


WINE_CELL = "msvc/x86_64-pc-windows-msvc/cdylib-exports"
DIRECT_CELL = "glibc/x86_64-unknown-linux-gnu/cdylib-exports"
WINE = RunnerRecord(command=("wine-run", "{file}"), version="wine-8.0 (Debian 8.0~repack-4)")
DIRECT = RunnerRecord(command=("{file}",), version=None)  # the file runs itself: no probe


def with_runners(document: ResultsDocument) -> ResultsDocument:
    """The sample as a run that records runners would have it: wine's with its version, glibc's
    running the file itself; the other cells' targets have none.
    """
    cells = tuple(
        dataclasses.replace(cell, runner={WINE_CELL: WINE, DIRECT_CELL: DIRECT}.get(cell.id))
        for cell in document.cells
    )
    return dataclasses.replace(document, cells=cells)


def test_a_runner_validates_and_one_of_another_shape_is_refused() -> None:
    document = json.loads(encode(with_runners(load_sample())))
    assert_valid_results(document)
    wine, direct = (
        next(i for i, c in enumerate(document["cells"]) if c["id"] == cell_id)
        for cell_id in (WINE_CELL, DIRECT_CELL)
    )
    document["cells"][wine]["runner"]["verison"] = "8.0"
    document["cells"][direct]["runner"]["version"] = 8
    document["cells"][0]["runner"] = None  # no runner: the key is left out, never null
    errors = list(results_validator().iter_errors(document))
    assert {e.json_path for e in errors} == {
        f"$.cells[{wine}].runner",
        f"$.cells[{direct}].runner.version",
        "$.cells[0].runner",
    }


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
        bootstrap=Bootstrap(cause=BootstrapCause.DECLARED, why="#![feature(abi_ptx)]"),
        rustflags=("-C", "opt-level=1"),
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
