"""How long a run has left: its remaining work simulated on what earlier runs and this one took.

A run builds its images one after another in a background thread while its groups run one at a
time, each starting once its image is ready. So the estimate replays that timeline: image i is
ready at t_i (the sum of the builds before it), group g starts at max(the previous group's end,
its image's t_i) and lasts its cells' estimated seconds, a cell's std build included where the
cell will build std. Each duration comes, first found first, from:

1. this machine's history (`durations.json` in the cache folder): what this image, std build or
   cell took when it last ran;
2. this run's own observations so far: the mean per toolchain (images: per kind), then overall;
3. priors measured on a cold whole-matrix run on the development machine (2 cores): see PRIORS.

Simplifications, on purpose: a cell counts as cached when its image is present and it last
finished with that very image (an edited scenario's cells are then under-estimated until they
run); a std build counts as needed unless the engine holds this image's volume for the release
(or, where the engine was not asked, history says it was built in that volume).

Every input the estimator takes, and every total the pipeline asks of it, is kept in order
(`Estimator.trace`, written as `estimate-trace.json` beside the history at a run's end): a
cold run costs ~40 minutes, its trace replays in a second (`tools/replay_estimate.py`), so the
priors and the simulation can be tuned offline against what a real run told the estimator.

Pure but for the history's and the trace's files (`load_durations`, `save_durations`,
`load_trace`, `save_trace`).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.cell.stdlib import std_key
from orchestrator.config.matrix import Matrix, TargetSpec
from orchestrator.images.build import ImageNeeds
from orchestrator.images.lineage import lineage
from orchestrator.images.volumes import cache_volume
from orchestrator.layout import Layout
from orchestrator.plan import ImageKey, Plan
from orchestrator.serial import OMIT_WHEN_NONE, decode, to_data, write_json_atomic


class ImageKind(enum.StrEnum):
    """What an image build is like: the base (debootstrap), a parent (rust: every release),
    a toolchain image (its own packages) on top.
    """

    BASE = "base"
    PARENT = "parent"
    TOOLCHAIN = "toolchain"


@dataclass(frozen=True, kw_only=True)
class Priors:
    """Seconds for what neither history nor this run has seen yet: per image, per image's std
    build and per toolchain's built cell where measured, else per kind.

    They differ more than any one mean can say: a std build took 16 s (ptx: core only) to 75 s
    (musl: std with its C parts), a built cell 1.5 s (wasm) to 4.3 s (glibc: many runs), and
    the matrix runs them in a fixed order, heavy ones first. One running mean over the first
    groups (the estimator before) took glibc's cells and musl's std for the rule and predicted
    42 min for a 31.1 min run (worst error 34 %). So each has its own prior, and this run's
    observations scale them (`_Scale`): a machine twice as slow shows it in the first images.

    Measured (`tools/replay_estimate.py --fit`) on the cold whole-matrix run of
    `nox -s bench -- --cold` on commit 0bfb966, this project's 2-core development machine: 532
    cells, 264 built, 18 std builds, 10 images, 31.1 min. The per-kind figures (the means over
    all) stand in for an image or toolchain the matrix did not have then. A replayed cell
    (loading, inspecting from the cache, publishing): ~0.05 s.
    """

    image_s: Mapping[ImageKind, float] = field(
        default_factory=lambda: {
            ImageKind.BASE: 30.0,
            ImageKind.PARENT: 219.0,
            ImageKind.TOOLCHAIN: 91.0,
        }
    )
    std_s: float = 45.0
    cell_s: float = 3.0
    cached_s: float = 0.05
    images: Mapping[str, float] = field(
        default_factory=lambda: {
            "glibc": 59.0,
            "musl": 89.0,
            "windows-gnu": 161.0,
            "wasm": 74.0,
            "emscripten": 101.0,
            "ptx": 98.0,
            "msvc": 45.0,
            "macos": 102.0,
        }
    )
    std_by_image: Mapping[str, float] = field(
        default_factory=lambda: {
            "musl": 75.0,
            "windows-gnu": 46.0,
            "wasm": 39.0,
            "emscripten": 34.0,
            "ptx": 16.0,
            "msvc": 35.0,
            "macos": 43.0,
        }
    )
    cells_by_toolchain: Mapping[str, float] = field(
        default_factory=lambda: {
            "glibc": 4.3,
            "glibc-rustup": 4.0,
            "musl": 2.0,
            "musl-dynamic": 2.0,
            "windows-gnu": 3.2,
            "wasm": 1.5,
            "emscripten": 4.2,
            "ptx": 6.1,
            "msvc": 2.6,
            "macos": 1.7,
        }
    )

    def image(self, build: ImageBuild) -> float:
        return self.images.get(build.name, self.image_s[build.kind])

    def std(self, image: str) -> float:
        return self.std_by_image.get(image, self.std_s)

    def cell(self, toolchain: str) -> float:
        return self.cells_by_toolchain.get(toolchain, self.cell_s)


PRIORS = Priors()


@dataclass(frozen=True, kw_only=True)
class ImageBuild:
    """One image the run builds, in the image thread's order."""

    name: str
    kind: ImageKind


