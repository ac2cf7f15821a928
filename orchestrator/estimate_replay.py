"""A run's estimate replayed from its trace (`estimate-trace.json`), to tune it offline.

A cold whole-matrix run costs ~40 minutes and gives one figure of the estimate's error; its
trace holds what the estimator was told (the work, the history, each cell and image event) and
when the pipeline asked for the total. Fed to a new Estimator in the same order, at the same
times, those inputs give the very totals the run showed; with other priors, or a changed
estimator, they give what that would have shown on the same run, in a second.

The replay's clock starts at 0: the trace's times are relative to the run's start, so its
totals equal the live ones up to float rounding (~1e-12 s), exactly for a run started at 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.estimate import (
    CellDone,
    EstimateTrace,
    Estimator,
    ImageKind,
    ImagesDone,
    Priors,
)

# The priors one may override by name: these, and `image_s.<kind>` for each ImageKind.
SCALAR_PRIORS = ("std_s", "cell_s", "cached_s")


@dataclass(frozen=True, kw_only=True)
class Asked:
    """One total the pipeline asked for: when, what the replay says, what the run said."""

    elapsed_s: float
    total_s: float
    recorded_s: float


def replay(trace: EstimateTrace, priors: Priors | None = None) -> list[Asked]:
    """The trace's events fed to a new Estimator (with `priors`, else the run's own), and its
    total at each moment the run asked for one.
    """
    estimator = Estimator(
        trace.work,
        trace.history,
        started=0.0,
        priors=trace.priors if priors is None else priors,
    )
    asked = []
    for event in trace.events:
        if event.cell is not None:
            estimator.cell_finished(event.cell, event.at_s)
        elif event.images is not None:
            estimator.images_passed(event.images, event.at_s)
        elif event.total_s is not None:
            total = estimator.total(event.at_s)
            asked.append(Asked(elapsed_s=event.at_s, total_s=total, recorded_s=event.total_s))
    return asked


def with_priors(priors: Priors, overrides: Mapping[str, float]) -> Priors:
    """`priors` with some replaced by name: `std_s`, `cell_s`, `cached_s`, `image_s.<kind>`
    (`image_s.toolchain`, …). Raises ValueError naming the ones that are not priors.
    """
    # Any: replace() checks each keyword against its field, and these name float fields only
    scalars: dict[str, Any] = {n: v for n, v in overrides.items() if n in SCALAR_PRIORS}
    images = dict(priors.image_s)
    kinds = {f"image_s.{kind.value}": kind for kind in ImageKind}
    for name, value in overrides.items():
        if name in kinds:
            images[kinds[name]] = value
        elif name not in scalars:
            known = ", ".join([*SCALAR_PRIORS, *kinds])
            raise ValueError(f"no prior named {name!r} (priors: {known})")
    return dataclasses.replace(priors, image_s=images, **scalars)


def worst_point(asked: list[Asked], wall_s: float, *, after_s: float) -> Asked | None:
    """The total asked `after_s` or later that is furthest from `wall_s`: where the worst
    error (phases.estimate_error) was made.
    """
    judged = [point for point in asked if point.elapsed_s >= after_s]
    return max(judged, key=lambda point: abs(point.total_s - wall_s), default=None)


def scaled(trace: EstimateTrace, factor: float) -> EstimateTrace:
    """The trace of the same run on a machine `factor` times as slow: every duration and every
    moment multiplied. A robustness check of the run's scale (`estimate._Scale`): the priors
    stay, the machine changes.
    """

    def cell(done: CellDone) -> CellDone:
        std = dataclasses.replace(done.std, seconds=done.std.seconds * factor) if done.std else None
        return dataclasses.replace(
            done, seconds=done.seconds * factor, stored_s=done.stored_s * factor, std=std
        )

    def images(done: ImagesDone) -> ImagesDone:
        built = tuple((name, seconds * factor) for name, seconds in done.built)
        return dataclasses.replace(done, built=built, base_s=done.base_s * factor)

    events = tuple(
        dataclasses.replace(
            event,
            at_s=event.at_s * factor,
            cell=cell(event.cell) if event.cell else None,
            images=images(event.images) if event.images else None,
            total_s=event.total_s * factor if event.total_s is not None else None,
        )
        for event in trace.events
    )
    wall_s = trace.wall_s * factor if trace.wall_s is not None else None
    return dataclasses.replace(trace, events=events, wall_s=wall_s)


def measured_priors(trace: EstimateTrace) -> Priors:
    """Priors as the trace's run measured them: each image built, each image's std builds and
    each toolchain's built cells (std excluded) as its mean; the per-kind fallbacks as the mean
    over all of them (the base and the parent image as built). What `Priors` holds comes from
    this, on a cold whole-matrix run.
    """
    toolchain = {cell.id: cell.toolchain for g in trace.work.groups for cell in g.cells}
    image = {cell.id: g.image for g in trace.work.groups for cell in g.cells}
    kinds = {build.name: build.kind for build in trace.work.images}
    cells: dict[str, list[float]] = {}
    std: dict[str, list[float]] = {}
    built: dict[str, float] = {}
    for event in trace.events:
        done = event.cell
        if done is not None and done.image_id is not None and not done.cached:
            std_s = done.std.seconds if done.std else 0.0
            cells.setdefault(toolchain[done.id], []).append(max(0.0, done.seconds - std_s))
            if done.std is not None:
                std.setdefault(image[done.id], []).append(done.std.seconds)
        if event.images is not None:
            built.update(event.images.built)
    by_kind = {kind: [s for n, s in built.items() if kinds.get(n) is kind] for kind in ImageKind}
    base = [b.name for b in trace.work.images if b.kind is ImageKind.BASE]
    if base and (base_s := _base_seconds(trace)):
        by_kind[ImageKind.BASE] = [base_s]
    return dataclasses.replace(
        trace.priors,
        image_s={kind: _mean(v, trace.priors.image_s[kind]) for kind, v in by_kind.items()},
        std_s=_mean([s for v in std.values() for s in v], trace.priors.std_s),
        cell_s=_mean([s for v in cells.values() for s in v], trace.priors.cell_s),
        images={
            n: float(round(s)) for n, s in built.items() if kinds.get(n) is ImageKind.TOOLCHAIN
        },
        std_by_image={name: _mean(v, 0.0) for name, v in std.items()},
        cells_by_toolchain={name: _mean(v, 0.0, digits=1) for name, v in cells.items()},
    )


def _base_seconds(trace: EstimateTrace) -> float:
    return max((e.images.base_s for e in trace.events if e.images is not None), default=0.0)


def _mean(values: list[float], default: float, *, digits: int = 0) -> float:
    return round(sum(values) / len(values), digits) if values else default
