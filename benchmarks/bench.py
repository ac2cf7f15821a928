"""linkmatrix benchmarks: speed and memory targets as ratios measured in one run.

    nox -s bench                  # all, the Docker one included when an engine answers
    python benchmarks/bench.py --no-docker

    python benchmarks/bench.py --only 'glibc*'   # the Docker ones on a selection only

Targets (a figure above its limit fails the run):
  plan-scaling     time per cell planning 20,000 cells / time per cell planning 200 cells  ≤ 3
  warm-rerun       a warm re-run of the whole matrix / the same run with an empty cell cache ≤ 0.01
  warm-seconds     that warm re-run, in seconds (Python start-up included)                 ≤ 5
  results-mb       the whole matrix's results.json, in MB (10^6 bytes)                      ≤ 15
  overhead         the host's share of the run with an empty cell cache (all but in-container
                   steps and waiting for images: phases.json)                              ≤ 0.1
  inspect-memory   peak RSS growth over 200 inspections / growth over the first 10         ≤ 2
  std-builds       std builds of the cold run per (toolchain image, release, std key)      ≤ 1
  cold-minutes     the first run, when it built images (`--cold` removes them all first)  ≤ 45
  estimate-error   that cold run's console estimate: the largest relative error of its
                   predicted total against the run's wall time, after its first 2 minutes ≤ 0.3
  edit-reruns-others  cells re-run after an edit of one scenario's source, beyond its own  ≤ 0
  reinspect-rebuilds  cells rebuilt when every artifact is re-inspected (new inspector)    ≤ 0
                   (a sysroot the image's volume already held counts 0: the run says how many)

The whole-matrix targets are judged only on a whole-matrix run: with --only (or --no-docker)
they print as not measured, never as passed, and the exit code is 0 only when every target was
judged and held. Beside the targets it prints, from the same run:
both runs' absolute times, the machine and its load, results.json in the version-2 form as
written and in the version-1 form (the same document written the old way), and the output
folder's size with the artifact bytes linked from the cell cache versus copied. It keeps the
first run's estimate trace (what the console's estimate was told, and when) beside --out, as
reports/bench-estimate-trace.json: `python tools/replay_estimate.py` replays it in a second, so
the estimate can be tuned without another 40-minute cold run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from orchestrator.config.matrix import Matrix, load_matrix  # noqa: E402
from orchestrator.estimate import trace_path  # noqa: E402
from orchestrator.images.volumes import CACHE_VOLUME_PREFIX  # noqa: E402
from orchestrator.inspect import inspect_file  # noqa: E402
from orchestrator.layout import Layout  # noqa: E402
from orchestrator.phases import ESTIMATE_JUDGED_AFTER_S, estimate_error  # noqa: E402
from orchestrator.plan import Shard, make_plan  # noqa: E402
from orchestrator.results.codec import encode_v1, load_results  # noqa: E402

TARGETS = {
    "plan-scaling": 3.0,
    "warm-rerun": 0.01,
    "warm-seconds": 5.0,
    "results-mb": 15.0,
    "overhead": 0.1,
    "inspect-memory": 2.0,
    "std-builds": 1.0,
    "cold-minutes": 45.0,
    "estimate-error": 0.30,
    "edit-reruns-others": 0.0,
    "reinspect-rebuilds": 0.0,
    # a run whose cells could not build (no image: debootstrap missing, the engine away) is
    # quick and meaningless: no figure of it is a measurement
    "error-cells": 0.0,
}
WHOLE_MATRIX_ONLY = (
    "warm-rerun",
    "warm-seconds",
    "results-mb",
    "overhead",
    "cold-minutes",
    "estimate-error",
    "edit-reruns-others",
    "reinspect-rebuilds",
)
MB = 1_000_000


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


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat (Linux)."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def make_engine_cold() -> None:
    """Remove every linkmatrix image (the base included), the images built on them (a killed
    build's untagged layers) and every linkmatrix cache volume: a cold engine.
    """
    import docker  # noqa: PLC0415 - only --cold needs the engine here

    client = docker.from_env()
    images = client.images.list(all=True)
    parents = {str(i.id): str(i.attrs.get("Parent") or "") for i in images}
    ours = {str(i.id) for i in images if any(t.startswith("linkmatrix/") for t in i.tags)}

    def descends(image_id: str) -> bool:
        while image_id:
            if image_id in ours:
                return True
            image_id = parents.get(image_id, "")
        return False

    doomed = sorted(
        (i for i in images if descends(str(i.id))),
        key=lambda i: str(i.attrs["Created"]),
        reverse=True,  # children before their parents
    )
    for image in doomed:
        with contextlib.suppress(docker.errors.ImageNotFound):  # gone with a child it parented
            client.images.remove(str(image.id), force=True)
    for volume in client.volumes.list(filters={"name": CACHE_VOLUME_PREFIX}):
        volume.remove(force=True)
    print(f"  --cold: removed {len(doomed)} linkmatrix images (and their layers) and cache volumes")


def flush_writes() -> None:
    """Write the first run's dirty pages out before the warm run is timed (not timed itself).

    A cold run leaves up to a gigabyte (artifacts, image layers) for the kernel to write back;
    doing that during the warm run measured the disk, not the re-run (the first warm run after
    a cold one was 1-2 s slower than the next ones).
    """
    dirty = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("Dirty:")
        ),
        "?",
    )
    started = time.perf_counter()
    os.sync()
    print(
        f"  flushed {dirty} kB of the first run's writes in {time.perf_counter() - started:.1f} s "
        "(not timed) before the warm run"
    )


def run_matrix(*args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", *args],
        cwd=REPO,
        check=False,  # failing cells are the matrix's business, not the benchmark's ...
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # ... but a run that could not go on is the bench's
        tail = "\n    ".join(done.stderr.splitlines()[-5:])
        print(f"  `linkmatrix run` ended with exit {done.returncode}:\n    {tail}")
    return seconds


def status_counts(results: Path) -> Counter[str]:
    """The run's cells per status: a figure only means something if the cells could build."""
    return Counter(cell.status.value for cell in load_results(results).cells)


def std_builds_per_sysroot(results: Path) -> Counter[tuple[str, str, str]]:
    """How many cells of a run built std, per (image id, release, std key): each release of an
    image has its own cache volume. A key used but found is 0.
    """
    builds: Counter[tuple[str, str, str]] = Counter()
    for cell in load_results(results).cells:
        if cell.std is not None and cell.image is not None:
            builds[(cell.image, cell.release, cell.std.key)] += int(cell.std.built)
    return builds


def bench_warm_rerun(only: list[str], trace: Path, keep: Path | None = None) -> dict[str, float]:
    """The selection with an empty cell cache, then again: images and std builds present.

    Both runs do the same work for the same cells (the second replays the first's cache), so
    the ratio is a speed-up, not work skipped. The second run's output folder is measured too.
    The first run's estimate trace is copied to `trace`, to tune the estimate offline.
    """
    selection = [arg for glob in only for arg in ("--only", glob)]
    what = f"cells {' '.join(only)}" if only else "whole matrix"
    print(f"  machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"  load average before: {os.getloadavg()[0]:.1f} (other work on this machine counts)")
    with tempfile.TemporaryDirectory() as temp:
        common = ("--out", f"{temp}/out", "--cache-dir", f"{temp}/cache", *selection)
        busy_before, total_before = cpu_times()
        fresh = run_matrix(*common)
        busy_after, total_after = cpu_times()
        kept = keep_trace(Layout(out_dir=Path(temp, "out"), cache_dir=Path(temp, "cache")), trace)
        phases = json.loads(Path(temp, "out", "phases.json").read_text())
        busy = (busy_after - busy_before) / max(total_after - total_before, 1.0)
        print(
            f"  CPU busy during that run: {busy:.0%} of {os.cpu_count()} cores (the room a "
            "second job could use)"
        )
        builds = std_builds_per_sysroot(Path(temp, "out", "results.json"))
        statuses = status_counts(Path(temp, "out", "results.json"))
        print(f"  cells: {', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}")
        print_phases(phases, "with an empty cell cache")
        flush_writes()
        warm = run_matrix(*common)
        print(f"  load average after: {os.getloadavg()[0]:.1f}")
        print(f"  {what}: {fresh:.1f} s with an empty cell cache, {warm:.2f} s warm")
        print(
            f"  std: {sum(builds.values())} builds for {len(builds)} sysroots "
            f"({sum(1 for n in builds.values() if n == 0)} already in their image's volume)"
        )
        figures = {
            "warm-rerun": warm / fresh,
            "warm-seconds": warm,
            "error-cells": float(statuses["error"]),
        }
        if phases["images_built"] > 0:
            print(
                f"  cold: {phases['images_built']:.0f} images built in the first run; "
                f"{fresh / 60:.1f} min in all"
            )
            figures["cold-minutes"] = fresh / 60
            error = cold_estimate_error(phases, kept)
            if error is not None:  # no estimate after 2 minutes: not measured, never passed
                figures["estimate-error"] = error
        elif kept is not None:
            print(f"  the first run's estimate trace: {kept}")
        figures["overhead"] = host_share(phases)
        figures["std-builds"] = float(max(builds.values(), default=0))
        figures |= output_figures(Path(temp, "out"))
        if not only:  # both edit the whole matrix's cache: only meaningful on it
            figures |= bench_edits(Path(temp), common)
        if keep is not None:
            # the artifacts are links into the temporary cell cache: results and views only
            ignore = shutil.ignore_patterns("artifacts")
            shutil.copytree(Path(temp, "out"), keep, ignore=ignore, dirs_exist_ok=True)
            print(f"  the warm run's output folder (no artifacts) is kept in {keep}")
    return figures


EDITED_SCENARIO = "cdylib-exports"


def bench_edits(temp: Path, common: tuple[str, ...]) -> dict[str, float]:
    """On the warm cache: an edit to one scenario's source re-runs only that scenario's cells;
    a new inspector (its cache emptied, as a new inspector version finds it) rebuilds nothing.
    """
    project = temp / "project"  # a copy: the repository is never edited
    for folder in ("scenarios", "images"):
        shutil.copytree(REPO / folder, project / folder, dirs_exist_ok=True)
    shutil.copy2(REPO / "matrix.yaml", project / "matrix.yaml")
    source = edited_source(project / "scenarios" / EDITED_SCENARIO)
    source.write_text(source.read_text() + "\n// an edit by nox -s bench\n")
    results = temp / "out" / "results.json"
    # the scenario's cells that the warm run replayed from the cache: the ones an edit must re-run
    expected = {c.id for c in load_results(results).cells if c.cached and _of_edited(c.id)}
    seconds = run_matrix(*common, "--matrix", str(project / "matrix.yaml"))
    rerun = {c.id for c in load_results(results).cells if not c.cached and c.image is not None}
    others, missed = rerun - expected, expected - rerun
    print(
        f"  edit of {source.relative_to(project)}: {len(rerun)} cells re-run of the "
        f"{len(expected)} built cells of {EDITED_SCENARIO}; {len(others)} other cells re-run, "
        f"{len(missed)} of its cells not re-run, {seconds:.1f} s"
    )
    shutil.rmtree(temp / "cache" / "inspections")
    seconds = run_matrix(*common)
    phases = json.loads((temp / "out" / "phases.json").read_text())
    print(
        f"  every artifact re-inspected (the inspection cache emptied, as a new inspector "
        f"version finds it): {phases['cells_run']:.0f} cells rebuilt, {seconds:.1f} s"
    )
    wrong = len(others) + len(missed)
    return {"edit-reruns-others": float(wrong), "reinspect-rebuilds": phases["cells_run"]}


def _of_edited(cell_id: str) -> bool:
    return cell_id.rsplit("/", 1)[-1] == EDITED_SCENARIO


def edited_source(scenario: Path) -> Path:
    """A Rust source of the scenario's own crates (a workspace keeps them in sub-folders)."""
    sources = sorted(scenario.rglob("src/lib.rs"))
    if not sources:
        raise SystemExit(f"bench: no src/lib.rs under {scenario} to edit")
    return sources[0]


def keep_trace(layout: Layout, to: Path) -> Path | None:
    """The run's estimate trace copied to `to` before the next run rewrites it and the bench
    removes its cache: its inputs, for tools/replay_estimate.py. None: the run wrote none
    (and an older bench's copy is removed, not left to pass for this one's).
    """
    to.unlink(missing_ok=True)
    source = trace_path(layout)
    if not source.is_file():
        return None
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, to)
    return to


def cold_estimate_error(phases: dict[str, Any], trace: Path | None) -> float | None:
    """The console's predicted total at cell finishes (phases.json) against the run's wall time
    (`wall_s`: the run and its views, not Python's start), judged after its first 2 minutes.
    """
    points = phases.get("estimates", [])
    error = estimate_error(points, phases["wall_s"], after_s=ESTIMATE_JUDGED_AFTER_S)
    judged = [total for elapsed, total in points if elapsed >= ESTIMATE_JUDGED_AFTER_S]
    first = f"{points[0][1] / 60:.0f} min" if points else "none"
    spread = f"{min(judged) / 60:.0f}-{max(judged) / 60:.0f} min after 2 min" if judged else "none"
    print(
        f"  estimate: predicted total first {first}, then {spread}, against "
        f"{phases['wall_s'] / 60:.1f} min ({len(points)} points): worst error {error:.0%}; "
        + (f"replay: python tools/replay_estimate.py {trace}" if trace else "no trace written")
    )
    return error if judged else None


def host_share(phases: dict[str, float]) -> float:
    """What the host did, as a share of the wall time (Phases.overhead, from its JSON)."""
    busy = phases["image_wait_s"] + phases["std_s"] + phases["steps_s"]
    return max(0.0, phases["wall_s"] - busy) / max(phases["wall_s"], 1e-9)


def print_phases(phases: dict[str, float], label: str) -> None:
    cores = os.cpu_count() or 1
    work = phases["images_s"] + phases["std_s"] + phases["steps_s"]
    print(
        f"  phases {label}: wall {phases['wall_s']:.1f} s = waiting for images "
        f"{phases['image_wait_s']:.1f} s + std builds {phases['std_s']:.1f} s "
        f"({phases['std_builds']:.0f}) + cell steps {phases['steps_s']:.1f} s + host "
        f"{host_share(phases):.0%}; image builds {phases['images_s']:.1f} s "
        f"({phases['images_built']:.0f}); floor on {cores} cores "
        f"{max(phases['images_s'], work / cores):.1f} s"
    )
    host = (
        "container_starts_s",
        "cell_other_s",
        "sources_in_s",
        "files_out_s",
        "housekeeping_s",
        "inspect_s",
        "publish_s",
        "views_s",
    )
    print(
        "  host work: "
        + ", ".join(f"{name.removesuffix('_s')} {phases.get(name, 0.0):.1f} s" for name in host)
    )


def output_figures(out: Path) -> dict[str, float]:
    """results.json as written (version 3) and in the version-1 form; the folder's bytes."""
    results = out / "results.json"
    if not results.is_file():
        print(f"  no {results}: the run wrote no results")
        return {}
    written = results.stat().st_size
    old_form = len(encode_v1(load_results(results)).encode())
    print(
        f"  results.json: {written / MB:.2f} MB as written (version 3), "
        f"{old_form / MB:.2f} MB in the version-1 form ({old_form / max(written, 1):.1f}x)"
    )
    linked = copied = other = 0
    for path in (p for p in out.rglob("*") if p.is_file()):
        facts = path.stat()
        in_artifacts = path.is_relative_to(out / "artifacts")
        if in_artifacts and facts.st_nlink > 1:
            linked += facts.st_size  # the same inode as the cell cache's file: no new bytes
        elif in_artifacts:
            copied += facts.st_size
        else:
            other += facts.st_size
    print(
        f"  output folder: {(other + copied) / MB:.1f} MB of its own ({other / MB:.1f} MB "
        f"results, views and logs); artifacts {linked / MB:.1f} MB linked from the cell cache, "
        f"{copied / MB:.1f} MB copied"
    )
    return {"results-mb": written / MB}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--no-docker", action="store_true", help="skip the benchmark that runs cells"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only these cells (the whole-matrix targets are then not judged)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "reports/bench.json",
        help="the figures (JSON); the first run's estimate trace goes beside it, as "
        "<stem>-estimate-trace.json (reports/bench-estimate-trace.json)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="remove every linkmatrix image and cache volume first: the first run is cold",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the run's output folder (results.json, views) in DIR, e.g. to compare verdicts",
    )
    args = parser.parse_args()
    matrix = load_matrix(REPO / "matrix.yaml")
    benches: dict[str, Callable[[], float]] = {
        "plan-scaling": lambda: bench_plan_scaling(matrix),
        "inspect-memory": bench_inspect_memory,
    }
    figures = {name: round(bench(), 4) for name, bench in benches.items()}
    if not args.no_docker:
        if args.cold:
            make_engine_cold()
        trace = args.out.with_name(f"{args.out.stem}-estimate-trace.json")
        figures |= {
            name: round(value, 4)
            for name, value in bench_warm_rerun(args.only, trace, args.keep).items()
        }
    judged = {
        name: value
        for name, value in figures.items()
        if not (args.only and name in WHOLE_MATRIX_ONLY)
    }
    failed = [name for name, value in judged.items() if value > TARGETS[name]]
    for name, limit in TARGETS.items():
        if name not in figures:
            why = "--no-docker" if args.no_docker else "no image was built: run with --cold"
            cold_only = name in ("cold-minutes", "estimate-error")
            why = why if cold_only or args.no_docker else "see above"
            print(f"{name:<16} not measured ({why})  (target ≤ {limit})")
        elif name not in judged:
            value = figures[name]
            print(f"{name:<16} {value:>9.4f}  not judged: a selection, not the whole matrix")
        else:
            verdict = "ok" if name not in failed else "OVER TARGET"
            print(f"{name:<16} {figures[name]:>9.4f}  (target ≤ {limit})  {verdict}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {"figures": figures, "judged": sorted(judged), "targets": TARGETS, "only": args.only}
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    unjudged = [name for name in TARGETS if name not in judged]
    if unjudged:
        print(f"not every goal was judged ({', '.join(unjudged)}): exit 1, not a pass")
    return 1 if failed or unjudged else 0


if __name__ == "__main__":
    sys.exit(main())
