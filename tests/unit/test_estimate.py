"""The console's estimate of a run's total: sensible from the start, converging, learning.

A run is simulated here on a "true" set of durations, in the order a real one tells the
estimator: images as the image thread passes them, cells as they finish, groups one at a time
and each after its image. No Docker, no clocks.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.config.matrix import Matrix, load_matrix
from orchestrator.estimate import (
    PRIORS,
    SCALE_SLACK_S,
    CellDone,
    CellSeconds,
    CellWork,
    Durations,
    Estimator,
    GroupWork,
    ImageBuild,
    ImageKind,
    ImagesDone,
    StdDone,
    StdSeconds,
    Work,
    load_durations,
    plan_work,
    save_durations,
    std_id,
)
from orchestrator.images.build import ImageNeeds
from orchestrator.images.lineage import lineage
from orchestrator.images.volumes import cache_volume
from orchestrator.phases import Phases, estimate_error
from orchestrator.plan import make_plan

REPO = Path(__file__).resolve().parents[2]
SDK_IMAGES = ("msvc-xwin", "macos-sdk")  # need the user's SDK: skipped on a plain machine


def cold_needs(matrix: Matrix, images: tuple[str, ...]) -> ImageNeeds:
    """What Images.needs says on an empty engine: the base, then every image, parents first."""
    needs = ImageNeeds(to_build=[f"base ({matrix.base.tag})"])
    for image in images:
        for step in lineage(matrix, image):
            if step in SDK_IMAGES:
                needs.sdk_missing.append(step)
            elif step not in needs.to_build:
                needs.to_build.append(step)
    return needs


@pytest.fixture(scope="module")
def whole_matrix() -> Work:
    """The repository's whole matrix on a cold engine, no history: ~230 cells to build."""
    matrix = load_matrix(REPO / "matrix.yaml")
    plan = make_plan(matrix)
    return plan_work(plan, matrix, cold_needs(matrix, plan.images), Durations(), fresh=False)


@dataclass(frozen=True)
class Truth:
    """What a run's work really takes (seconds)."""

    image: Callable[[ImageBuild], float]
    cell: Callable[[CellWork], float]
    std: Callable[[GroupWork, str], float]


def measured_like(seed: int, scale: float = 1.0) -> Truth:
    """Durations spread like the measured cold run's, times `scale`: each image, std build
    and cell its prior (measured on that run, per name) times a random factor, so that one
    cell differs from its toolchain's mean by up to half, an image or std build by 30 %.
    """
    rng = random.Random(seed)
    images: dict[str, float] = {}
    stds: dict[tuple[str, str, str], float] = {}
    cells: dict[str, float] = {}

    def image(build: ImageBuild) -> float:
        noise = images.setdefault(build.name, rng.uniform(0.7, 1.3))
        return scale * noise * PRIORS.image(build)

    def cell(work: CellWork) -> float:
        noise = cells.setdefault(work.id, rng.uniform(0.5, 1.5))
        return scale * noise * PRIORS.cell(work.toolchain)

    def std(group: GroupWork, key: str) -> float:
        noise = stds.setdefault((group.image, group.release, key), rng.uniform(0.7, 1.3))
        return scale * noise * PRIORS.std(group.image)

    return Truth(image=image, cell=cell, std=std)


def spread_anyhow(seed: int) -> Truth:
    """Durations with the measured run's ranges but none of its structure: any image 50-225 s,
    any std build 25-90 s, any cell 1.5-5 s, whatever the priors say of its name (a machine
    whose costs are ordered otherwise).
    """
    rng = random.Random(seed)
    images: dict[str, float] = {}
    stds: dict[tuple[str, str, str], float] = {}
    cells: dict[str, float] = {}

    def image(build: ImageBuild) -> float:
        spans = {ImageKind.BASE: (35, 55), ImageKind.PARENT: (190, 250)}
        low, high = spans.get(build.kind, (50, 225))
        return images.setdefault(build.name, rng.uniform(low, high))

    def cell(work: CellWork) -> float:
        return cells.setdefault(work.id, rng.uniform(1.5, 5.0))

    def std(group: GroupWork, key: str) -> float:
        return stds.setdefault((group.image, group.release, key), rng.uniform(25, 90))

    return Truth(image=image, cell=cell, std=std)


Event = tuple[float, int, ImagesDone | CellDone]


