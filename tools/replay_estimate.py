"""Replay a run's console estimate from its trace, to tune the estimator without a cold run.

Every `linkmatrix run` leaves `estimate-trace.json` in its cache folder (`nox -s bench` keeps
its cold run's as `reports/bench-estimate-trace.json`): what the estimator was told and when
the run asked it for the total. A cold whole-matrix run takes ~40 min; this replays it in a
second, with the run's own priors or others, or with the estimator as edited since:

    python tools/replay_estimate.py reports/bench-estimate-trace.json
    python tools/replay_estimate.py TRACE --prior std_s=60 --prior image_s.toolchain=150
    python tools/replay_estimate.py TRACE --code-priors   # this checkout's PRIORS instead
    python tools/replay_estimate.py TRACE --code-priors --scale 1.6   # a machine 1.6x as slow
    python tools/replay_estimate.py TRACE --fit   # the priors this run measured, for PRIORS

It prints the course of the predicted total and its worst relative error after the first
2 minutes against the run's wall time (recorded in the trace when the run ended; `--wall-s`
gives one, e.g. for an interrupted run's trace). The error is taken over every total the run
asked for, one per cell, not phases.json's ~100 of them: it can be a little worse than the
bench's `estimate-error` for the same run. Unchanged, a replay gives the run's own totals:
the script says by how much it differs, so a trace that no longer replays shows as such.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from orchestrator.estimate import PRIORS, EstimateTrace, Priors, load_trace
from orchestrator.estimate_replay import (
    Asked,
    measured_priors,
    replay,
    scaled,
    with_priors,
    worst_point,
)
from orchestrator.phases import ESTIMATE_JUDGED_AFTER_S, estimate_error

COURSE_POINTS = 24  # the course as printed: enough to see its shape, on four lines
PER_LINE = 6
SAME_S = 0.01  # a replay within this of the run's own totals reproduces it


def parse_prior(text: str) -> tuple[str, float]:
    """`NAME=SECONDS`; whether NAME is a prior, with_priors says."""
    name, _, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: NAME=SECONDS, e.g. std_s=60") from None


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("trace", type=Path, metavar="TRACE", help="an estimate-trace.json")
    parser.add_argument(
        "--wall-s", type=float, metavar="S", help="judge against this wall time (seconds)"
    )
    parser.add_argument(
        "--prior",
        type=parse_prior,
        action="append",
        default=[],
        metavar="NAME=SECONDS",
        help="replace a prior: std_s, cell_s, cached_s, image_s.base|parent|toolchain",
    )
    parser.add_argument(
        "--code-priors",
        action="store_true",
        help="start from this checkout's PRIORS, not the ones the run used",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        metavar="K",
        help="replay the run as if on a machine K times as slow (every duration times K)",
    )
    parser.add_argument(
        "--fit",
        action="store_true",
        help="print the priors this run measured (per image, std, toolchain) and stop",
    )
    parser.add_argument(
        "--points",
        type=int,
        default=COURSE_POINTS,
        metavar="N",
        help=f"totals of the course to print (default {COURSE_POINTS}; 0: every one)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    try:
        trace = load_trace(args.trace)
    except (OSError, ValueError, RecursionError) as exc:
        print(f"replay_estimate: {args.trace}: not a readable trace: {exc}", file=sys.stderr)
        return 2
    if args.fit:
        print(measured_priors(trace))
        return 0
    if args.scale <= 0:
        print(f"replay_estimate: --scale {args.scale}: a factor above 0", file=sys.stderr)
        return 2
    trace = scaled(trace, args.scale) if args.scale != 1.0 else trace
    try:
        priors = with_priors(PRIORS if args.code_priors else trace.priors, dict(args.prior))
    except ValueError as exc:
        print(f"replay_estimate: {exc}", file=sys.stderr)
        return 2
    asked = replay(trace, priors)
    wall_s = args.wall_s if args.wall_s is not None else trace.wall_s
    print(describe(args.trace, trace, wall_s))
    print(f"priors: {priors_line(priors, trace.priors)}")
    print(*course(asked, args.points), sep="\n")
    print(judgement(asked, wall_s))
    if priors == trace.priors:
        print(fidelity(asked))
    return 0


def describe(path: Path, trace: EstimateTrace, wall_s: float | None) -> str:
    cells = sum(event.cell is not None for event in trace.events)
    images = sum(event.images is not None for event in trace.events)
    asks = sum(event.total_s is not None for event in trace.events)
    took = f"the run took {wall_s / 60:.1f} min" if wall_s else "the run did not finish"
    return f"{path}: {cells} cells, {images} image events, {asks} totals asked; {took}"


def priors_line(priors: Priors, run: Priors) -> str:
    """Each prior in seconds, and the run's where it differs."""
    pairs = [
        (f"image {kind.value}", priors.image_s[kind], run.image_s[kind]) for kind in run.image_s
    ]
    pairs += [
        (name.removesuffix("_s"), getattr(priors, name), getattr(run, name))
        for name in (
            "std_s",
            "cell_s",
            "cached_s",
        )
    ]
    return ", ".join(
        f"{name} {value:g} s" + (f" (the run's: {was:g} s)" if value != was else "")
        for name, value, was in pairs
    )


def course(asked: Sequence[Asked], points: int) -> list[str]:
    """The predicted total at evenly spaced asks, the first and last included, in minutes."""
    shown = list(asked)
    if 0 < points < len(asked):
        step = (len(asked) - 1) / max(points - 1, 1)
        shown = [asked[round(index * step)] for index in range(points)]
    cells = [f"{p.elapsed_s / 60:5.1f}: {p.total_s / 60:5.1f}" for p in shown]
    lines = ["   ".join(cells[i : i + PER_LINE]) for i in range(0, len(cells), PER_LINE)]
    return [f"predicted total at elapsed (min), {len(shown)} of {len(asked)} asked:", *lines]


def judgement(asked: Sequence[Asked], wall_s: float | None) -> str:
    if not wall_s:
        return "no wall time to judge against (an interrupted run): give --wall-s"
    after = ESTIMATE_JUDGED_AFTER_S
    error = estimate_error([(p.elapsed_s, p.total_s) for p in asked], wall_s, after_s=after)
    own = estimate_error([(p.elapsed_s, p.recorded_s) for p in asked], wall_s, after_s=after)
    worst = worst_point(list(asked), wall_s, after_s=after)
    if worst is None:
        return f"no total asked after {after:.0f} s: nothing to judge"
    return (
        f"worst error after {after:.0f} s: {error:.1%} ({worst.total_s / 60:.1f} min predicted "
        f"at {worst.elapsed_s / 60:.1f} min, for {wall_s / 60:.1f} min); the run's own: {own:.1%}"
    )


def fidelity(asked: Sequence[Asked]) -> str:
    """Whether this replay, with the run's priors, gave what the run gave."""
    gap = max((abs(p.total_s - p.recorded_s) for p in asked), default=0.0)
    if gap <= SAME_S:
        return f"the replay gives the run's own totals (within {gap:.3f} s)"
    return (
        f"the replay differs from the run's own totals by up to {gap:.1f} s: the estimator "
        "has changed since the run (or the trace is not whole)"
    )


if __name__ == "__main__":
    sys.exit(main())
