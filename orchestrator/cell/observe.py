"""The inspection step: a cell's output, its files read by the (cached) inspectors → Observation.

It runs on the host after the cell cache, so a cached cell is re-inspected, not rebuilt, when the
inspectors change.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.cell.observation import (
    ArtifactFile,
    BuildOutput,
    BuildRecord,
    BuiltFile,
    CellOutput,
    Failure,
    Observation,
)
from orchestrator.inspect.cache import InspectionCache
from orchestrator.inspect.model import InspectionError
from orchestrator.status import Reason


class _Unreadable(Exception):
    """A file the inspectors could not read, with the failure the cell records for it."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


def observe(output: CellOutput, files_dir: Path, inspections: InspectionCache) -> Observation:
    """Every built file inspected; a file that cannot be read ends the cell at its build.

    The cell then records what it recorded when inspection ran inside it: the builds before that
    one, no runs, the log up to that build, and the inspection failure.
    """
    builds: list[BuildRecord] = []
    for build in output.builds:
        try:
            builds.append(_inspect_build(build, files_dir / build.name, inspections))
        except _Unreadable as unreadable:
            return Observation(
                tools=output.tools,
                builds=tuple(builds),
                runs=(),
                failure=unreadable.failure,
                log=output.log[: build.log_end],
                duration_s=output.duration_s,
                std=output.std,
            )
    return Observation(
        tools=output.tools,
        builds=tuple(builds),
        runs=output.runs,
        failure=output.failure,
        log=output.log,
        duration_s=output.duration_s,
        std=output.std,
    )


def _inspect_build(build: BuildOutput, folder: Path, inspections: InspectionCache) -> BuildRecord:
    return BuildRecord(
        name=build.name,
        package=build.package,
        target_kind=build.target_kind,
        crate_type=build.crate_type,
        command=build.command,
        env=build.env,
        exit_code=build.exit_code,
        duration_s=build.duration_s,
        diagnostics=build.diagnostics,
        files=tuple(_inspect_file(built, folder, inspections) for built in build.files),
        primary=build.primary,
        rustc=build.rustc,
        bootstrap=build.bootstrap,
        rustflags=build.rustflags,
        crate_files=build.crate_files,
    )


def _inspect_file(built: BuiltFile, folder: Path, inspections: InspectionCache) -> ArtifactFile:
    try:
        inspection = inspections.inspect(folder / built.file, built.sha256)
    except InspectionError as exc:
        raise _Unreadable(
            Failure(reason=Reason.INSPECTION_ERROR, step=f"inspect {built.file}", detail=str(exc))
        ) from exc
    return ArtifactFile(
        file=built.file,
        path=built.path,
        source=built.source,
        sha256=built.sha256,
        size=built.size,
        inspection=inspection,
    )
