"""The estimator's trace: every event and every total asked, kept in order, round-tripped.

A cold run costs ~40 minutes; tuning the estimate offline rests on its trace holding all the
estimator was told, in the order that made its figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
)
from orchestrator.serial import DataError
from tests.unit.test_estimate import Event, small_work


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
