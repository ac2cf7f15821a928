"""The estimator's trace: kept as it goes, written by `linkmatrix run`, replayed exactly.

A cold run costs ~40 minutes; tuning the estimate offline rests on a replay of its trace
giving what the run itself showed, so these compare totals exactly (a run started at 0).
"""

from __future__ import annotations

import importlib.util
import json
import types
from pathlib import Path

import pytest

from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.estimate import (
    CellDone,
    CellSeconds,
    CellWork,
    Durations,
    Estimator,
    GroupWork,
    ImageKind,
    ImagesDone,
    Priors,
    StdDone,
    TraceEvent,
    Work,
    load_trace,
    save_trace,
    trace_path,
)
from orchestrator.estimate_replay import measured_priors, replay, scaled, with_priors
from orchestrator.layout import Layout
from orchestrator.serial import DataError
from tests.unit.test_estimate import (
    Event,
    measured_like,
    small_work,
    timeline,
    whole_matrix,  # noqa: F401 - the fixture, shared
)
from tests.unit.test_faults import run_cli
from tests.unit.test_pipeline import toolchain_engine, write_project

REPO = Path(__file__).resolve().parents[2]


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


def test_a_replay_of_a_small_run_gives_exactly_its_totals(tmp_path: Path) -> None:
    estimator, totals = varied_run()
    path = tmp_path / "estimate-trace.json"
    save_trace(path, estimator.trace(wall_s=205.0))
    asked = replay(load_trace(path))
    assert [point.total_s for point in asked] == totals
    assert [point.recorded_s for point in asked] == totals
    assert [point.elapsed_s for point in asked] == [190.0, 190.1, 190.1, 201.3]


