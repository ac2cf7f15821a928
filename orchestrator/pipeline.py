"""Carry out a plan: images, one container per group, cells, judgement, results as they finish.

Per cell: the cell cache (or the cell run in its container, then stored), the inspection step
(its own cache, by file content and inspector version), the judge, then the record published.
"""

from __future__ import annotations

import contextlib
import functools
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.cell.cache import BuildDigests, CellCache, cell_key
from orchestrator.cell.observation import CellOutput, Observation
from orchestrator.cell.observe import observe
from orchestrator.cell.runner import CellRunner, HostTimes
from orchestrator.cell.vendor import vendor_scenario
from orchestrator.config.matrix import Matrix, TargetSpec, Toolchain
from orchestrator.engine.container import (
    ENGINE_ERRORS,
    CellContainer,
    cleanup_containers,
    remove_orphans,
)
from orchestrator.engine.protocol import EngineClient
from orchestrator.engine.scratch import ScratchRunner, cleanup_scratch_images
from orchestrator.errors import ImageBuildError
from orchestrator.estimate import (
    CellDone,
    Durations,
    Estimator,
    ImagesDone,
    StdDone,
    load_durations,
    plan_work,
    save_durations,
    save_trace,
    trace_path,
)
from orchestrator.finisher import Finisher
from orchestrator.images.build import ImageNeeds, Images
from orchestrator.images.fetch import SdkMissing
from orchestrator.images.prefetch import ImagePrefetch
from orchestrator.images.releases import release_environment, rust_info_path
from orchestrator.images.volumes import cache_volume, present_volumes
from orchestrator.inspect import inspect_file
from orchestrator.inspect.cache import InspectionCache, inspector_version
from orchestrator.judge import Verdict, judge
from orchestrator.layout import Layout
from orchestrator.log import Reporter
from orchestrator.phases import Phases
from orchestrator.plan import Cell, CellWork, Group, Plan, cell_work
from orchestrator.report import write_views as render_views
from orchestrator.results.artifacts import LinkStats, link_tree
from orchestrator.results.document import (
    RESULTS_FILE,
    CellRun,
    ResultsFile,
    cell_record,
    unbuilt_record,
)
from orchestrator.results.model import CellRecord, Selection
from orchestrator.status import Reason, Status

UNCACHED = (Reason.TIMEOUT, Reason.ENGINE_ERROR, Reason.OOM, Reason.OUTPUT_LIMIT)


@dataclass(kw_only=True)
class RunEstimate:
    """The run's estimator, once the pipeline has made it: its caller writes the estimator's
    trace (`write_estimate_trace`) when the run's wall time is known, after the views.
    """

    estimator: Estimator | None = None


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """Where results and caches go, and whether to ignore the cell cache.

    `links` counts the artifact files linked (or copied) into the output folder as cells finish.
    """

    out_dir: Path
    cache_dir: Path
    fresh: bool
    selection: Selection
    links: LinkStats = field(default_factory=LinkStats)
    phases: Phases = field(default_factory=Phases)
    estimate: RunEstimate = field(default_factory=RunEstimate)


