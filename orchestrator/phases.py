"""Where a run's wall time went: image builds, std builds, in-container steps and the host.

Filled in by the pipeline as it goes, printed under the run's summary and written beside
results.json (`phases.json`) for `nox -s bench`. Pure data and arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# The console's estimate is kept at about this many cell finishes, evenly spaced: enough to see
# its course in phases.json, small enough not to weigh on it.
ESTIMATE_POINTS = 100
# The estimate's first figures rest on priors and the first image builds: its error is judged
# on the figures from this many seconds on (`nox -s bench`, tools/replay_estimate.py).
ESTIMATE_JUDGED_AFTER_S = 120.0


@dataclass(kw_only=True)
class Phases:
    """Seconds per phase of one run. Image builds run in a background thread, so they overlap
    with cells; what the cells waited for them is counted apart.
    """

    wall_s: float = 0.0
    images_s: float = 0.0  # image builds, all of them (background)
    images_built: int = 0
    image_wait_s: float = 0.0  # groups blocked until their image was ready
    std_s: float = 0.0  # std builds inside cells
    std_builds: int = 0
    steps_s: float = 0.0  # in-container build, run and prepare steps, std builds excluded
    cells_run: int = 0
    cells_cached: int = 0
    # The host's part, each measured where it happens (the rest of host_s: planning, not-run
    # cells, waiting on the engine outside these):
    container_starts_s: float = 0.0  # creating and starting the groups' containers
    cell_other_s: float = 0.0  # a run cell's time outside build/run/std steps: probes, vendoring,
    #                            sources in, prepare, copying files out; of it:
    sources_in_s: float = 0.0  # vendoring on the host and the sources' tar into the container
    files_out_s: float = 0.0  # built files out of the container, written and hashed
    housekeeping_s: float = 0.0  # our commands in the container: workdir, collect, probes, std look
    inspect_s: float = 0.0  # inspection of every cell's files (cached or not) and judging
    publish_s: float = 0.0  # linking artifacts, cell logs, results.json rewrites
    views_s: float = 0.0  # Markdown, HTML, symbol pages at the end
    # the console's predicted total at cell finishes: (elapsed s, predicted total s)
    estimates: list[tuple[float, float]] = field(default_factory=list)

    def track_estimate(self, *, finished: int, cells: int, elapsed: float, total: float) -> None:
        """Keep the estimate at every Nth of `cells` finishes (about ESTIMATE_POINTS in all),
        the first and the last included.
        """
        stride = max(1, -(-cells // ESTIMATE_POINTS))
        if finished == 1 or finished % stride == 0 or finished == cells:
            self.estimates.append((round(elapsed, 1), round(total, 1)))

    @property
    def host_s(self) -> float:
        """The rest: vendoring, container starts, copying files in and out, inspection,
        judging, writing results and views.
        """
        return max(0.0, self.wall_s - self.image_wait_s - self.std_s - self.steps_s)

    def floor_s(self, cores: int) -> float:
        """The shortest this run's work allows: image builds one after another cannot overlap
        each other, and all the compile work shares the cores.
        """
        work = self.images_s + self.std_s + self.steps_s
        return max(self.images_s, work / max(cores, 1))

    @property
    def overhead(self) -> float:
        """The host's share of the wall time (everything but in-container steps and waiting)."""
        return self.host_s / self.wall_s if self.wall_s > 0 else 0.0

    def lines(self, cores: int) -> list[str]:
        split = (
            f"phases: {self.wall_s:.0f} s wall = {self.image_wait_s:.0f} s waiting for images "
            f"+ {self.std_s:.0f} s std builds ({self.std_builds}) "
            f"+ {self.steps_s:.0f} s cell build/run steps ({self.cells_run} cells run, "
            f"{self.cells_cached} cached) + {self.host_s:.0f} s on the host "
            f"({self.overhead:.0%})"
        )
        host = (
            f"  on the host: {self.container_starts_s:.0f} s starting containers, "
            f"{self.cell_other_s:.0f} s in cells outside build/run steps "
            f"({self.sources_in_s:.0f} s sources in, {self.files_out_s:.0f} s files out, "
            f"{self.housekeeping_s:.0f} s housekeeping commands), "
            f"{self.inspect_s:.0f} s inspecting and judging, "
            f"{self.publish_s:.0f} s publishing (artifact links, logs, results.json), "
            f"{self.views_s:.0f} s writing views"
        )
        images = (
            f"  image builds: {self.images_s:.0f} s ({self.images_built} built, in the "
            f"background); floor on {cores} cores: {self.floor_s(cores):.0f} s"
        )
        return [split, host, images]


def estimate_error(estimates: Sequence[Sequence[float]], wall_s: float, *, after_s: float) -> float:
    """The largest relative error of a predicted total against the real `wall_s`, over the
    estimates made `after_s` or later (the first figures rest on priors alone: not judged).
    """
    errors = [abs(total - wall_s) / wall_s for elapsed, total in estimates if elapsed >= after_s]
    return max(errors, default=0.0) if wall_s > 0 else 0.0