@dataclass(frozen=True, kw_only=True)
class CellWork:
    """A runnable cell as the estimate sees it: cached or built, and the std it needs."""

    id: str
    toolchain: str
    std: str | None  # the std key of its target; None: its release ships std
    cached: bool  # predicted: its image is present and it last finished with that image


@dataclass(frozen=True, kw_only=True)
class GroupWork:
    """The cells of one container, and when its image is ready.

    `after`: how many of the run's image builds come before its image is ready (0: present).
    `std_present`: std keys history says this image's volume already holds (sorted: a tuple,
    not a set, so that the work goes into a trace as JSON).
    """

    image: str
    release: str
    cells: tuple[CellWork, ...]
    after: int
    skipped: bool  # its image lacks the user's SDK: its cells are skipped, in no time
    std_present: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Work:
    """What a run has to do, in the order it does it."""

    images: tuple[ImageBuild, ...]  # to build, in order
    groups: tuple[GroupWork, ...]


@dataclass(frozen=True, kw_only=True)
class StdSeconds:
    seconds: float
    image_id: str  # the image whose cache volume holds the sysroot


@dataclass(frozen=True, kw_only=True)
class CellSeconds:
    seconds: float  # its last build in a container, its std build excluded
    image_id: str  # the image it last finished with (built or replayed from the cache)


@dataclass(frozen=True, kw_only=True)
class Durations:
    """What this machine's earlier runs took: `<cache-dir>/durations.json`.

    `images` by image name (the base as ImageNeeds names it); `std` by `image@release/key`.
    """

    images: Mapping[str, float] = field(default_factory=dict)
    std: Mapping[str, StdSeconds] = field(default_factory=dict)
    cells: Mapping[str, CellSeconds] = field(default_factory=dict)


def std_id(image: str, release: str, key: str) -> str:
    """A std build's key in the history: one sysroot per (image, release, std key)."""
    return f"{image}@{release}/{key}"


def load_durations(path: Path) -> Durations:
    """The history, or none: a missing or damaged file only costs the estimate its start."""
    try:
        return decode(Durations, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, RecursionError):
        return Durations()


def save_durations(path: Path, durations: Durations) -> None:
    write_json_atomic(path, to_data(durations))


