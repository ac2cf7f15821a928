"""results.json is written atomically and renders to Markdown; images are tagged by content."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config.matrix import Runner, TargetSpec, Toolchain
from orchestrator.errors import ResultsError
from orchestrator.images.tags import image_tag
from orchestrator.report import write_views
from orchestrator.report.markdown import render_markdown
from orchestrator.results.codec import encode, encode_v1, load_results, runs, write_results
from orchestrator.results.document import CellRun, ResultsFile, cell_record, unbuilt_record
from orchestrator.results.merge import ShardResults, merge_documents
from orchestrator.results.model import (
    SCHEMA_VERSION,
    ArtifactRecord,
    CellRecord,
    ResultsDocument,
    RunnerRecord,
    Selection,
)
from orchestrator.serial import write_json_atomic
from orchestrator.status import Reason, Status
from tests.unit import results_inputs as inputs
from tests.unit.conftest import make_cell
from tests.unit.test_schema import (
    DIRECT_CELL,
    GOLDEN,
    SAMPLE,
    WINE_CELL,
    assert_valid_results,
    load_sample,
    with_runners,
)

NO_SELECTION = Selection(only=(), shard=None)


def record(cell_id: str, status: str, detail: str = "") -> CellRecord:
    """A cell that ran in an image (one that ran nothing is never worth a rewrite)."""
    made = make_cell(
        cell_id, status, None if status == "pass" else Reason.SYMBOL_MISSING, detail=detail
    )
    return dataclasses.replace(made, image="sha256:image")


def test_results_are_rewritten_after_every_cell(tmp_path: Path) -> None:
    results = ResultsFile(
        path=tmp_path / "out/results.json", matrix="m.yaml", selection=NO_SELECTION, run_id="r"
    )
    results.add(record("glibc/x86/a", "pass"))
    first = json.loads(results.path.read_text())
    assert first["schema_version"] == SCHEMA_VERSION
    assert [c["id"] for c in first["cells"]] == ["glibc/x86/a"]
    assert first["provenance"]["finished"] is None
    results.add(record("glibc/x86/b", "fail", "missing foo"))
    results.finish()
    final = json.loads(results.path.read_text())
    assert final["summary"]["pass"] == 1
    assert final["summary"]["fail"] == 1
    assert final["provenance"]["finished"]
    assert list(results.path.parent.iterdir()) == [results.path]


def test_cells_that_ran_nothing_or_were_replayed_wait_for_the_last_write(tmp_path: Path) -> None:
    results = ResultsFile(
        path=tmp_path / "results.json", matrix="m", selection=NO_SELECTION, run_id="r"
    )
    results.add(make_cell("sdk/x86/a", "skip", Reason.SDK_MISSING))  # no image: ran nothing
    results.add(dataclasses.replace(record("glibc/x86/b", "pass"), cached=True))
    assert not results.path.exists()
    results.finish()
    assert len(json.loads(results.path.read_text())["cells"]) == 2


def test_a_final_write_left_to_the_caller_happens_once(tmp_path: Path) -> None:
    results = ResultsFile(
        path=tmp_path / "results.json", matrix="m", selection=NO_SELECTION, run_id="r"
    )
    results.add(make_cell("sdk/x86/a", "skip", Reason.SDK_MISSING))
    results.finish(write=False)
    assert not results.path.exists()
    results.write_final()
    written = results.path.stat().st_mtime_ns
    assert json.loads(results.path.read_text())["provenance"]["finished"]
    results.write_final()  # already on disk: not again
    assert results.path.stat().st_mtime_ns == written


def test_a_slow_write_spaces_out_the_next_ones_finish_always_writes(tmp_path: Path) -> None:
    results = ResultsFile(
        path=tmp_path / "results.json", matrix="m", selection=NO_SELECTION, run_id="r"
    )
    results.add(record("glibc/x86/a", "pass"))  # the first cell is written at once
    results._last_write_seconds = 3600.0  # as if that write had taken an hour
    results.add(record("glibc/x86/b", "pass"))
    assert [c["id"] for c in json.loads(results.path.read_text())["cells"]] == ["glibc/x86/a"]
    results.finish()
    final = json.loads(results.path.read_text())
    assert [c["id"] for c in final["cells"]] == ["glibc/x86/a", "glibc/x86/b"]


# -- no output change: the typed code writes what the untyped code wrote ---------------------


def golden_text(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def as_written(document: ResultsDocument) -> str:
    """The text a version-1 writer put in a file (keys in order, indented as ever)."""
    return encode_v1(document)


@pytest.fixture
def golden_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in inputs.HOST.items():
        monkeypatch.setattr(f"orchestrator.results.document.platform.{name}", lambda v=value: v)


def golden_run_document(tmp_path: Path) -> ResultsDocument:
    """What the golden run.json was written from (see tests/unit/results_inputs.py)."""
    results = ResultsFile(
        path=tmp_path / "results.json",
        matrix="matrix.yaml",
        selection=Selection(only=("glibc/*", "macos/*"), shard="1/2", baseline="old/results.json"),
        run_id=inputs.RUN_ID,
        started=inputs.STARTED,
        planned=(inputs.BUILT.id, inputs.INAPPLICABLE.id, inputs.SKIPPED.id),
    )
    run = CellRun(
        cell=inputs.BUILT,
        toolchain=inputs.GLIBC,
        verdict=inputs.verdict(),
        observation=inputs.observation(),
        image_id="sha256:" + "ab" * 32,
        cached=True,
        log_path="logs/x.log",
        bootstrap=True,
    )
    results.add(cell_record(run))
    results.add(
        unbuilt_record(
            inputs.INAPPLICABLE,
            inputs.GLIBC,
            status=Status.NOT_APPLICABLE,
            reason=Reason.NOT_APPLICABLE,
            detail="not on this release",
        )
    )
    results.add(
        unbuilt_record(
            inputs.SKIPPED,
            inputs.MACOS,
            status=Status.SKIP,
            reason=Reason.SDK_MISSING,
            detail="image macos@1.96: no SDK",
        )
    )
    results.finished = inputs.FINISHED
    results.complete = True
    return results.document()


def as_a_version_1_writer_had_it(document: ResultsDocument) -> ResultsDocument:
    """`document` without what version 1 could not say: the plan, completeness, and null lists
    (an artifact that was not built had empty ones).
    """
    made = dataclasses.replace(document.provenance, planned=None, complete=None)

    def old(artifact: ArtifactRecord) -> ArtifactRecord:
        if artifact.built:
            return artifact
        return dataclasses.replace(artifact, exports=(), imports=(), needed=(), members=(), data=())

    cells = tuple(
        dataclasses.replace(cell, artifacts=tuple(map(old, cell.artifacts)))
        for cell in as_written_before_diagnostic_artifacts(document).cells
    )
    return dataclasses.replace(document, provenance=made, cells=cells)


def as_written_before_diagnostic_artifacts(document: ResultsDocument) -> ResultsDocument:
    """`document` as a writer before a diagnostic named its artifact had it (run.v3.json)."""
    cells = tuple(
        dataclasses.replace(
            cell,
            diagnostics=tuple(dataclasses.replace(d, artifact=None) for d in cell.diagnostics),
        )
        for cell in document.cells
    )
    return dataclasses.replace(document, cells=cells)


@pytest.mark.usefixtures("golden_host")
def test_a_run_writes_what_it_wrote_before_the_model_was_typed(tmp_path: Path) -> None:
    """run.json is the version-1 golden: the same document in the old form, and still read.

    Version 1 could not record the plan or say "not observed" (null) rather than an empty list.
    """
    document = as_a_version_1_writer_had_it(golden_run_document(tmp_path))
    assert as_written(document) == golden_text("run.json")
    assert load_results(GOLDEN / "run.json") == document


@pytest.mark.usefixtures("golden_host")
def test_a_run_writes_the_golden_version_5_document(tmp_path: Path) -> None:
    """run.v5.json: what write_results writes now; it reads back as the same document, and so
    do run.v4.json (the same, as version 4 wrote it), run.v3.json (written before the flaky
    status: no count of it) and run.v2.json, the same document as version 2 wrote it (no runs of
    references).
    """
    document = golden_run_document(tmp_path)
    write_results(tmp_path / "written.json", document)
    assert (tmp_path / "written.json").read_text(encoding="utf-8") == golden_text("run.v5.json")
    assert load_results(GOLDEN / "run.v5.json") == document
    assert load_results(GOLDEN / "run.v4.json") == document
    assert load_results(GOLDEN / "run.v3.json") == as_written_before_diagnostic_artifacts(document)
    # version 2 could no more record the plan or null lists than version 1
    assert load_results(GOLDEN / "run.v2.json") == as_a_version_1_writer_had_it(document)


def test_version_3_stores_each_name_once_and_reads_back_the_same(tmp_path: Path) -> None:
    sample = load_sample()
    data = json.loads(encode(sample))
    names = data["symbols"]["names"]
    assert len(names) == len(set(names))
    artifact = sample.cells[8].artifacts[1]
    assert artifact.exports is not None
    stored = data["cells"][8]["artifacts"][1]
    assert [names[i] for i in unrun(stored["exports"])] == list(artifact.exports)
    pairs = {names[m]: names[r] for m, r in data["symbols"]["demangled"]}
    assert "demangled" not in stored  # derived from the exports and symbols.demangled
    assert {e: pairs[e] for e in artifact.exports if e in pairs} == artifact.demangled
    assert len(encode(sample)) < len(
        encode_v1(sample)
    )  # the sample trims its lists: little is shared
    (tmp_path / "results.json").write_text(encode(sample), encoding="utf-8")
    assert load_results(tmp_path / "results.json") == sample


def unrun(stored: list[Any]) -> list[int]:
    """The indices a stored list holds, [first, count] runs spelled out."""
    return [
        i
        for ref in stored
        for i in (range(ref[0], ref[0] + ref[1]) if isinstance(ref, list) else [ref])
    ]


def test_runs_of_consecutive_references_are_stored_as_first_and_count() -> None:
    assert runs([]) == []
    assert runs([4, 5]) == [4, 5]  # a run of two is no smaller as a pair
    assert runs([7, 1, 2, 3, 9, 10, 11, 12, 0]) == [7, [1, 3], [9, 4], 0]
    assert unrun(runs([7, 1, 2, 3, 9, 10, 11, 12, 0])) == [7, 1, 2, 3, 9, 10, 11, 12, 0]


def test_a_run_that_is_not_first_and_count_is_a_damaged_file(tmp_path: Path) -> None:
    data = json.loads(encode(load_sample()))
    cell = next(c for c in data["cells"] if any(a["exports"] for a in c["artifacts"]))
    next(a for a in cell["artifacts"] if a["exports"])["exports"] = [[1, 2, 3]]
    (tmp_path / "results.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResultsError, match=r"\[1, 2, 3\] is not an index of symbols.names"):
        load_results(tmp_path / "results.json")


def test_an_artifact_whose_names_differ_from_the_derivation_keeps_its_own(
    tmp_path: Path,
) -> None:
    """Two artifacts export the same name; one has it demangled, one not: the second cannot
    be derived from the table and stores its own (empty) list.
    """
    sample = load_sample()
    c, cell = next((c, cell) for c, cell in enumerate(sample.cells) if cell.artifacts)
    first = next(a for a in cell.artifacts if a.exports)
    assert first.exports is not None
    name = first.exports[0]
    readable = dataclasses.replace(first, name="readable", demangled={name: "readable::name"})
    plain = dataclasses.replace(first, name="plain", demangled={})
    changed = dataclasses.replace(
        sample,
        cells=(
            *sample.cells[:c],
            dataclasses.replace(cell, artifacts=(readable, plain)),
            *sample.cells[c + 1 :],
        ),
    )
    stored = json.loads(encode(changed))["cells"][c]["artifacts"]
    assert "demangled" not in stored[0]
    assert stored[1]["demangled"] == []
    (tmp_path / "results.json").write_text(encode(changed), encoding="utf-8")
    assert load_results(tmp_path / "results.json") == changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("symbols"), "symbols: expected an object"),
        (lambda d: d["symbols"].update(names=[1]), "symbols.names: expected a list of strings"),
        (
            lambda d: d["cells"][8]["artifacts"][1]["exports"].append(10**6),
            "cells[8].artifacts[1].exports: 1000000 is not an index of symbols.names",
        ),
        (
            lambda d: d["cells"][8]["artifacts"][1].update(demangled=[-1]),
            "cells[8].artifacts[1].demangled: -1 is not an index of symbols.demangled",
        ),
        (
            lambda d: d["symbols"]["demangled"].append([0]),
            "symbols.demangled[",
        ),
    ],
)
def test_a_broken_symbol_reference_is_a_results_error_naming_it(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = json.loads(encode(load_sample()))
    change(data)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResultsError, match=re.escape(message)):
        load_results(path)


def test_a_merge_writes_what_it_wrote_before_plus_the_selections_baseline() -> None:
    """The golden merged.json lacks `selection.baseline`: a merge now records it as a run does.

    Its shards were the sample's cells 5-6 and 9-11, the second from another host, unfinished.
    """
    sample = load_sample()
    first = dataclasses.replace(sample, cells=sample.cells[5:7])
    second_provenance = dataclasses.replace(
        sample.provenance,
        run_id="second0000",
        host="other",
        finished=None,
        selection=Selection(only=("x/*",), shard="2/2"),
    )
    second = dataclasses.replace(sample, cells=sample.cells[9:12], provenance=second_provenance)
    merged = merge_documents(
        [
            ShardResults(path=Path("shard-1/results.json"), document=first),
            ShardResults(path=Path("shard-2/results.json"), document=second),
        ]
    )
    expected = json.loads(golden_text("merged.json"))
    expected["provenance"]["selection"]["baseline"] = None
    for shard in expected["provenance"]["merged_from"]:
        shard["selection"]["baseline"] = None
    assert as_written(merged) == json.dumps(expected, indent=2) + "\n"
    assert load_results(GOLDEN / "merged.json").cells == sample.cells[5:7] + sample.cells[9:12]


def test_the_views_render_as_before_the_model_was_typed(tmp_path: Path) -> None:
    """The sample's views, with a baseline where its failing cell passed and its first is gone."""
    folder = tmp_path / "report"
    shutil.copytree(SAMPLE.parent, folder)
    document = load_sample()
    failing = next(c for c in document.cells if c.status is Status.FAIL)
    baseline_cells = tuple(
        dataclasses.replace(c, status=Status.PASS, reason=None) if c is failing else c
        for c in document.cells[1:]
    )
    baseline = dataclasses.replace(document, cells=baseline_cells)
    paths = write_views(document, folder, baseline)
    golden_views = GOLDEN / "views"
    assert sorted(p.relative_to(folder) for p in paths) == sorted(
        p.relative_to(golden_views) for p in golden_views.rglob("*") if p.is_file()
    )
    for path in paths:
        expected = (golden_views / path.relative_to(folder)).read_text(encoding="utf-8")
        assert path.read_text(encoding="utf-8") == expected, path.name