def run_plan(
    client: EngineClient,
    matrix: Matrix,
    plan: Plan,
    options: RunOptions,
    reporter: Reporter,
    *,
    final_write: bool = True,
) -> ResultsFile:
    """Run every group; the results file is complete or, if interrupted, holds what finished.

    `final_write=False`: a completed run's last write is the caller's (`write_final`), so it
    can happen while the views render; an interrupted run's is always done here.
    """
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:10]
    results = ResultsFile(
        path=options.out_dir / RESULTS_FILE,
        matrix=str(matrix.path),
        selection=options.selection,
        run_id=run_id,
        planned=tuple(cell.id for cell in plan.cells),
    )
    sweep_orphans(client, reporter)
    toolchains = {toolchain.name: toolchain for toolchain in matrix.toolchains}
    layout = Layout(out_dir=options.out_dir, cache_dir=options.cache_dir)
    images = Images(client, matrix, reporter.event, downloads=layout.downloads)
    needs = images.needs(list(plan.images))
    history = load_durations(layout.durations)
    estimator = Estimator(
        plan_work(
            plan, matrix, needs, history, fresh=options.fresh, volumes=_volumes(client, plan, needs)
        ),
        history,
        started=reporter.started,
        on_learn=lambda durations: _save_durations(layout.durations, durations),
    )
    options.estimate.estimator = estimator
    reporter.plan(plan, needs, estimator)
    for cell in plan.cells:
        if cell.not_applicable is not None:
            record = unbuilt_record(
                cell,
                toolchains[cell.toolchain],
                status=Status.NOT_APPLICABLE,
                reason=Reason.NOT_APPLICABLE,
                detail=cell.not_applicable,
            )
            _finish(results, reporter, record)
    prefetch = ImagePrefetch(
        images, plan.images, on_passed=ImageWatch(images=images, estimator=estimator)
    )
    finisher = Finisher()
    digests = BuildDigests()
    completed = False
    try:
        for group in plan.groups:
            GroupRun(
                client=client,
                matrix=matrix,
                images=prefetch,
                options=options,
                layout=layout,
                run_id=run_id,
                results=results,
                reporter=reporter,
                finisher=finisher,
                digests=digests,
                estimator=estimator,
            ).run(group)
        finisher.drain()
        completed = True
    finally:
        finisher.close()  # every cell built is published, even on Ctrl-C
        # the engine away: the containers are left for the next run's sweep (sweep_orphans)
        with contextlib.suppress(*ENGINE_ERRORS):
            cleanup_containers(client, run_id)
            cleanup_scratch_images(client, run_id)
        results.finish(complete=completed, write=final_write or not completed)
        options.phases.wall_s = time.monotonic() - started
        _count_image_builds(prefetch, options.phases)
        if not completed:
            write_views(results)
    return results


def write_estimate_trace(options: RunOptions, wall_s: float | None) -> None:
    """The estimator's inputs (`estimate-trace.json`), to replay and tune it offline
    (tools/replay_estimate.py); `wall_s` None: the run did not finish. A disk that refuses
    it costs only the trace; a run stopped before its estimator was made has none.
    """
    estimator = options.estimate.estimator
    if estimator is None:
        return
    layout = Layout(out_dir=options.out_dir, cache_dir=options.cache_dir)
    with contextlib.suppress(OSError):
        save_trace(trace_path(layout), estimator.trace(wall_s))


def _volumes(client: EngineClient, plan: Plan, needs: ImageNeeds) -> frozenset[str] | None:
    """The cache volumes of the plan's present images, for the estimate (None: the engine
    would not say; the estimate then goes by history alone).
    """
    releases = {group.key.release for group in plan.groups}
    if not needs.ids:
        return frozenset()  # a cold engine: nothing to ask
    try:
        return frozenset(present_volumes(client, needs.ids.values(), releases))
    except ENGINE_ERRORS:
        return None


def _save_durations(path: Path, durations: Durations) -> None:
    """The history for the next run's estimate, saved as it grows (an interrupted run teaches
    too); a disk that refuses it costs only the estimate.
    """
    with contextlib.suppress(OSError):
        save_durations(path, durations)


@dataclass(kw_only=True)
class ImageWatch:
    """Tells the estimate each time the image thread is past an image, with what it built."""

    images: Images
    estimator: Estimator
    told: set[str] = field(default_factory=set)
    base_told: bool = False

    def __call__(self, name: str) -> None:
        built = tuple((i.image, i.seconds) for i in self.images.built() if i.image not in self.told)
        self.told.update(image for image, _ in built)
        base_s = 0.0 if self.base_told else self.images.base_seconds
        self.base_told = self.base_told or base_s > 0
        self.estimator.images_passed(
            ImagesDone(image=name, built=built, base_s=base_s), time.monotonic()
        )


def sweep_orphans(client: EngineClient, reporter: Reporter) -> None:
    """Remove what runs of this host that are gone (SIGKILL, a crash) left, and say so.

    A left container may still hold a cargo build lock in a cache volume: the run would wait.
    """
    try:
        orphans = remove_orphans(client)
    except ENGINE_ERRORS as exc:
        reporter.event(f"could not look for containers left by earlier runs: {exc}")
        return
    if orphans.containers or orphans.images:
        reporter.event(orphans.describe())


def _count_image_builds(prefetch: ImagePrefetch, phases: Phases) -> None:
    """Every image the run built, the rust image and the base included (a parent was built
    inside its first child's build and counted by none before).
    """
    built, base_seconds = prefetch.built()
    phases.images_s = sum(image.seconds for image in built) + base_seconds
    phases.images_built = len(built) + (base_seconds > 0)