def plan_work(
    plan: Plan,
    matrix: Matrix,
    needs: ImageNeeds,
    history: Durations,
    *,
    fresh: bool,
    volumes: frozenset[str] | None = None,
) -> Work:
    """The plan's remaining work: images in the order the image thread builds them, groups in
    the order they run, each cell's std key and whether it is likely cached.

    `volumes`: the cache volumes the engine holds (None: not asked). A group whose volume is
    there counts its std as built, whatever this cache folder's history says: an engine kept
    between runs (a CI cache restoring images and volumes into a new checkout) keeps its std.
    """
    builds, ready_after = _image_builds(plan, matrix, needs)
    targets = {
        (toolchain.name, target.triple): target
        for toolchain in matrix.toolchains
        for target in toolchain.targets
    }
    groups = []
    for group in plan.groups:
        image_id = needs.ids.get(group.key.image)
        cells = tuple(
            CellWork(
                id=cell.id,
                toolchain=cell.toolchain,
                std=_std_of(targets[cell.toolchain, cell.target].for_release(cell.release)),
                cached=_likely_cached(history, cell.id, image_id, fresh=fresh),
            )
            for cell in group.cells
        )
        groups.append(
            GroupWork(
                image=group.key.image,
                release=group.key.release,
                cells=cells,
                after=ready_after[group.key.image],
                skipped=group.key.image in needs.sdk_missing,
                std_present=_std_present(history, group.key, cells, image_id, volumes),
            )
        )
    return Work(images=tuple(builds), groups=tuple(groups))


def _image_builds(
    plan: Plan, matrix: Matrix, needs: ImageNeeds
) -> tuple[list[ImageBuild], dict[str, int]]:
    """The builds in the image thread's order (the base, then each plan image's lineage), and
    per plan image how many of them come before it is ready.
    """
    named = {image.name for image in matrix.images}
    builds = [  # the base, as ImageNeeds names it: first, when it is to be made
        ImageBuild(name=name, kind=ImageKind.BASE) for name in needs.to_build if name not in named
    ][:1]
    ready_after: dict[str, int] = {}
    for image in plan.images:
        for step in lineage(matrix, image):
            if step in needs.to_build and all(b.name != step for b in builds):
                kind = ImageKind.TOOLCHAIN if step in plan.images else ImageKind.PARENT
                builds.append(ImageBuild(name=step, kind=kind))
        ready_after[image] = len(builds)
    return builds, ready_after


def _std_present(
    history: Durations,
    key: ImageKey,
    cells: Iterable[CellWork],
    image_id: str | None,
    volumes: frozenset[str] | None,
) -> tuple[str, ...]:
    """The std keys this very image's volume (for this release) likely holds. Where the engine
    was asked: every one if it has the volume (std is built at a group's first cell, so a volume
    without it is one whose run stopped at once), none if not (pruned, or never made). Else
    those history says went into it.
    """
    if image_id is None:
        return ()  # to be built: a new image, a new volume
    keys = {cell.std for cell in cells if cell.std is not None}
    if volumes is not None:
        return tuple(sorted(keys)) if cache_volume(image_id, key.release) in volumes else ()
    return tuple(
        sorted(
            k
            for k in keys
            if (entry := history.std.get(std_id(key.image, key.release, k)))
            and entry.image_id == image_id
        )
    )


def _std_of(target: TargetSpec) -> str | None:
    return std_key(target) if target.build_std else None


def _likely_cached(history: Durations, cell: str, image_id: str | None, *, fresh: bool) -> bool:
    """Its image is present and the cell last finished with it (edits to its scenario unseen)."""
    entry = history.cells.get(cell)
    return not fresh and image_id is not None and entry is not None and entry.image_id == image_id


@dataclass(frozen=True, kw_only=True)
class StdDone:
    key: str
    seconds: float


@dataclass(frozen=True, kw_only=True)
class CellDone:
    """A finished cell: its wall seconds in this run, and the std it built (if it did).

    `stored_s`: a replayed cell's seconds in its container when it was built (the record's
    duration), so a history that lost the cell still learns what building it costs.
    """

    id: str
    seconds: float
    cached: bool
    image_id: str | None  # None: it never got an image (its build failed, an SDK is missing)
    std: StdDone | None = None
    stored_s: float = 0.0


