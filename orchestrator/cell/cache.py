"""Finished cells by the hash of their inputs, so an unchanged cell is never built twice."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from orchestrator.cell.observation import Observation
from orchestrator.config.matrix import TargetSpec
from orchestrator.config.scenario import Scenario
from orchestrator.serial import from_data, to_data, write_json_atomic

CACHE_VERSION = "2"
OBSERVATION_FILE = "observation.json"
PACKAGE = Path(__file__).resolve().parents[1]
# The code that decides what a cell builds, runs and reads: a change to it re-runs the cells.
BUILD_CODE = ("cell", "engine", "status.py", "inspect")


@functools.cache
def build_code_digest() -> str:
    digest = hashlib.sha256()
    for entry in BUILD_CODE:
        path = PACKAGE / entry
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(PACKAGE).as_posix().encode() + b"\0")
            digest.update(source.read_bytes())
    return digest.hexdigest()


def scenario_build_digest(scenario: Scenario) -> str:
    """Every source file of the scenario and what it builds, but not its expectations.

    Editing a check re-judges the cached artifacts; editing a source or a build flag rebuilds.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in scenario.folder.rglob("*") if p.is_file()):
        if path.name == "scenario.yaml" or "target" in path.relative_to(scenario.folder).parts:
            continue
        digest.update(path.relative_to(scenario.folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    build = [to_data(scenario.artifacts), scenario.prepare, to_data(scenario.runs)]
    digest.update(json.dumps(build).encode())
    return digest.hexdigest()


def cell_key(*, cell_id: str, image_id: str, target: TargetSpec, scenario: Scenario) -> str:
    """The cache key of a cell: its image, its target's fixed flags, its scenario's build inputs."""
    text = json.dumps(
        [
            CACHE_VERSION,
            build_code_digest(),
            cell_id,
            image_id,
            to_data(target),
            scenario_build_digest(scenario),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True, kw_only=True)
class CellCache:
    """`<root>/cells/<key>/`: observation.json and the artifact files it names."""

    root: Path

    def folder(self, key: str) -> Path:
        return self.root / "cells" / key

    def files(self, key: str) -> Path:
        return self.folder(key) / "files"

    def load(self, key: str) -> Observation | None:
        path = self.folder(key) / OBSERVATION_FILE
        if not path.is_file():
            return None
        try:
            return from_data(Observation, json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def store(self, key: str, observation: Observation) -> None:
        write_json_atomic(self.folder(key) / OBSERVATION_FILE, to_data(observation))

    def discard(self, key: str) -> None:
        shutil.rmtree(self.folder(key), ignore_errors=True)