def write_views(results: ResultsFile) -> None:
    """Every view of what finished, beside results.json, when a run is interrupted or fails.

    A completed run's views are written once, by the caller (the CLI adds its baseline's diff).
    """
    render_views(results.document(), results.path.parent)


def _finish(results: ResultsFile, reporter: Reporter, record: CellRecord) -> None:
    results.add(record)
    reporter.cell(record)


@dataclass(kw_only=True)
class GroupRun:
    """The cells of one image: cached ones replayed, the rest run in one container."""

    client: EngineClient
    matrix: Matrix
    images: ImagePrefetch
    options: RunOptions
    layout: Layout
    run_id: str
    results: ResultsFile
    reporter: Reporter
    finisher: Finisher  # inspection, judgement and publishing, beside the next cell's build
    digests: BuildDigests
    estimator: Estimator

    def run(self, group: Group) -> None:
        waited_from = time.monotonic()
        try:
            image = self.images.get(group.key.image)
        except SdkMissing as exc:
            for cell in group.cells:
                self._record_unbuilt(cell, Status.SKIP, Reason.SDK_MISSING, str(exc))
            return
        except ImageBuildError as exc:
            for cell in group.cells:
                self._record_unbuilt(cell, Status.ERROR, Reason.TOOLCHAIN_MISSING, str(exc))
            return
        finally:
            self.options.phases.image_wait_s += time.monotonic() - waited_from
        cache = CellCache(root=self.layout.cells)
        inspections = InspectionCache(
            root=self.layout.inspections, version=inspector_version(), inspector=inspect_file
        )
        with contextlib.ExitStack() as stack:
            runner: CellRunner | None = None
            # a cell's seconds for the estimate run from the last one's telling to its own, so
            # that its publishing (after the telling, so its line shows the new estimate) counts
            mark = time.monotonic()
            for cell in group.cells:
                toolchain, target = self._coordinates(cell)
                work = cell_work(cell, self.matrix.scenario(cell.scenario))
                key = cell_key(
                    cell_id=cell.id,
                    image_id=image.id,
                    target=target,
                    scenario=work.scenario,
                    digests=self.digests,
                )
                output = None if self.options.fresh else cache.load(key, work.artifacts)
                cached = output is not None
                self.options.phases.cells_cached += cached
                if output is None:
                    if runner is None:
                        runner = self._start(stack, image.tag, image.id, group.key.release)
                    cache.discard(key)
                    output = runner.run(work, target, cache.files(key))
                    _count_steps(output, self.options.phases)
                    _count_host(runner.session.host, self.options.phases)
                    if _cacheable(output):
                        cache.store(key, output)
                now = time.monotonic()
                self._estimate(
                    CellDone(
                        id=cell.id,
                        seconds=now - mark,
                        cached=cached,
                        image_id=image.id,
                        std=_std_built(output) if not cached else None,
                        stored_s=output.duration_s,
                    )
                )
                mark = now
                finish = functools.partial(
                    self._finish_cell,
                    cell=cell,
                    toolchain=toolchain,
                    work=work,
                    output=output,
                    files=cache.files(key),
                    inspections=inspections,
                    image_id=image.id,
                    cached=cached,
                )
                self.finisher.submit(finish)

    def _finish_cell(
        self,
        *,
        cell: Cell,
        toolchain: Toolchain,
        work: CellWork,
        output: CellOutput,
        files: Path,
        inspections: InspectionCache,
        image_id: str,
        cached: bool,
    ) -> None:
        """Inspect, judge and publish one cell (in the finisher's thread)."""
        inspect_from = time.monotonic()
        observation = observe(output, files, inspections)
        verdict = judge(work, observation)
        publish_from = time.monotonic()
        self.options.phases.inspect_s += publish_from - inspect_from
        self._publish(
            cell=cell,
            toolchain=toolchain,
            observation=observation,
            verdict=verdict,
            image_id=image_id,
            cached=cached,
            files=files,
        )
        self.options.phases.publish_s += time.monotonic() - publish_from

    def _estimate(self, done: CellDone) -> None:
        """The estimate told, and its new figure kept for `nox -s bench` (phases.json)."""
        now = time.monotonic()
        self.estimator.cell_finished(done, now)
        self.options.phases.track_estimate(
            finished=self.estimator.finished,
            cells=self.estimator.cells,
            elapsed=now - self.estimator.started,
            total=self.estimator.total(now),
        )

    def _start(
        self, stack: contextlib.ExitStack, tag: str, image_id: str, release: str
    ) -> CellRunner:
        started = time.monotonic()
        volume = cache_volume(image_id, release)
        container = stack.enter_context(
            CellContainer(
                self.client,
                tag,
                limits=self.matrix.limits,
                volumes={volume: "/cache"},
                run_id=self.run_id,
                environment=release_environment(self.matrix, release),
            )
        )
        self.options.phases.container_starts_s += time.monotonic() - started
        scratch = ScratchRunner(client=self.client, limits=self.matrix.limits, run_id=self.run_id)
        vendor_root = self.layout.vendor
        return CellRunner(
            container,
            self.matrix.limits,
            releases=self.matrix.releases,
            scratch=scratch,
            vendors=lambda scenario: vendor_scenario(scenario.folder, vendor_root),
            rust_info=rust_info_path(self.matrix, release),
        )

    def _coordinates(self, cell: Cell) -> tuple[Toolchain, TargetSpec]:
        toolchain = next(t for t in self.matrix.toolchains if t.name == cell.toolchain)
        target = next(t for t in toolchain.targets if t.triple == cell.target)
        return toolchain, target.for_release(cell.release)

    def _publish(
        self,
        *,
        cell: Cell,
        toolchain: Toolchain,
        observation: Observation,
        verdict: Verdict,
        image_id: str,
        cached: bool,
        files: Path,
    ) -> None:
        # hardlinks, not copies: the cache's files never change in place (a rebuilt cell gets
        # new files), and a whole-matrix run would otherwise copy over a gigabyte every time
        link_tree(files, self.layout.artifacts(cell.slug), self.options.links)
        log_path = self.layout.log(cell.slug)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(observation.log, encoding="utf-8")
        record = cell_record(
            CellRun(
                cell=cell,
                toolchain=toolchain,
                verdict=verdict,
                observation=observation,
                image_id=image_id,
                cached=cached,
                log_path=self.layout.relative(log_path),
            )
        )
        _finish(self.results, self.reporter, record)

    def _record_unbuilt(self, cell: Cell, status: Status, reason: Reason, message: str) -> None:
        """A cell whose image could not be made: an error, or a skip when an SDK is missing."""
        toolchain, _ = self._coordinates(cell)
        record = unbuilt_record(
            cell,
            toolchain,
            status=status,
            reason=reason,
            detail=f"image {cell.image}@{cell.release}: {message}",
        )
        self._estimate(CellDone(id=cell.id, seconds=0.0, cached=False, image_id=None))
        self.finisher.submit(functools.partial(_finish, self.results, self.reporter, record))