def timeline(work: Work, truth: Truth) -> tuple[list[Event], float]:
    """The events of a run of `work` on `truth`, in time order, and its wall time."""
    done_at = [0.0]
    for build in work.images:
        done_at.append(done_at[-1] + truth.image(build))
    events: list[Event] = []
    told, passed = 0, set()
    for group in work.groups:  # the image thread passes the groups' images in plan order
        if group.image in passed:
            continue
        passed.add(group.image)
        built = tuple((b.name, truth.image(b)) for b in work.images[told : group.after])
        events.append((done_at[group.after], 0, ImagesDone(image=group.image, built=built)))
        told = max(told, group.after)
    clock = 0.0
    for group in work.groups:
        clock = max(clock, done_at[group.after])
        seen: set[str] = set(group.std_present)
        for cell in group.cells:
            if group.skipped:
                events.append(
                    (clock, 1, CellDone(id=cell.id, seconds=0.0, cached=False, image_id=None))
                )
                continue
            std = None
            if cell.std is not None and cell.std not in seen:
                seen.add(cell.std)
                std = StdDone(key=cell.std, seconds=truth.std(group, cell.std))
            seconds = truth.cell(cell) + (std.seconds if std else 0.0)
            clock += seconds
            done = CellDone(id=cell.id, seconds=seconds, cached=False, image_id="sha256:i", std=std)
            events.append((clock, 1, done))
    return sorted(events, key=lambda e: (e[0], e[1])), clock


def replay(estimator: Estimator, events: list[Event]) -> list[tuple[float, float]]:
    """Feed the events; the predicted total after each cell, as the pipeline keeps it."""
    trajectory = []
    for at, _, event in events:
        if isinstance(event, ImagesDone):
            estimator.images_passed(event, at)
        else:
            estimator.cell_finished(event, at)
            trajectory.append((at, estimator.total(at)))
    return trajectory


def test_a_cold_whole_matrix_starts_near_the_half_hour_it_takes(whole_matrix: Work) -> None:
    runnable = [c for g in whole_matrix.groups if not g.skipped for c in g.cells]
    assert 200 <= len(runnable) <= 300  # near the shape the priors were measured on (230)
    assert len(whole_matrix.images) == 11  # base, rust and nine toolchain images
    first = Estimator(whole_matrix, Durations(), started=0.0).total(0.0)
    # measured: 32.6 min (README, "Cost"); the naive estimate said 1,429 min
    assert 25 * 60 <= first <= 45 * 60


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_cold_run_like_the_measured_one_stays_within_30_percent(
    whole_matrix: Work, seed: int
) -> None:
    events, wall = timeline(whole_matrix, measured_like(seed))
    trajectory = replay(Estimator(whole_matrix, Durations(), started=0.0), events)
    assert estimate_error(trajectory, wall, after_s=120.0) <= 0.30


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_run_whose_costs_are_ordered_otherwise_stays_within_30_percent(
    whole_matrix: Work, seed: int
) -> None:
    events, wall = timeline(whole_matrix, spread_anyhow(seed))
    trajectory = replay(Estimator(whole_matrix, Durations(), started=0.0), events)
    assert estimate_error(trajectory, wall, after_s=120.0) <= 0.30


def test_on_a_slower_machine_the_estimate_converges_on_what_the_run_shows(
    whole_matrix: Work,
) -> None:
    events, wall = timeline(whole_matrix, measured_like(4, scale=1.6))
    estimator = Estimator(whole_matrix, Durations(), started=0.0)
    assert abs(estimator.total(0.0) - wall) / wall > 0.25  # the priors are a faster machine's ...
    trajectory = replay(estimator, events)
    # ... the run's scale and its own means correct them: the second half within 15 %
    late = [point for point in trajectory if point[0] >= wall / 2]
    assert estimate_error(late, wall, after_s=0.0) <= 0.15


@pytest.mark.parametrize(("seed", "scale"), [(6, 0.6), (7, 2.0)])
def test_on_a_machine_faster_or_slower_than_the_priors_it_stays_within_30_percent(
    whole_matrix: Work, seed: int, scale: float
) -> None:
    # one scale for images, std and cells, learned from the first images and cells
    events, wall = timeline(whole_matrix, measured_like(seed, scale=scale))
    trajectory = replay(Estimator(whole_matrix, Durations(), started=0.0), events)
    assert estimate_error(trajectory, wall, after_s=120.0) <= 0.30