def test_a_replay_of_a_whole_cold_matrix_gives_exactly_its_totals(
    whole_matrix: Work,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    events, wall = timeline(whole_matrix, measured_like(7))
    estimator = Estimator(whole_matrix, Durations(), started=0.0)
    totals = drive(estimator, events)
    path = tmp_path / "estimate-trace.json"
    save_trace(path, estimator.trace(wall_s=wall))
    trace = load_trace(path)
    assert len(trace.events) == len(events) + len(totals)  # a few hundred: cheap to keep
    assert [point.total_s for point in replay(trace)] == totals


def test_a_replay_of_a_run_not_started_at_zero_differs_by_rounding_only() -> None:
    events, _ = timeline(small_work(images=2, cells=5), measured_like(3))
    started = 81_234.567  # time.monotonic() values are like this
    live = Estimator(small_work(images=2, cells=5), Durations(), started=started)
    totals = drive(live, [(started + at, order, event) for at, order, event in events])
    replayed = [point.total_s for point in replay(live.trace(wall_s=None))]
    assert replayed == pytest.approx(totals, abs=1e-6)


def test_other_priors_give_other_totals_and_unknown_ones_are_refused() -> None:
    estimator, totals = varied_run()
    trace = estimator.trace(wall_s=205.0)
    priors = with_priors(trace.priors, {"cell_s": 30.0, "image_s.toolchain": 300.0})
    assert (priors.cell_s, priors.image_s[ImageKind.TOOLCHAIN]) == (30.0, 300.0)
    assert priors.image_s[ImageKind.BASE] == trace.priors.image_s[ImageKind.BASE]
    assert priors.std_s == trace.priors.std_s == 40.0
    replayed = [point.total_s for point in replay(trace, priors)]
    # after the first cell, t/x/s2 (no history) is this run's one cell drawn toward 30 s
    assert replayed[0] > totals[0] + 15.0
    assert replayed[-1] == totals[-1] == 201.3  # nothing left: the elapsed time
    assert [point.recorded_s for point in replay(trace, priors)] == totals
    with pytest.raises(ValueError, match=r"no prior named 'image_s\.gpu'"):
        with_priors(trace.priors, {"image_s.gpu": 1.0})


# -- the replay tool -------------------------------------------------------------------------


def script(relative: str) -> types.ModuleType:
    """A script run by path (tools/, benchmarks/), as a module."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def replay_tool() -> types.ModuleType:
    return script("tools/replay_estimate.py")


def two_cell_trace(path: Path, *, wall_s: float | None) -> None:
    """Two cells of 10 s priors, no image, no std: totals that can be worked out by hand.

    At 130 s the first is done after 130 s: the run's scale is (130 + 100) / (10 + 100) (100 s
    of slack at 1), and the second's estimate this run's mean drawn toward the scaled prior as
    if seen 3 times, (130 + 3 × 10 × 230 / 110) / 4 = 48.18 s: total 178.18 s. At 200 s none is
    left: total 200 s.
    """
    cells = tuple(CellWork(id=f"t/x/s{i}", toolchain="t", std=None, cached=False) for i in (0, 1))
    group = GroupWork(image="img", release="1.96", cells=cells, after=0, skipped=False)
    estimator = Estimator(
        Work(images=(), groups=(group,)),
        Durations(),
        started=0.0,
        priors=Priors(cell_s=10.0, cells_by_toolchain={}),
    )
    for name, seconds, at in (("t/x/s0", 130.0, 130.0), ("t/x/s1", 70.0, 200.0)):
        estimator.cell_finished(CellDone(id=name, seconds=seconds, cached=False, image_id="i"), at)
        estimator.total(at)
    save_trace(path, estimator.trace(wall_s=wall_s))


def test_the_tool_prints_the_course_and_the_worst_error_after_two_minutes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "estimate-trace.json"
    two_cell_trace(path, wall_s=200.0)
    tool = replay_tool()
    assert tool.main([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{path}: 2 cells, 0 image events, 2 totals asked; the run took 3.3 min"
    assert lines[2] == "predicted total at elapsed (min), 2 of 2 asked:"
    assert lines[3] == "  2.2:   3.0     3.3:   3.3"
    # |178.18 - 200| / 200 at 130 s
    assert lines[4] == (
        "worst error after 120 s: 10.9% (3.0 min predicted at 2.2 min, for 3.3 min); "
        "the run's own: 10.9%"
    )
    assert lines[5] == "the replay gives the run's own totals (within 0.000 s)"

    # another wall: |200 - 170| / 170 at 200 s; other priors: the scale is 1, and
    # (130 + 3 * 130) / 4 = 130 s left
    assert tool.main([str(path), "--wall-s", "170", "--prior", "cell_s=130"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "cell 130 s (the run's: 10 s)" in lines[1]
    assert lines[3] == "  2.2:   4.3     3.3:   3.3"
    assert lines[4].startswith("worst error after 120 s: 52.9% (4.3 min predicted at 2.2 min")
    assert lines[4].endswith("the run's own: 17.6%")
    assert len(lines) == 5  # other priors: nothing to compare with the run's own totals


def test_the_tool_on_an_interrupted_run_and_on_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "estimate-trace.json"
    two_cell_trace(path, wall_s=None)
    tool = replay_tool()
    assert tool.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "the run did not finish" in out
    assert "no wall time to judge against (an interrupted run): give --wall-s" in out
    assert tool.main([str(path), "--prior", "warp_s=1"]) == 2
    assert "no prior named 'warp_s'" in capsys.readouterr().err
    path.write_text("{}")
    assert tool.main([str(path)]) == 2
    assert "not a readable trace" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main([str(path), "--prior", "std_s"])


# -- written by `linkmatrix run` ----------------------------------------------------------------


@pytest.fixture
def matrix(tmp_path: Path) -> Matrix:
    return load_matrix(write_project(tmp_path / "project"))


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
    asked = replay(trace)
    assert [[round(p.elapsed_s, 1), round(p.recorded_s, 1)] for p in asked] == phases["estimates"]
    assert all(p.total_s == pytest.approx(p.recorded_s, abs=1e-6) for p in asked)


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


def test_the_bench_keeps_the_first_runs_trace_and_names_it_in_the_estimate_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = script("benchmarks/bench.py")
    layout = Layout(out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    kept = tmp_path / "reports" / "bench-estimate-trace.json"
    kept.parent.mkdir()
    kept.write_text("an older bench's")
    assert bench.keep_trace(layout, kept) is None  # this run wrote none: no stale copy left
    assert not kept.exists()
    estimator, _ = varied_run()
    save_trace(trace_path(layout), estimator.trace(wall_s=205.0))
    assert bench.keep_trace(layout, kept) == kept
    assert load_trace(kept) == estimator.trace(wall_s=205.0)
    phases = {"wall_s": 205.0, "estimates": [[190.0, 190.0], [201.3, 201.3]]}
    assert bench.cold_estimate_error(phases, kept) == pytest.approx(15.0 / 205.0)
    assert (
        capsys.readouterr()
        .out.rstrip()
        .endswith(f"worst error 7%; replay: python tools/replay_estimate.py {kept}")
    )


def test_the_priors_a_trace_measured_are_its_means_per_name(tmp_path: Path) -> None:
    path = tmp_path / "estimate-trace.json"
    two_cell_trace(path, wall_s=200.0)  # toolchain t: cells of 130 s and 70 s
    fitted = measured_priors(load_trace(path))
    assert dict(fitted.cells_by_toolchain) == {"t": 100.0}
    assert fitted.cell_s == 100.0
    assert dict(fitted.std_by_image) == {} and dict(fitted.images) == {}


def test_a_scaled_trace_is_the_same_run_on_a_slower_machine(tmp_path: Path) -> None:
    path = tmp_path / "estimate-trace.json"
    two_cell_trace(path, wall_s=200.0)
    trace = load_trace(path)
    slower = scaled(trace, 2.0)
    assert slower.wall_s == 400.0
    assert [e.at_s for e in slower.events] == [2 * e.at_s for e in trace.events]
    cells = [e.cell.seconds for e in slower.events if e.cell is not None]
    assert cells == [260.0, 140.0]
    # the same priors on a machine twice as slow: the scale learned from the first cell
    # ((260 + 100) / (10 + 100)) makes the second's estimate (260 + 3 * 10 * 360 / 110) / 4
    (first, _) = replay(slower)
    assert first.total_s == pytest.approx(260 + (260 + 3 * 10 * 360 / 110) / 4)


def test_the_tool_fits_priors_and_refuses_a_scale_of_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "estimate-trace.json"
    two_cell_trace(path, wall_s=200.0)
    tool = replay_tool()
    assert tool.main([str(path), "--fit"]) == 0
    assert "cells_by_toolchain={'t': 100.0}" in capsys.readouterr().out
    assert tool.main([str(path), "--scale", "0"]) == 2
    assert "--scale 0.0: a factor above 0" in capsys.readouterr().err