def _count_steps(output: CellOutput, phases: Phases) -> None:
    """A cell's in-container work: its builds and runs, and apart from them its std build."""
    phases.cells_run += 1
    steps = sum(b.duration_s for b in output.builds) + sum(r.duration_s for r in output.runs)
    phases.steps_s += steps
    std = 0.0
    if output.std is not None and output.std.built:
        phases.std_builds += 1
        std = output.std.seconds
        phases.std_s += std
    phases.cell_other_s += max(0.0, output.duration_s - steps - std)


def _std_built(output: CellOutput) -> StdDone | None:
    """The std build a cell just did, if it did one."""
    if output.std is None or not output.std.built:
        return None
    return StdDone(key=output.std.key, seconds=output.std.seconds)


def _count_host(host: HostTimes, phases: Phases) -> None:
    """The parts of a cell's host work that are timed where they happen."""
    sources_in, files_out, prepare, housekeeping = host.take()
    phases.sources_in_s += sources_in
    phases.files_out_s += files_out
    phases.housekeeping_s += housekeeping
    # a scenario's prepare commands compile in the container (a C staticlib, a Java class):
    # cell steps, not the host's overhead
    phases.steps_s += prepare
    phases.cell_other_s -= prepare


def _cacheable(output: CellOutput) -> bool:
    """A cell that ended on its own; a kill (deadline, memory, output limit) or the engine
    failing may not recur, and another limit may not kill it at all.
    """
    return output.failure is None or output.failure.reason not in UNCACHED
