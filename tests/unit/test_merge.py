"""`linkmatrix merge`: shards combine into the unsharded results; inconsistent ones are refused."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import main
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.errors import ResultsError
from orchestrator.plan import Cell, Shard, make_plan
from orchestrator.results.codec import load_results, stored_data
from orchestrator.results.document import ResultsFile
from orchestrator.results.merge import merge_documents, read_shard
from orchestrator.results.model import CellRecord, ResultsDocument, Selection
from orchestrator.status import Reason, Status
from tests.unit.conftest import SCENARIO, ProjectFactory
from tests.unit.test_schema import assert_valid_results, load_sample, load_sample_data

NOT_ON_WASM = """\
description: a scenario that does not apply to wasm
not_applicable:
  - when: { toolchain: wasm }
    reason: no wasm here
artifacts:
  - name: lib
    package: cdy
    target_kind: lib
    crate_type: cdylib
checks:
  - artifact: lib
    exports: { includes: [answer] }
"""


@pytest.fixture
def three_scenarios(make_project: ProjectFactory) -> Matrix:
    return load_matrix(
        make_project(scenarios={"alpha": SCENARIO, "beta": SCENARIO, "gamma": NOT_ON_WASM})
    )


def record_for(cell: Cell, template: CellRecord) -> CellRecord:
    """A real cell record (from the sample) moved to `cell`; its verdict depends on its id only."""
    record = dataclasses.replace(
        template,
        id=cell.id,
        toolchain=cell.toolchain,
        release=cell.release,
        target=cell.target,
        scenario=cell.scenario,
        log=f"logs/{cell.slug}.log",
    )
    if cell.not_applicable:
        return dataclasses.replace(
            record,
            status=Status.NOT_APPLICABLE,
            reason=Reason.NOT_APPLICABLE,
            detail=cell.not_applicable,
            artifacts=(),
            checks=(),
            runs=(),
            diagnostics=(),
            log=None,
        )
    verdicts = [
        (Status.PASS, None),
        (Status.FAIL, Reason.SYMBOL_MISSING),
        (Status.XFAIL, Reason.KNOWN_UPSTREAM),
    ]
    status, reason = verdicts[hashlib.sha256(cell.id.encode()).digest()[0] % len(verdicts)]
    return dataclasses.replace(record, status=status, reason=reason)


def run_results(matrix: Matrix, out: Path, shard: Shard | None = None) -> Path:
    """What `linkmatrix run [--shard]` would write for `matrix`, without an engine."""
    template = next(c for c in load_sample().cells if c.status is Status.PASS and c.artifacts)
    plan = make_plan(matrix, shard=shard)
    results = ResultsFile(
        path=out / "results.json",
        matrix=str(matrix.path),
        selection=Selection(only=(), shard=f"{shard.index}/{shard.count}" if shard else None),
        run_id=f"run{shard.index if shard else 0}",
    )
    for cell in plan.cells:
        record = record_for(cell, template)
        results.add(record)
        if record.log:
            (out / record.log).parent.mkdir(parents=True, exist_ok=True)
            (out / record.log).write_text(f"== build {cell.id} ==\n", encoding="utf-8")
    results.finish()
    return results.path


def verdicts(document: ResultsDocument) -> list[tuple[str, Status, Reason | None]]:
    return [(c.id, c.status, c.reason) for c in document.cells]


def test_two_shards_merge_into_the_unsharded_results(
    three_scenarios: Matrix, tmp_path: Path
) -> None:
    whole = load_results(run_results(three_scenarios, tmp_path / "whole"))
    shards = [
        run_results(three_scenarios, tmp_path / f"shard-{i}", Shard(index=i, count=2))
        for i in (1, 2)
    ]
    merged = merge_documents([read_shard(path) for path in shards])
    assert verdicts(merged) == verdicts(whole)
    assert merged.summary == whole.summary
    assert {c.status for c in merged.cells} >= {Status.PASS, Status.FAIL, Status.NOT_APPLICABLE}
    assert [m.run_id for m in merged.provenance.merged_from or ()] == ["run1", "run2"]
    assert merged.provenance.selection == Selection(only=(), shard=None, baseline=None)
    assert_valid_results(stored_data(merged))


def test_cli_merge_writes_results_logs_and_report(
    three_scenarios: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shards = [
        run_results(three_scenarios, tmp_path / f"shard-{i}", Shard(index=i, count=2))
        for i in (1, 2)
    ]
    out = tmp_path / "merged"
    baseline = shards[0]
    arguments = [str(shards[0]), str(shards[1].parent), "--out", str(out)]
    assert main(["merge", *arguments, "--baseline", str(baseline)]) == 0
    merged = json.loads((out / "results.json").read_text())
    assert_valid_results(merged)
    assert merged["provenance"]["selection"] == {
        "only": [],
        "shard": None,
        "baseline": str(baseline),
    }
    for record in merged["cells"]:
        if record["log"]:
            assert (out / record["log"]).read_text() == f"== build {record['id']} ==\n"
    assert {p.name for p in out.iterdir()} >= {"results.json", "index.html", "matrix.md"}
    output = capsys.readouterr()
    assert f"wrote {out / 'results.json'}" in output.out + output.err


def write(path: Path, document: dict[str, Any]) -> Path:  # raw JSON: damaged ones too
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def split_sample(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    first, second = load_sample_data(), load_sample_data()
    half = len(first["cells"]) // 2
    first["cells"], second["cells"] = first["cells"][:half], second["cells"][half:]
    return first, second


def test_merge_refuses_another_schema_version_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = split_sample(tmp_path)
    second["schema_version"] = 6
    a, b = write(tmp_path / "a.json", first), write(tmp_path / "b.json", second)
    assert main(["merge", str(a), str(b), "--out", str(tmp_path / "out")]) == 7
    error = capsys.readouterr().err
    assert f"{b}: schema_version 6; this linkmatrix reads 1, 2, 3, 4 and 5." in error
    assert not (tmp_path / "out").exists()


def test_merge_needs_a_shard() -> None:
    with pytest.raises(ResultsError, match="at least one results file"):
        merge_documents([])


def test_merge_refuses_different_matrix_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = split_sample(tmp_path)
    second["provenance"]["matrix"] = "other.yaml"
    a, b = write(tmp_path / "a.json", first), write(tmp_path / "b.json", second)
    assert main(["merge", str(a), str(b), "--out", str(tmp_path / "out")]) == 7
    error = capsys.readouterr().err
    assert "cannot merge results of different matrix files" in error
    assert "other.yaml" in error
    assert not (tmp_path / "out").exists()


def test_merge_refuses_a_cell_given_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write(tmp_path / "a.json", load_sample_data())
    b = write(tmp_path / "b.json", load_sample_data())
    assert main(["merge", str(a), str(b), "--out", str(tmp_path / "out")]) == 7
    error = capsys.readouterr().err
    first_id = load_sample().cells[0].id
    assert f"cell {first_id} is in both {a} and {b}" in error
    assert "Merge each cell's results once." in error


def test_merge_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    first, second = split_sample(tmp_path)
    a, b = write(tmp_path / "a" / "results.json", first), write(tmp_path / "b.json", second)
    assert main(["merge", str(a), str(b), "--out", str(a.parent)]) == 7
    assert json.loads(a.read_text()) == first


def test_merge_of_an_unreadable_file_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "torn.json").write_text('{"cells": [', encoding="utf-8")
    assert main(["merge", str(tmp_path / "torn.json"), "--out", str(tmp_path / "out")]) == 7
    assert "torn.json: cannot read results" in capsys.readouterr().err
