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

from orchestrator.estimate import EstimateTrace, Estimator, ImageKind, Priors

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
    scalars = {name: value for name, value in overrides.items() if name in SCALAR_PRIORS}
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