def test_a_second_run_with_the_first_ones_history_predicts_what_the_first_took(
    whole_matrix: Work,
) -> None:
    truth = measured_like(5, scale=0.5)
    events, wall = timeline(whole_matrix, truth)
    first = Estimator(whole_matrix, Durations(), started=0.0)
    replay(first, events)
    # the same plan again from scratch (the engine emptied): the history knows every duration
    again = Estimator(whole_matrix, first.learned, started=0.0)
    assert again.total(0.0) == pytest.approx(wall, rel=0.02)
    assert abs(Estimator(whole_matrix, Durations(), started=0.0).total(0.0) - wall) / wall > 0.2


def small_work(*, images: int = 1, cells: int = 3, std: str | None = "k") -> Work:
    builds = tuple(ImageBuild(name=f"img{i}", kind=ImageKind.TOOLCHAIN) for i in range(images))
    group = GroupWork(
        image=f"img{images - 1}",
        release="1.96",
        cells=tuple(
            CellWork(id=f"t/x/s{i}", toolchain="t", std=std, cached=False) for i in range(cells)
        ),
        after=images,
        skipped=False,
    )
    return Work(images=builds, groups=(group,))


def test_a_group_waits_for_its_image_and_pays_its_std_once() -> None:
    estimator = Estimator(small_work(), Durations(), started=0.0)
    expected = PRIORS.image_s[ImageKind.TOOLCHAIN] + PRIORS.std_s + 3 * PRIORS.cell_s
    assert estimator.left(0.0) == pytest.approx(expected)
    # overdue: the image building now is taken as about to end, not as already done
    assert estimator.left(1000.0) == pytest.approx(PRIORS.std_s + 3 * PRIORS.cell_s)


def test_a_cell_that_built_std_leaves_the_others_without_it() -> None:
    estimator = Estimator(small_work(images=0), Durations(), started=0.0)
    std = StdDone(key="k", seconds=50.0)
    estimator.cell_finished(
        CellDone(id="t/x/s0", seconds=53.0, cached=False, image_id="i", std=std), 53.0
    )
    # this run's mean (std excluded), drawn toward the prior, scaled by the run so far (std
    # and cell seen against their priors), as if it had been seen 3 times
    seen, expected = 50.0 + 3.0, PRIORS.std_s + PRIORS.cell_s
    scale = (seen + SCALE_SLACK_S) / (expected + SCALE_SLACK_S)
    assert estimator.left(53.0) == pytest.approx(2 * (3.0 + 3 * PRIORS.cell_s * scale) / 4)


def test_history_of_a_present_image_marks_cells_cached_and_std_present(matrix: Matrix) -> None:
    plan = make_plan(matrix, only=["wasm/*"])
    unknown = plan_work(plan, matrix, ImageNeeds(), Durations(), fresh=False)
    keys = {cell.std for group in unknown.groups for cell in group.cells if cell.std}
    assert len(keys) == 1  # one wasm target: one std
    history = Durations(
        cells={cell.id: CellSeconds(seconds=9.0, image_id="sha256:w") for cell in plan.cells},
        std={
            std_id("wasm", "1.96", k): StdSeconds(seconds=80.0, image_id="sha256:w") for k in keys
        },
    )
    needs = ImageNeeds(present={"tag": "sha256:w"}, ids={"wasm": "sha256:w"})
    work = plan_work(plan, matrix, needs, history, fresh=False)
    assert work.images == ()
    assert all(cell.cached for cell in work.groups[0].cells)
    assert work.groups[0].std_present  # built in this very image's volume
    assert Estimator(work, history, started=0.0).left(0.0) == pytest.approx(
        len(plan.groups[0].cells) * PRIORS.cached_s
    )
    fresh = plan_work(plan, matrix, needs, history, fresh=True)
    assert not any(cell.cached for cell in fresh.groups[0].cells)
    rebuilt = plan_work(plan, matrix, ImageNeeds(to_build=["wasm"]), history, fresh=False)
    assert not rebuilt.groups[0].std_present and not rebuilt.groups[0].cells[0].cached


