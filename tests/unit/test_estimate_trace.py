"""The estimator's trace: every event and every total asked, kept in order, round-tripped,
written by `linkmatrix run` beside the history.

A cold run costs ~40 minutes; tuning the estimate offline rests on its trace holding all the
estimator was told, in the order that made its figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.estimate import (
    CellDone,
    CellSeconds,
    Durations,
    Estimator,
    ImagesDone,
    Priors,
    StdDone,
    TraceEvent,
    load_trace,
    save_trace,
    trace_path,
)
from orchestrator.layout import Layout
from orchestrator.serial import DataError
from tests.unit.fake_engine import FakeEngine
from tests.unit.test_estimate import Event, small_work
from tests.unit.test_pipeline import toolchain_engine, write_project


def drive(estimator: Estimator, events: list[Event]) -> list[float]:
    """As the pipeline does: each event told, the total asked after each cell."""
    totals = []
    for at, _, event in events:
        if isinstance(event, ImagesDone):
            estimator.images_passed(event, at)
        else:
            estimator.cell_finished(event, at)
            totals.append(estimator.total(at))
    return totals


def varied_run() -> tuple[Estimator, list[float]]:
    """A small run with one of each kind of event: the base and an image built, a std build,
    a replayed cell, a cell without an image; a history that knows one cell.
    """
    work = small_work(images=2, cells=4)
    history = Durations(cells={"t/x/s3": CellSeconds(seconds=7.0, image_id="sha256:old")})
    estimator = Estimator(work, history, started=0.0, priors=Priors(std_s=40.0))
    std = StdDone(key="k", seconds=33.0)
    events: list[Event] = [
        (30.0, 0, ImagesDone(image="img0", built=(("img0", 80.0),), base_s=30.0)),
        (150.5, 0, ImagesDone(image="img1", built=(("img1", 120.5),))),
        (190.0, 1, CellDone(id="t/x/s0", seconds=39.5, cached=False, image_id="sha256:i", std=std)),
        (190.1, 1, CellDone(id="t/x/s1", seconds=0.1, cached=True, image_id="sha256:i")),
        (190.1, 1, CellDone(id="t/x/s2", seconds=0.0, cached=False, image_id=None)),
        (201.3, 1, CellDone(id="t/x/s3", seconds=11.2, cached=False, image_id="sha256:i")),
    ]
    return estimator, drive(estimator, events)


def test_the_trace_keeps_every_event_and_total_in_order_and_round_trips(tmp_path: Path) -> None:
    estimator, totals = varied_run()
    trace = estimator.trace(wall_s=205.0)
    kinds = ["cell" if e.cell else "images" if e.images else "total" for e in trace.events]
    assert kinds == ["images", "images", *["cell", "total"] * 4]
    assert [e.at_s for e in trace.events][:4] == [30.0, 150.5, 190.0, 190.0]
    assert [e.total_s for e in trace.events if e.total_s is not None] == totals
    assert (trace.work, trace.history, trace.priors.std_s) == (
        estimator.work,
        estimator.history,  # what it was made with, not what it learned since
        40.0,
    )
    path = tmp_path / "estimate-trace.json"
    save_trace(path, trace)
    assert load_trace(path) == trace
    first_cell = json.loads(path.read_text())["events"][2]
    assert set(first_cell) == {"at_s", "cell"}  # the kinds not taken are left out, not null


def test_a_trace_event_is_exactly_one_thing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one of"):
        TraceEvent(at_s=1.0, total_s=2.0, images=ImagesDone(image="x"))
    with pytest.raises(ValueError, match="one of"):
        TraceEvent(at_s=1.0)
    path = tmp_path / "estimate-trace.json"
    save_trace(path, varied_run()[0].trace(wall_s=None))
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "wall_s": "long"}))
    with pytest.raises(DataError, match="wall_s"):
        load_trace(path)
    data["events"][0]["total_s"] = 3.0  # two things at once
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="one of"):
        load_trace(path)


# -- written by `linkmatrix run` ----------------------------------------------------------------


@pytest.fixture
def matrix(tmp_path: Path) -> Matrix:
    return load_matrix(write_project(tmp_path / "project"))


def run_cli(
    monkeypatch: pytest.MonkeyPatch, engine: FakeEngine, matrix: Matrix, tmp_path: Path
) -> int:
    monkeypatch.setattr("orchestrator.engine.client.connect", lambda: engine)
    out, cache = tmp_path / "out", tmp_path / "cache"
    return main(["run", "--matrix", str(matrix.path), "--out", str(out), "--cache-dir", str(cache)])


def test_a_run_writes_its_trace_beside_the_history_judged_on_phases_wall_time(
    matrix: Matrix, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli(monkeypatch, toolchain_engine(), matrix, tmp_path) == 0
    layout = Layout(out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    assert trace_path(layout) == tmp_path / "cache" / "estimate-trace.json"
    trace = load_trace(trace_path(layout))
    phases = json.loads(layout.phases.read_text())
    assert trace.wall_s == phases["wall_s"]
    assert sum(event.cell is not None for event in trace.events) == 2
    assert sum(event.images is not None for event in trace.events) >= 1
    asked = [[round(e.at_s, 1), round(e.total_s, 1)] for e in trace.events if e.total_s is not None]
    assert asked == phases["estimates"]  # the totals the run showed, at the times it showed them


def test_an_interrupted_run_writes_its_trace_without_a_wall_time(
    matrix: Matrix, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = toolchain_engine()
    engine.fail("api.exec_create", KeyboardInterrupt(), after=7)  # in the second cell
    assert run_cli(monkeypatch, engine, matrix, tmp_path) != 0
    trace = load_trace(tmp_path / "cache" / "estimate-trace.json")
    assert trace.wall_s is None
    assert sum(event.cell is not None for event in trace.events) == 1


def test_an_unwritable_trace_costs_the_run_nothing(
    matrix: Matrix, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cache" / "estimate-trace.json").mkdir(parents=True)  # a folder in its place
    assert run_cli(monkeypatch, toolchain_engine(), matrix, tmp_path) == 0
    assert (tmp_path / "out" / "phases.json").is_file()
