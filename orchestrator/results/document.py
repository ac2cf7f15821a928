"""results.json: versioned, written atomically as cells finish, each artifact with its sha256."""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator import __version__
from orchestrator.cell.observation import BuildRecord, Observation, RunRecord
from orchestrator.config.matrix import Toolchain
from orchestrator.errors import ResultsError
from orchestrator.judge import Verdict
from orchestrator.plan import Cell
from orchestrator.serial import to_data, write_json_atomic
from orchestrator.status import Reason, Status

SCHEMA_VERSION = 1


RESULTS_FILE = "results.json"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, kw_only=True)
class CellRun:
    """One finished cell with everything the report needs."""

    cell: Cell
    toolchain: Toolchain
    verdict: Verdict
    observation: Observation | None
    image_id: str | None
    cached: bool
    log_path: str | None
    bootstrap: bool = False


def cell_record(run: CellRun) -> dict[str, Any]:
    """The results.json entry of one cell."""
    cell, obs, verdict = run.cell, run.observation, run.verdict
    tools = obs.tools if obs else None
    return {
        "id": cell.id,
        "toolchain": cell.toolchain,
        "release": cell.release,
        "target": cell.target,
        "scenario": cell.scenario,
        "status": verdict.status.value,
        "reason": verdict.reason.value if verdict.reason else None,
        "detail": verdict.detail,
        "rustc": tools.rustc if tools else None,
        "cargo": tools.cargo if tools else None,
        "llvm": tools.llvm if tools else None,
        "linker": {
            "name": run.toolchain.route.linker,
            "version": tools.linker_version if tools else None,
        },
        "route": to_data(run.toolchain.route),
        "image": run.image_id,
        "duration_s": round(obs.duration_s, 3) if obs else 0.0,
        "cached": run.cached,
        "diagnostics": [to_data(d) for b in (obs.builds if obs else ()) for d in b.diagnostics],
        "artifacts": [_artifact_record(b) for b in (obs.builds if obs else ())],
        "checks": [to_data(c) for c in verdict.checks],
        "runs": [_run_record(r) for r in (obs.runs if obs else ())],
        "log": run.log_path,
    }


def _artifact_record(build: BuildRecord) -> dict[str, Any]:
    primary = build.primary_file()
    inspection = primary.inspection if primary else None
    return {
        "name": build.name,
        "kind": build.crate_type or build.target_kind,
        "built": build.built,
        "file": primary.path if primary else None,
        "format": inspection.format.value if inspection else None,
        "file_type": inspection.file_type if inspection else None,
        "machine": inspection.machine if inspection else None,
        "exports": list(inspection.exports) if inspection else [],
        "imports": list(inspection.imports) if inspection else [],
        "needed": list(inspection.needed) if inspection else [],
        "members": list(inspection.members) if inspection else [],
        "demangled": dict(inspection.demangled) if inspection else {},
        "data": list(inspection.data) if inspection else [],
        "interpreter": inspection.interpreter if inspection else None,
        "static": inspection.static if inspection else None,
        "notes": list(inspection.notes) if inspection else [],
        "sha256": primary.sha256 if primary else None,
        "size": primary.size if primary else None,
        "other_files": [
            {
                "file": f.file,
                "path": f.path,
                "sha256": f.sha256,
                "size": f.size,
                "format": f.inspection.format.value,
            }
            for f in build.files
            if f is not primary
        ],
        "build": {
            "command": list(build.command),
            "env": dict(build.env),
            "exit_code": build.exit_code,
            "duration_s": round(build.duration_s, 3),
        },
    }


RUN_OUTPUT_LIMIT = 4000


def _run_record(run: RunRecord) -> dict[str, Any]:
    """A run with its output (the last 4000 characters of each stream)."""
    return {
        "name": run.name,
        "artifact": run.artifact,
        "command": list(run.command),
        "exit_code": run.exit_code,
        "stdout": run.stdout[-RUN_OUTPUT_LIMIT:],
        "stderr": run.stderr[-RUN_OUTPUT_LIMIT:],
        "duration_s": round(run.duration_s, 3),
        "not_run": run.not_run,
    }


# results.json grows with every artifact's symbol lists (a staticlib carries all of std's names):
# rewriting it after every cell would make a run quadratic in its size. It is rewritten when the
# time since the last write is at least this many times what that write took, so writing takes
# at most about 1/(1+N) of a run; finish() (also reached on Ctrl-C) always writes. A killed run's
# finished cells are in the cell cache too: the next run replays them without building.
REWRITE_SPACING = 5


@dataclass(kw_only=True)
class ResultsFile:
    """The results document of one run, rewritten atomically as cells finish."""

    path: Path
    matrix: str
    selection: dict[str, Any]
    run_id: str
    started: str = field(default_factory=now_iso)
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)
    finished: str | None = None
    _last_write_ended: float = -math.inf
    _last_write_seconds: float = 0.0

    def add(self, record: dict[str, Any]) -> None:
        self.cells[record["id"]] = record
        since = time.monotonic() - self._last_write_ended
        if since >= REWRITE_SPACING * self._last_write_seconds:
            self.write()

    def finish(self) -> None:
        self.finished = now_iso()
        self.write()

    def document(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "provenance": {
                "orchestrator": f"linkmatrix {__version__}",
                "run_id": self.run_id,
                "host": platform.node(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "matrix": self.matrix,
                "selection": self.selection,
                "started": self.started,
                "finished": self.finished,
            },
            "summary": summarize(self.cells.values()),
            "cells": sorted(self.cells.values(), key=lambda r: r["id"]),
        }

    def write(self) -> None:
        started = time.monotonic()
        write_json_atomic(self.path, self.document())
        self._last_write_ended = time.monotonic()
        self._last_write_seconds = self._last_write_ended - started


def summarize(records: Any) -> dict[str, int]:
    """Count of cells per status, every status present (zeros included)."""
    counts = {status.value: 0 for status in Status}
    for record in records:
        counts[record["status"]] += 1
    return counts


def load_results(path: Path) -> dict[str, Any]:
    """A results.json document, checked for its schema version."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read results ({exc}).") from exc
    if document.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(
            f"{path}: schema_version {document.get('schema_version')!r}; "
            f"this linkmatrix reads {SCHEMA_VERSION}."
        )
    return dict(document)


def unbuilt_record(
    cell: Cell, toolchain: Toolchain, *, status: Status, reason: Reason, detail: str
) -> dict[str, Any]:
    """The entry of a cell that built nothing: not applicable, skipped, or its image failed."""
    verdict = Verdict(status=status, reason=reason, detail=detail, checks=())
    return cell_record(
        CellRun(
            cell=cell,
            toolchain=toolchain,
            verdict=verdict,
            observation=None,
            image_id=None,
            cached=False,
            log_path=None,
        )
    )