# -- one reader: whatever is wrong with a file is a ResultsError naming it -----------------


@pytest.mark.usefixtures("golden_host")
def test_what_is_written_reads_back_the_same(tmp_path: Path) -> None:
    document = golden_run_document(tmp_path)
    write_results(tmp_path / "results.json", document)
    assert load_results(tmp_path / "results.json") == document
    sample = load_sample()
    write_results(tmp_path / "sample.json", sample)
    assert load_results(tmp_path / "sample.json") == sample


def test_an_older_document_without_the_newer_lists_reads_them_empty() -> None:
    raw = json.loads(SAMPLE.read_text(encoding="utf-8"))
    assert "members" not in raw["cells"][0]["artifacts"][0]
    artifact = load_sample().cells[0].artifacts[0]
    assert (artifact.members, artifact.data, dict(artifact.demangled)) == ((), (), {})


def running(runner: Runner | None) -> Toolchain:
    """The golden inputs' glibc toolchain, its target's files run by `runner`."""
    target = TargetSpec(
        triple=inputs.BUILT.target,
        build_std=(),
        build_std_features=(),
        rustflags=(),
        env=(),
        panic=None,
        linker_version=("ld", "--version"),
        runner=runner,
    )
    return dataclasses.replace(inputs.GLIBC, targets=(target,))


