"""Carry out a plan: images, one container per group, cells, judgement, results as they finish."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker

from orchestrator.cell.cache import CellCache, cell_key
from orchestrator.cell.observation import Observation
from orchestrator.cell.runner import CellRunner
from orchestrator.cell.vendor import vendor_scenario
from orchestrator.config.matrix import Matrix, TargetSpec, Toolchain
from orchestrator.engine.container import CellContainer, cleanup_containers
from orchestrator.engine.scratch import ScratchRunner, cleanup_scratch_images
from orchestrator.errors import ImageBuildError
from orchestrator.images.build import Images
from orchestrator.images.fetch import SdkMissing
from orchestrator.images.prefetch import ImagePrefetch
from orchestrator.images.volumes import cache_volume
from orchestrator.judge import judge
from orchestrator.log import Reporter
from orchestrator.plan import Cell, Group, Plan
from orchestrator.report import write_views as render_views
from orchestrator.results.document import (
    RESULTS_FILE,
    CellRun,
    ResultsFile,
    cell_record,
    unbuilt_record,
)
from orchestrator.results.model import CellRecord, Selection
from orchestrator.status import Reason, Status

UNCACHED = (Reason.TIMEOUT, Reason.ENGINE_ERROR, Reason.OOM)


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """Where results and caches go, and whether to ignore the cell cache."""

    out_dir: Path
    cache_dir: Path
    fresh: bool
    selection: Selection


def run_plan(
    client: docker.DockerClient, matrix: Matrix, plan: Plan, options: RunOptions, reporter: Reporter
) -> ResultsFile:
    """Run every group; the results file is complete or, if interrupted, holds what finished."""
    run_id = uuid.uuid4().hex[:10]
    results = ResultsFile(
        path=options.out_dir / RESULTS_FILE,
        matrix=str(matrix.path),
        selection=options.selection,
        run_id=run_id,
    )
    toolchains = {toolchain.name: toolchain for toolchain in matrix.toolchains}
    images = Images(client, matrix, reporter.event, downloads=options.cache_dir / "downloads")
    reporter.plan(plan, images.needs(list(plan.images)))
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
    prefetch = ImagePrefetch(images, plan.images)
    try:
        for group in plan.groups:
            GroupRun(
                client=client,
                matrix=matrix,
                images=prefetch,
                options=options,
                run_id=run_id,
                results=results,
                reporter=reporter,
            ).run(group)
    finally:
        with contextlib.suppress(docker.errors.DockerException):
            cleanup_containers(client, run_id)
            cleanup_scratch_images(client, run_id)
        results.finish()
        write_views(results)
    return results


def write_views(results: ResultsFile) -> None:
    """Every view of the results so far, beside results.json (also after an interruption)."""
    render_views(results.document(), results.path.parent)


def _finish(results: ResultsFile, reporter: Reporter, record: CellRecord) -> None:
    results.add(record)
    reporter.cell(record)


@dataclass(kw_only=True)
class GroupRun:
    """The cells of one image: cached ones replayed, the rest run in one container."""

    client: docker.DockerClient
    matrix: Matrix
    images: ImagePrefetch
    options: RunOptions
    run_id: str
    results: ResultsFile
    reporter: Reporter

    def run(self, group: Group) -> None:
        try:
            image = self.images.get(group.key)
        except SdkMissing as exc:
            for cell in group.cells:
                self._record_unbuilt(cell, Status.SKIP, Reason.SDK_MISSING, str(exc))
            return
        except ImageBuildError as exc:
            for cell in group.cells:
                self._record_unbuilt(cell, Status.ERROR, Reason.TOOLCHAIN_MISSING, str(exc))
            return
        cache = CellCache(root=self.options.cache_dir)
        with contextlib.ExitStack() as stack:
            runner: CellRunner | None = None
            for cell in group.cells:
                toolchain, target = self._coordinates(cell)
                scenario = self.matrix.scenario(cell.scenario)
                key = cell_key(cell_id=cell.id, image_id=image.id, target=target, scenario=scenario)
                observation = None if self.options.fresh else cache.load(key)
                cached = observation is not None
                if observation is None:
                    if runner is None:
                        runner = self._start(stack, image.tag, image.id)
                    cache.discard(key)
                    observation = runner.run(cell, scenario, target, cache.files(key))
                    if observation.failure is None or observation.failure.reason not in UNCACHED:
                        cache.store(key, observation)
                self._publish(
                    cell=cell,
                    toolchain=toolchain,
                    observation=observation,
                    image_id=image.id,
                    cached=cached,
                    files=cache.files(key),
                )

    def _start(self, stack: contextlib.ExitStack, tag: str, image_id: str) -> CellRunner:
        volume = cache_volume(image_id)
        container = stack.enter_context(
            CellContainer(
                self.client,
                tag,
                limits=self.matrix.limits,
                volumes={volume: "/cache"},
                run_id=self.run_id,
            )
        )
        scratch = ScratchRunner(client=self.client, limits=self.matrix.limits, run_id=self.run_id)
        vendor_root = self.options.cache_dir / "vendor"
        return CellRunner(
            container,
            self.matrix.limits,
            self.matrix.releases,
            scratch=scratch,
            vendors=lambda scenario: vendor_scenario(scenario.folder, vendor_root),
        )

    def _coordinates(self, cell: Cell) -> tuple[Toolchain, TargetSpec]:
        toolchain = next(t for t in self.matrix.toolchains if t.name == cell.toolchain)
        target = next(t for t in toolchain.targets if t.triple == cell.target)
        return toolchain, target

    def _publish(
        self,
        *,
        cell: Cell,
        toolchain: Toolchain,
        observation: Observation,
        image_id: str,
        cached: bool,
        files: Path,
    ) -> None:
        out = self.options.out_dir
        artifacts = out / "artifacts" / cell.slug
        shutil.rmtree(artifacts, ignore_errors=True)
        if files.is_dir():
            shutil.copytree(files, artifacts)
        log_path = out / "logs" / f"{cell.slug}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(observation.log, encoding="utf-8")
        verdict = judge(cell, self.matrix.scenario(cell.scenario), observation)
        record = cell_record(
            CellRun(
                cell=cell,
                toolchain=toolchain,
                verdict=verdict,
                observation=observation,
                image_id=image_id,
                cached=cached,
                log_path=log_path.relative_to(out).as_posix(),
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
        _finish(self.results, self.reporter, record)
