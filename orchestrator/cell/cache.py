"""Finished cells by the hash of their inputs, so an unchanged cell is never built twice."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from orchestrator.cell.observation import CellOutput
from orchestrator.config.matrix import TargetSpec
from orchestrator.config.scenario import ArtifactSpec, Scenario
from orchestrator.layout import is_source
from orchestrator.serial import decode, to_data, write_json_atomic

CACHE_VERSION = "3"  # 3: the cell keeps un-inspected files (CellOutput); inspection is apart
OUTPUT_FILE = "output.json"
PACKAGE = Path(__file__).resolve().parents[1]
# The code whose behaviour a cached cell output records, hashed whole so that no file is
# forgotten: the cell stage and the engine it drives (what is built, run and copied out), format
# detection (which file is primary, which one runs), the output layout (the paths the files are
# recorded under) and the closed sets of status.py. The inspectors are not in it: they run after
# the cache, with their own (inspect/cache.py), so fixing one re-inspects instead of rebuilding.
CELL_STAGE_CODE = ("cell", "engine", "inspect/detect.py", "layout.py", "status.py")


def cell_code_files() -> list[Path]:
    """The source files of CELL_STAGE_CODE, in a stable order."""
    files: list[Path] = []
    for entry in CELL_STAGE_CODE:
        path = PACKAGE / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


@functools.cache
def cell_code_digest() -> str:
    digest = hashlib.sha256()
    for source in cell_code_files():
        digest.update(source.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(source.read_bytes())
    return digest.hexdigest()


def scenario_build_digest(scenario: Scenario) -> str:
    """Every source file of the scenario and what it builds, but not its expectations.

    Editing a check re-judges the cached artifacts; editing a source or a build flag rebuilds.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in scenario.folder.rglob("*") if p.is_file()):
        relative = PurePosixPath(path.relative_to(scenario.folder).as_posix())
        if path.name == "scenario.yaml" or not is_source(relative):
            continue
        digest.update(path.relative_to(scenario.folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    build = [to_data(scenario.artifacts), scenario.prepare, to_data(scenario.runs)]
    digest.update(json.dumps(build).encode())
    return digest.hexdigest()


@dataclass(kw_only=True)
class BuildDigests:
    """Each scenario's build digest, read once for one run: a scenario's cells (up to 26) share
    it, and hashing its folder again for each cell was a seventh of a warm whole-matrix run.
    """

    known: dict[str, str] = field(default_factory=dict)

    def of(self, scenario: Scenario) -> str:
        if scenario.name not in self.known:
            self.known[scenario.name] = scenario_build_digest(scenario)
        return self.known[scenario.name]


def cell_key(
    *,
    cell_id: str,
    image_id: str,
    target: TargetSpec,
    scenario: Scenario,
    digests: BuildDigests | None = None,
) -> str:
    """The cache key of a cell: its image, its target's fixed flags, its scenario's build inputs."""
    text = json.dumps(
        [
            CACHE_VERSION,
            cell_code_digest(),
            cell_id,
            image_id,
            to_data(target),
            digests.of(scenario) if digests else scenario_build_digest(scenario),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True, kw_only=True)
class CellCache:
    """`<root>/<key>/`: output.json and the artifact files it names (`files/<artifact>/<file>`).

    `root` is the layout's `cells` folder.
    """

    root: Path

    def folder(self, key: str) -> Path:
        return self.root / key

    def files(self, key: str) -> Path:
        return self.folder(key) / "files"

    def load(self, key: str, artifacts: Iterable[ArtifactSpec]) -> CellOutput | None:
        """The cell's stored output, or None (a miss: the cell is built again).

        A miss too: an entry that cannot be read or does not decode into the typed model, one
        that ran to its end (no failure) without a build of each of the cell's `artifacts`, or
        one whose files are not all there as recorded. A damaged entry never aborts a run and
        never replays as a pass.
        """
        path = self.folder(key) / OUTPUT_FILE
        try:
            output = decode(CellOutput, json.loads(path.read_text(encoding="utf-8")))
        # OSError: absent or unreadable; ValueError: not UTF-8, not JSON, or DataError (the
        # wrong shape); RecursionError: nested deeper than the parser goes
        except (OSError, ValueError, RecursionError):
            return None
        return output if self._complete(key, output, artifacts) else None

    def _complete(self, key: str, output: CellOutput, artifacts: Iterable[ArtifactSpec]) -> bool:
        built = {build.name for build in output.builds}
        if output.failure is None and not {spec.name for spec in artifacts} <= built:
            return False
        files = self.files(key)
        for build in output.builds:
            for file in build.files:
                stored = files / build.name / file.file
                if not stored.is_file() or stored.stat().st_size != file.size:
                    return False
        return True

    def store(self, key: str, output: CellOutput) -> None:
        write_json_atomic(self.folder(key) / OUTPUT_FILE, to_data(output))

    def discard(self, key: str) -> None:
        shutil.rmtree(self.folder(key), ignore_errors=True)
