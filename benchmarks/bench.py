"""linkmatrix benchmarks: speed and memory targets as ratios measured in one run.

    nox -s bench                  # all, the Docker one included when an engine answers
    python benchmarks/bench.py --no-docker

Targets (a ratio above its limit fails the run):
  plan-scaling     time per cell planning 20,000 cells / time per cell planning 200 cells  ≤ 3
  warm-rerun       a warm re-run of the whole matrix / the same run with an empty cell cache ≤ 0.1
  inspect-memory   peak RSS growth over 200 inspections / growth over the first 10         ≤ 2
  std-builds       std builds of the cold run per (image = release and toolchain, std key)  ≤ 1
                   (a sysroot the image's volume already held counts 0: the run says how many)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from orchestrator.config.matrix import Matrix, load_matrix  # noqa: E402
from orchestrator.inspect import inspect_file  # noqa: E402
from orchestrator.plan import Shard, make_plan  # noqa: E402
from orchestrator.results.codec import load_results  # noqa: E402

TARGETS = {"plan-scaling": 3.0, "warm-rerun": 0.1, "inspect-memory": 2.0, "std-builds": 1.0}


def scaled_matrix(matrix: Matrix, copies: int) -> Matrix:
    """The real matrix with its scenarios repeated under new names: copies × scenarios cells."""
    scenarios = tuple(
        dataclasses.replace(scenario, name=f"{scenario.name}-{index}")
        for index in range(copies)
        for scenario in matrix.scenarios
    )
    return dataclasses.replace(matrix, scenarios=scenarios)


def per_cell_seconds(matrix: Matrix) -> float:
    started = time.perf_counter()
    plan = make_plan(matrix, only=["*"])
    for index in range(1, 5):
        make_plan(matrix, shard=Shard(index=index, count=4))
    return (time.perf_counter() - started) / max(len(plan.cells), 1)


def bench_plan_scaling(matrix: Matrix) -> float:
    cells_per_copy = len(make_plan(matrix).cells) or 1
    small = scaled_matrix(matrix, max(200 // cells_per_copy, 1))
    large = scaled_matrix(matrix, max(20_000 // cells_per_copy, 1))
    return per_cell_seconds(large) / per_cell_seconds(small)


def max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def bench_inspect_memory() -> float:
    library = next(
        p for p in (Path("/lib/x86_64-linux-gnu/libc.so.6"), Path(sys.executable)) if p.exists()
    )
    baseline = max_rss_kib()
    for _ in range(10):
        inspect_file(library)
    first = max(max_rss_kib() - baseline, 1)
    for _ in range(190):
        inspect_file(library)
    return max(max_rss_kib() - baseline, 1) / first


def run_matrix(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", *args],
        cwd=REPO,
        check=False,  # failing cells are the matrix's business, not the benchmark's
        capture_output=True,
    )
    return time.perf_counter() - started


def std_builds_per_sysroot(results: Path) -> Counter[tuple[str, str]]:
    """How many cells of a run built std, per (image id, std key); a key used but found is 0."""
    builds: Counter[tuple[str, str]] = Counter()
    for cell in load_results(results).cells:
        if cell.std is not None and cell.image is not None:
            builds[(cell.image, cell.std.key)] += int(cell.std.built)
    return builds


def bench_warm_rerun(ratios: dict[str, float]) -> float:
    """The whole matrix with an empty cell cache, then again: images and std builds present.

    The cold run's std builds go in `ratios["std-builds"]`: the most builds of one sysroot.
    """
    with tempfile.TemporaryDirectory() as temp:
        common = ("--out", f"{temp}/out", "--cache-dir", f"{temp}/cache")
        fresh = run_matrix(*common)
        builds = std_builds_per_sysroot(Path(temp) / "out" / "results.json")
        warm = run_matrix(*common)
    print(f"  whole matrix: {fresh:.1f} s with an empty cell cache, {warm:.1f} s warm")
    print(
        f"  std: {sum(builds.values())} builds for {len(builds)} sysroots "
        f"({sum(1 for n in builds.values() if n == 0)} already in their image's volume)"
    )
    ratios["std-builds"] = float(max(builds.values(), default=0))
    return warm / fresh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--no-docker", action="store_true", help="skip the benchmark that runs cells"
    )
    parser.add_argument("--out", type=Path, default=REPO / "reports/bench.json")
    args = parser.parse_args()
    matrix = load_matrix(REPO / "matrix.yaml")
    benches: dict[str, Callable[[], float]] = {
        "plan-scaling": lambda: bench_plan_scaling(matrix),
        "inspect-memory": bench_inspect_memory,
    }
    ratios: dict[str, float] = {}
    if not args.no_docker:
        benches["warm-rerun"] = lambda: bench_warm_rerun(ratios)
    ratios.update({name: round(bench(), 4) for name, bench in benches.items()})
    failed = [name for name, ratio in ratios.items() if ratio > TARGETS[name]]
    for name, ratio in ratios.items():
        verdict = "ok" if name not in failed else "OVER TARGET"
        print(f"{name:<16} ratio {ratio:>8.4f}  (target ≤ {TARGETS[name]})  {verdict}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"ratios": ratios, "targets": TARGETS}, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