def test_a_cells_runner_is_its_targets_with_the_version_its_probe_printed() -> None:
    wine = Runner(
        command=("wine-run", "{file}"),
        file_glob="*.exe",
        version=("/usr/lib/wine/wine64", "--version"),
    )
    observation = inputs.observation()
    assert observation.tools is not None
    probed = dataclasses.replace(
        observation, tools=dataclasses.replace(observation.tools, runner_version="wine-8.0")
    )
    run = CellRun(
        cell=inputs.BUILT,
        toolchain=running(wine),
        verdict=inputs.verdict(),
        observation=probed,
        image_id=None,
        cached=False,
        log_path=None,
    )
    assert cell_record(run).runner == RunnerRecord(
        command=("wine-run", "{file}"), version="wine-8.0"
    )
    unbuilt = unbuilt_record(
        inputs.INAPPLICABLE,
        running(wine),
        status=Status.NOT_APPLICABLE,
        reason=Reason.NOT_APPLICABLE,
        detail="",
    )
    assert unbuilt.runner == RunnerRecord(command=("wine-run", "{file}"), version=None)
    assert cell_record(dataclasses.replace(run, toolchain=running(None))).runner is None


def test_runners_are_written_and_read_back_and_an_older_document_has_none(
    tmp_path: Path,
) -> None:
    raw = json.loads(SAMPLE.read_text(encoding="utf-8"))
    assert not any("runner" in cell for cell in raw["cells"])  # written before the key
    sample = load_sample()
    assert {cell.runner for cell in sample.cells} == {None}
    document = with_runners(sample)
    write_results(tmp_path / "results.json", document)
    written = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    stored = {cell["id"]: cell for cell in written["cells"]}
    assert stored[WINE_CELL]["runner"] == {
        "command": ["wine-run", "{file}"],
        "version": "wine-8.0 (Debian 8.0~repack-4)",
    }
    assert stored[DIRECT_CELL]["runner"] == {"command": ["{file}"], "version": None}
    assert "runner" not in stored["ptx/nvptx64-nvidia-cuda/ptx-kernel"]  # no runner
    assert list(stored[WINE_CELL]).index("runner") == list(stored[WINE_CELL]).index("linker") + 1
    assert load_results(tmp_path / "results.json") == document