@dataclass(frozen=True, kw_only=True)
class ImagesDone:
    """The image thread is past `image` (made, found, or failed): every build before it done.

    `built`: (name, seconds) of each image built since the last such event; `base_s` the base
    image's making, when it was among them.
    """

    image: str
    built: tuple[tuple[str, float], ...] = ()
    base_s: float = 0.0


@dataclass(frozen=True, kw_only=True)
class TraceEvent:
    """What the estimator was told or asked, `at_s` seconds after the run's start: a cell
    finished, the image thread passed an image, or the pipeline asked for the total and was
    told `total_s`. Exactly one of the three is set.
    """

    at_s: float
    cell: CellDone | None = field(default=None, metadata=OMIT_WHEN_NONE)
    images: ImagesDone | None = field(default=None, metadata=OMIT_WHEN_NONE)
    total_s: float | None = field(default=None, metadata=OMIT_WHEN_NONE)

    def __post_init__(self) -> None:
        if [self.cell, self.images, self.total_s].count(None) != 2:
            raise ValueError("a trace event is one of: a cell, an image event, a total asked")


@dataclass(frozen=True, kw_only=True)
class EstimateTrace:
    """A run's estimator inputs (`estimate-trace.json` in the cache folder): what it was made
    with and its events in the order it took them, so that a replay gives the same totals.

    `wall_s`: the run's wall time as phases.json has it (views included), what its totals are
    judged against; None when the run was interrupted.
    """

    work: Work
    history: Durations
    priors: Priors
    events: tuple[TraceEvent, ...]
    wall_s: float | None = None


TRACE_FILE = "estimate-trace.json"


def trace_path(layout: Layout) -> Path:
    """The last run's trace, beside the history it was given (`durations.json`).

    Not a Layout property: layout.py is part of the cell cache's key (cell/cache.py,
    CELL_STAGE_CODE), and a new file of the estimate's is no reason to rebuild every cell.
    """
    return layout.durations.with_name(TRACE_FILE)


def load_trace(path: Path) -> EstimateTrace:
    """Raises OSError, ValueError (serial.DataError: not a trace) or RecursionError."""
    return decode(EstimateTrace, json.loads(path.read_text(encoding="utf-8")))


def save_trace(path: Path, trace: EstimateTrace) -> None:
    write_json_atomic(path, to_data(trace))


class _Scale:
    """How this machine compares with the priors: all seconds observed so far over the priors
    of the same things, with `slack` seconds at a ratio of 1 so that the first observations
    cannot swing it (one slow image build among the first says little of the next ones).

    One scale for images, std builds and cells alike: a machine that builds images slower
    than the priors' builds std and cells slower too, and the images come first.
    """

    def __init__(self, slack: float) -> None:
        self._slack = slack
        self._observed = 0.0
        self._expected = 0.0

    def add(self, seconds: float, prior: float) -> None:
        self._observed += seconds
        self._expected += prior

    def factor(self) -> float:
        return (self._observed + self._slack) / (self._expected + self._slack)


class _Scaled:
    """Observed seconds per key (a toolchain's cells, an image's std builds).

    A key seen is its own mean, drawn toward its scaled prior as if that had been seen
    `weight` times; a key not seen yet is its prior times the run's scale.
    """

    def __init__(self, scale: _Scale, *, weight: float) -> None:
        self._scale = scale
        self._weight = weight
        self._sums: dict[str, tuple[float, int]] = {}

    def add(self, key: str, seconds: float, prior: float) -> None:
        total, count = self._sums.get(key, (0.0, 0))
        self._sums[key] = (total + seconds, count + 1)
        self._scale.add(seconds, prior)

    def get(self, key: str, prior: float) -> float:
        scaled = prior * self._scale.factor()
        total, count = self._sums.get(key, (0.0, 0))
        return (total + scaled * self._weight) / (count + self._weight)