def test_the_history_learns_as_the_run_goes_and_saves_each_change(tmp_path: Path) -> None:
    saved: list[Durations] = []
    estimator = Estimator(small_work(), Durations(), started=0.0, on_learn=saved.append)
    estimator.images_passed(ImagesDone(image="img0", built=(("img0", 70.0),)), 70.0)
    std = StdDone(key="k", seconds=50.0)
    estimator.cell_finished(
        CellDone(id="t/x/s0", seconds=55.0, cached=False, image_id="i", std=std), 125.0
    )
    estimator.cell_finished(
        CellDone(id="t/x/s1", seconds=0.1, cached=True, image_id="i", stored_s=4.0), 125.1
    )
    assert len(saved) == 3
    learned = saved[-1]
    assert learned.images == {"img0": 70.0}
    assert learned.std[std_id("img0", "1.96", "k")] == StdSeconds(seconds=50.0, image_id="i")
    assert learned.cells["t/x/s0"] == CellSeconds(seconds=5.0, image_id="i")
    assert learned.cells["t/x/s1"] == CellSeconds(seconds=4.0, image_id="i")  # its build's
    # replayed again as last time: nothing new, nothing written (a warm run writes nothing)
    estimator.cell_finished(CellDone(id="t/x/s1", seconds=0.1, cached=True, image_id="i"), 125.2)
    assert len(saved) == 3
    path = tmp_path / "durations.json"
    save_durations(path, learned)
    assert load_durations(path) == learned


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"images": {"x": "slow"}}', '{"cells": 1}', '{"what": {}}']
)
def test_a_damaged_history_is_no_history(tmp_path: Path, text: str) -> None:
    path = tmp_path / "durations.json"
    path.write_text(text)
    assert load_durations(path) == Durations()
    assert load_durations(tmp_path / "absent.json") == Durations()
    path.write_bytes(b"\xff\xfe")
    assert load_durations(path) == Durations()


def test_phases_keep_about_a_hundred_estimates_and_the_worst_error() -> None:
    phases = Phases()
    for finished in range(1, 443):
        phases.track_estimate(finished=finished, cells=442, elapsed=finished, total=600.0)
    assert 90 <= len(phases.estimates) <= 110
    assert phases.estimates[0][0] == 1.0 and phases.estimates[-1][0] == 442.0
    assert json.loads(json.dumps(phases.estimates))[0] == [1.0, 600.0]
    points = [(10.0, 1000.0), (130.0, 700.0), (400.0, 520.0)]
    assert estimate_error(points, 500.0, after_s=120.0) == pytest.approx(0.4)
    assert estimate_error([], 500.0, after_s=120.0) == 0.0


def test_a_cell_that_found_std_in_the_volume_leaves_the_others_without_it() -> None:
    # no history (a new cache folder), the engine's volume already holding the sysroot
    estimator = Estimator(small_work(images=0), Durations(), started=0.0)
    assert estimator.left(0.0) == pytest.approx(PRIORS.std_s + 3 * PRIORS.cell_s)
    estimator.cell_finished(CellDone(id="t/x/s0", seconds=3.0, cached=False, image_id="i"), 3.0)
    assert estimator.left(3.0) < PRIORS.std_s  # two cells left, and no std build


def test_the_engines_volumes_say_where_std_is_whatever_the_history(matrix: Matrix) -> None:
    """A kept engine with a new cache folder (no history): its volumes hold std; a pruned
    volume holds none, whatever an old history says.
    """
    plan = make_plan(matrix, only=["wasm/*"])
    needs = ImageNeeds(present={"tag": "sha256:w"}, ids={"wasm": "sha256:w"})
    kept = frozenset({cache_volume("sha256:w", "1.96")})
    work = plan_work(plan, matrix, needs, Durations(), fresh=False, volumes=kept)
    assert work.groups[0].std_present  # no history, but the volume is there
    assert plan_work(plan, matrix, needs, Durations(), fresh=False).groups[0].std_present == ()
    keys = {cell.std for cell in work.groups[0].cells if cell.std}
    history = Durations(
        std={std_id("wasm", "1.96", k): StdSeconds(seconds=80.0, image_id="sha256:w") for k in keys}
    )
    pruned = plan_work(plan, matrix, needs, history, fresh=False, volumes=frozenset())
    assert pruned.groups[0].std_present == ()
    with_std = Estimator(work, Durations(), started=0.0).total(0.0)
    without = Estimator(pruned, history, started=0.0).total(0.0)
    assert with_std < without  # the std build is charged only where the volume is gone