def sample_with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    change(data)
    return data


DAMAGES: dict[str, Callable[[Path], object]] = {
    "random bytes": lambda p: p.write_bytes(bytes(range(256)) * 4),
    "torn": lambda p: p.write_text('{"schema_version": 1, "cells": [', encoding="utf-8"),
    "a list": lambda p: p.write_text("[1, 2]", encoding="utf-8"),
    "deep nesting": lambda p: p.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8"),
    "deep nesting in a cell": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d["cells"][0].update(detail=[]))).replace(
            '"detail": []', '"detail": ' + "[" * 100_000 + "]" * 100_000
        ),
        encoding="utf-8",
    ),
    "cells: 5": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d.update(cells=5))), encoding="utf-8"
    ),
    "status bogus": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d["cells"][3].update(status="bogus"))), encoding="utf-8"
    ),
    "a missing key": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d["cells"][0].pop("route"))), encoding="utf-8"
    ),
    "an unknown key": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d["provenance"].update(colour="green"))),
        encoding="utf-8",
    ),
    "a string for a number": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d["cells"][0].update(duration_s="1.5"))),
        encoding="utf-8",
    ),
    "a bool for an int": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d["summary"].update(fail=True))), encoding="utf-8"
    ),
    "a cell that is a string": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d["cells"].append("glibc/x/y"))), encoding="utf-8"
    ),
    "a number among the exports": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d["cells"][0]["artifacts"][0]["exports"].append(7))),
        encoding="utf-8",
    ),
    "a summary without every status": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d.update(summary={"pass": 1}))), encoding="utf-8"
    ),
    "a summary that is a list": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d.update(summary=[]))), encoding="utf-8"
    ),
    "null where none may be": lambda p: p.write_text(
        json.dumps(sample_with(lambda d: d["cells"][0]["linker"].update(name=None))),
        encoding="utf-8",
    ),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_results_file_is_a_results_error_naming_it(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "results.json"
    DAMAGES[damage](path)
    with pytest.raises(ResultsError) as caught:
        load_results(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_the_error_says_where_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    DAMAGES["status bogus"](path)
    with pytest.raises(ResultsError, match=r"cells\[3\]\.status: 'bogus' is not one of pass"):
        load_results(path)
    DAMAGES["a number among the exports"](path)
    with pytest.raises(
        ResultsError, match=r"cells\[0\]\.artifacts\[0\]\.exports\[\d+\]: expected str"
    ):
        load_results(path)
    DAMAGES["cells: 5"](path)
    with pytest.raises(ResultsError, match="cells: expected a list, found an integer"):
        load_results(path)


def test_a_damaged_file_exits_7_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli import main

    path = tmp_path / "results.json"
    DAMAGES["random bytes"](path)
    assert main(["report", str(path)]) == 7
    error = capsys.readouterr().err
    assert error.startswith(f"linkmatrix: error: {path}: cannot read results")
    assert "Traceback" not in error


def test_atomic_write_leaves_the_old_file_when_serialisation_fails(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json_atomic(path, {"ok": True})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": True}
    assert list(tmp_path.iterdir()) == [path]


def test_markdown_has_a_grid_a_legend_and_the_failures(tmp_path: Path) -> None:
    results = ResultsFile(
        path=tmp_path / "results.json", matrix="m", selection=NO_SELECTION, run_id="r"
    )
    results.add(record("glibc/x86/a", "pass"))
    results.add(record("wasm/w32/a", "fail", "exports: missing foo"))
    text = render_markdown(results.document())
    assert "| a | ✅ pass | ❌ fail |" in text
    assert "**Legend:**" in text
    assert "### ❌ `wasm/w32/a`: fail (symbol-missing)" in text
    assert "exports: missing foo" in text


def test_image_tag_covers_context_parent_and_args(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")

    def tag(**changes: object) -> str:
        options: dict[str, object] = {
            "name": "glibc",
            "context": tmp_path,
            "parent_id": "sha256:1",
            "build_args": {"A": "1"},
        }
        options.update(changes)
        return image_tag(**options)  # type: ignore[arg-type]

    original = tag()
    assert original.startswith("linkmatrix/glibc:")
    assert tag() == original
    assert tag(parent_id="sha256:2") != original
    assert tag(build_args={"A": "2"}) != original
    (tmp_path / "helper.c").write_text("int x;\n")
    with_helper = tag()
    assert with_helper != original
    (tmp_path / "fetched").mkdir()
    (tmp_path / "fetched" / "wheel.whl").write_text("downloaded from fetch.yaml pins")
    assert tag() == with_helper


def legacy(path: str, hash_: str) -> tuple[str, str]:
    """A legacy-mangled name and its readable form, which repeats its hash."""
    parts = path.split("::")
    mangled = "_ZN" + "".join(f"{len(p)}{p}" for p in parts) + f"17h{hash_}E"
    return mangled, f"{path}::h{hash_}"


def test_version_5_stores_a_legacy_names_readable_stem_once_for_every_hash(
    tmp_path: Path,
) -> None:
    """std's names in two columns differ by their hash alone: the readable stem is stored once,
    each pair refers to it by a negative index, and the document reads back the same.
    """
    sample = load_sample()
    columns = ("0123456789abcdef", "fedcba9876543210")
    cells = []
    for cell, hash_ in zip(sample.cells, columns, strict=False):
        pairs = dict(legacy(path, hash_) for path in ("std::io::stdio::_print", "core::fmt::write"))
        pairs["_RNvCs1234_3foo3bar"] = "foo::bar"  # v0: no hash in the readable form
        artifact = (
            dataclasses.replace(cell.artifacts[0], exports=tuple(pairs), demangled=pairs)
            if cell.artifacts
            else None
        )
        if artifact is not None:
            cells.append(dataclasses.replace(cell, artifacts=(artifact,)))
    assert len(cells) == 2
    document = dataclasses.replace(sample, cells=tuple(cells))
    write_results(tmp_path / "results.json", document)
    stored = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    names = stored["symbols"]["names"]
    assert names.count("std::io::stdio::_print") == 1
    assert not any(name.startswith("std::io::stdio::_print::h") for name in names)
    assert sum(readable < 0 for _, readable in stored["symbols"]["demangled"]) == 4
    assert_valid_results(stored)
    assert load_results(tmp_path / "results.json") == document


def test_a_stem_reference_needs_a_legacy_mangled_name(tmp_path: Path) -> None:
    write_results(tmp_path / "results.json", load_sample())
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    data["symbols"]["names"] += ["_RNvCs1234_3foo3bar", "foo::bar"]
    v0 = len(data["symbols"]["names"]) - 2
    data["symbols"]["demangled"].append([v0, -1 - (v0 + 1)])
    (tmp_path / "results.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResultsError, match="has no legacy hash"):
        load_results(tmp_path / "results.json")