# Seconds at a ratio of 1 in the run's scale: about one toolchain image's worth (on the bench's
# trace with every duration scaled by 0.6 to 2, the worst error after 2 min stayed under 13 %).
SCALE_SLACK_S = 100.0


class Estimator:
    """The run's remaining timeline, fed by the pipeline as cells and images finish.

    Times are `time.monotonic()` values; `started` is the run's start (the console's clock).
    Events come from two threads (the images' and the cells'): a lock keeps each update whole,
    and `on_learn` (saving the history) is called under it, so saves never cross. Under the
    same lock each event and each `total` asked joins the trace, in the order that made the
    figures (the console's `left` is not kept: it asks at every line).
    """

    def __init__(
        self,
        work: Work,
        history: Durations,
        *,
        started: float,
        priors: Priors = PRIORS,
        on_learn: Callable[[Durations], None] | None = None,
    ) -> None:
        self.work = work
        self.history = history  # what earlier runs took: the estimate's first source
        self.learned = history  # the same with this run's durations in: the next run's history
        self.started = started
        self.priors = priors
        self._on_learn = on_learn
        self._groups = {cell.id: group for group in work.groups for cell in group.cells}
        self._done: set[str] = set()
        self._std_built: set[str] = set()
        self._images_done = 0
        self._images_at = started  # when the image thread finished its last build
        scale = _Scale(SCALE_SLACK_S)
        self._cells = _Scaled(scale, weight=3)  # built cells (std excluded), per toolchain
        self._std = _Scaled(scale, weight=2)  # std builds per image
        self._cached = _Scaled(_Scale(1.0), weight=3)  # host work only: not the machine's scale
        self._images = _Scaled(scale, weight=1)  # image builds: each name is built once
        self._events: list[TraceEvent] = []  # a few hundred a run: each cell, image, total
        self._lock = threading.Lock()

    @property
    def finished(self) -> int:
        """Runnable cells finished so far."""
        return len(self._done)

    @property
    def cells(self) -> int:
        """Runnable cells in all."""
        return len(self._groups)

    def cell_finished(self, done: CellDone, at: float) -> None:
        with self._lock:
            self._events.append(TraceEvent(at_s=at - self.started, cell=done))
            self._done.add(done.id)
            group = self._groups.get(done.id)
            if group is None or done.image_id is None:
                return  # no work done: it says nothing about how long work takes
            cell = next(c for c in group.cells if c.id == done.id)
            std = 0.0
            if not done.cached and cell.std is not None:
                # built or found: either way the group's volume holds it now (a found one is not
                # in the history: without this, every later cell of the group paid for it)
                self._std_built.add(std_id(group.image, group.release, cell.std))
            if done.std is not None:
                self._std.add(group.image, done.std.seconds, self.priors.std(group.image))
                std = done.std.seconds
            if done.cached:
                self._cached.add("", done.seconds, self.priors.cached_s)
            else:
                seconds = max(0.0, done.seconds - std)
                self._cells.add(cell.toolchain, seconds, self.priors.cell(cell.toolchain))
            learned = _with_cell(self.learned, done, group)
            if learned is not self.learned:
                self._learn(learned)

    def images_passed(self, done: ImagesDone, at: float) -> None:
        with self._lock:
            self._events.append(TraceEvent(at_s=at - self.started, images=done))
            built = list(done.built)
            base = [b for b in self.work.images if b.kind is ImageKind.BASE]
            if done.base_s > 0 and base:
                built.insert(0, (base[0].name, done.base_s))
            builds = {build.name: build for build in self.work.images}
            for name, seconds in built:
                build = builds.get(name, ImageBuild(name=name, kind=ImageKind.TOOLCHAIN))
                self._images.add(name, seconds, self.priors.image(build))
            after = next((g.after for g in self.work.groups if g.image == done.image), 0)
            if after > self._images_done:
                self._images_done = after
                self._images_at = at
            if built:
                images = {**self.learned.images, **dict(built)}
                self._learn(dataclasses.replace(self.learned, images=images))

    def left(self, now: float) -> float:
        """Seconds until the last group ends, as the work looks now."""
        with self._lock:
            return self._left(now)

    def total(self, now: float) -> float:
        """The run's predicted wall time: elapsed plus what is left (kept in the trace)."""
        with self._lock:
            total = now - self.started + self._left(now)
            self._events.append(TraceEvent(at_s=now - self.started, total_s=total))
            return total

    def trace(self, wall_s: float | None) -> EstimateTrace:
        """Its inputs so far; `wall_s`: the run's wall time, None if it did not finish."""
        with self._lock:
            events = tuple(self._events)
        return EstimateTrace(
            work=self.work,
            history=self.history,
            priors=self.priors,
            events=events,
            wall_s=wall_s,
        )

    def _left(self, now: float) -> float:
        ready = self._ready_times(now)
        clock = now
        for group in self.work.groups:
            cells = [cell for cell in group.cells if cell.id not in self._done]
            if cells:
                clock = max(clock, ready[group.after]) + self._group_seconds(group, cells)
        return clock - now

    def _learn(self, durations: Durations) -> None:
        self.learned = durations
        if self._on_learn is not None:
            self._on_learn(durations)

    def _ready_times(self, now: float) -> list[float]:
        """ready[n]: when the first n image builds are done (ready[0]: at once)."""
        ready = [self.started] * (self._images_done + 1)
        clock = self._images_at
        for index, build in enumerate(self.work.images[self._images_done :]):
            clock += self._image_seconds(build)
            if index == 0:  # the one building now: when overdue, take it as about to end
                clock = max(clock, now)
            ready.append(clock)
        return ready

    def _image_seconds(self, build: ImageBuild) -> float:
        known = self.history.images.get(build.name)
        if known is not None:
            return known
        return self._images.get(build.name, self.priors.image(build))

    def _group_seconds(self, group: GroupWork, cells: Iterable[CellWork]) -> float:
        if group.skipped:
            return 0.0
        seconds = 0.0
        std_seen = set(group.std_present)
        for cell in cells:
            seconds += self._cell_seconds(cell)
            if cell.std is None or cell.std in std_seen:
                continue
            std_seen.add(cell.std)
            key = std_id(group.image, group.release, cell.std)
            if key not in self._std_built:
                seconds += self._std_seconds(group.image, key)
        return seconds

    def _cell_seconds(self, cell: CellWork) -> float:
        if cell.cached:
            return self._cached.get("", self.priors.cached_s)
        known = self.history.cells.get(cell.id)
        if known is not None:
            return known.seconds
        return self._cells.get(cell.toolchain, self.priors.cell(cell.toolchain))

    def _std_seconds(self, image: str, key: str) -> float:
        known = self.history.std.get(key)
        if known is not None:
            return known.seconds
        return self._std.get(image, self.priors.std(image))


def _with_cell(history: Durations, done: CellDone, group: GroupWork) -> Durations:
    """The history with `done` in it; a replayed cell keeps the seconds of its last build."""
    assert done.image_id is not None
    last = history.cells.get(done.id)
    if done.cached:
        seconds = last.seconds if last else done.stored_s
    else:
        seconds = max(0.0, done.seconds - (done.std.seconds if done.std else 0.0))
    entry = CellSeconds(seconds=seconds, image_id=done.image_id)
    if entry == last and done.std is None:
        return history  # a replay as the last one: nothing to save (a warm run writes nothing)
    cells = {**history.cells, done.id: entry}
    stds = dict(history.std)
    if done.std is not None:
        key = std_id(group.image, group.release, done.std.key)
        stds[key] = StdSeconds(seconds=done.std.seconds, image_id=done.image_id)
    return dataclasses.replace(history, cells=cells, std=stds)
