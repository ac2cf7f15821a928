"""Combine the results of shard runs (`--shard I/N`) into one results document and report.

Inputs must agree on the schema version and the matrix file, and no cell may appear twice.
Each input's build logs are copied beside the merged results.json, so the report can show them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator import __version__
from orchestrator.errors import ResultsError
from orchestrator.results.document import RESULTS_FILE, SCHEMA_VERSION, summarize
from orchestrator.serial import write_json_atomic


@dataclass(frozen=True, kw_only=True)
class ShardResults:
    """One input results file and its document."""

    path: Path
    document: dict[str, Any]

    @property
    def folder(self) -> Path:
        return self.path.parent


def read_shard(path: Path) -> ShardResults:
    """A results file, or a directory holding one, read as JSON (versions are checked later)."""
    file = path / RESULTS_FILE if path.is_dir() else path
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{file}: cannot read results ({exc}).") from exc
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise ResultsError(f"{file}: not a linkmatrix results file (no `cells` list).")
    return ShardResults(path=file, document=document)


def merge_documents(shards: Sequence[ShardResults]) -> dict[str, Any]:
    """One results document holding every shard's cells; refuses inconsistent shards."""
    if not shards:
        raise ResultsError("merge needs at least one results file.")
    _same_schema_version(shards)
    _same_matrix(shards)
    cells = _cells_once(shards)
    provenances = [s.document["provenance"] for s in shards]
    run_ids = [str(p["run_id"]) for p in provenances]
    finished = [p.get("finished") for p in provenances]
    provenance = {
        "orchestrator": f"linkmatrix {__version__}",
        "run_id": hashlib.sha256(" ".join(sorted(run_ids)).encode()).hexdigest()[:10],
        "host": _joined(p["host"] for p in provenances),
        "platform": _joined(p["platform"] for p in provenances),
        "python": _joined(p["python"] for p in provenances),
        "matrix": provenances[0]["matrix"],
        "selection": {
            "only": list(dict.fromkeys(g for p in provenances for g in p["selection"]["only"])),
            "shard": None,
        },
        "started": min(str(p["started"]) for p in provenances),
        "finished": None if None in finished else max(str(f) for f in finished),
        "merged_from": [
            {
                "file": str(shard.path),
                "run_id": str(p["run_id"]),
                "host": p["host"],
                "selection": p["selection"],
                "started": p["started"],
                "finished": p["finished"],
                "cells": len(shard.document["cells"]),
            }
            for shard, p in zip(shards, provenances, strict=True)
        ],
    }
    ordered = sorted(cells, key=lambda r: r["id"])
    return {
        "schema_version": SCHEMA_VERSION,
        "provenance": provenance,
        "summary": summarize(ordered),
        "cells": ordered,
    }


def _same_schema_version(shards: Sequence[ShardResults]) -> None:
    versions = {s.document.get("schema_version") for s in shards}
    if len(versions) > 1:
        listing = "; ".join(f"{s.path}: {s.document.get('schema_version')!r}" for s in shards)
        raise ResultsError(
            f"cannot merge results of different schema versions ({listing}). "
            "Re-run the older shards with this linkmatrix."
        )
    if versions != {SCHEMA_VERSION}:
        raise ResultsError(
            f"cannot merge: these results have schema_version {versions.pop()!r}; "
            f"this linkmatrix reads {SCHEMA_VERSION}."
        )


def _same_matrix(shards: Sequence[ShardResults]) -> None:
    matrices = {str(s.document["provenance"]["matrix"]) for s in shards}
    if len(matrices) > 1:
        listing = "; ".join(f"{s.path}: {s.document['provenance']['matrix']}" for s in shards)
        raise ResultsError(
            f"cannot merge results of different matrix files ({listing}). "
            "Merge only the shards of one matrix."
        )


def _cells_once(shards: Sequence[ShardResults]) -> list[dict[str, Any]]:
    owner: dict[str, int] = {}
    cells: list[dict[str, Any]] = []
    for index, shard in enumerate(shards):
        for record in shard.document["cells"]:
            cell_id = record["id"]
            if cell_id in owner:
                raise ResultsError(_duplicate_message(cell_id, shards[owner[cell_id]], shard))
            owner[cell_id] = index
            cells.append(record)
    return cells


def _duplicate_message(cell_id: str, first: ShardResults, second: ShardResults) -> str:
    if first is second:
        return f"cell {cell_id} is twice in {first.path}; that file was edited by hand or is torn."
    return (
        f"cell {cell_id} is in both {first.path} and {second.path}: was one shard's results "
        "given twice, or shards of different --shard counts or overlapping --only selections? "
        "Merge each cell's results once."
    )


def _joined(values: Any) -> str:
    return ", ".join(dict.fromkeys(str(v) for v in values))


def copy_logs(shards: Sequence[ShardResults], out_dir: Path) -> list[Path]:
    """Copy every cell's build log from its shard's folder to the same place under `out_dir`."""
    copied: list[Path] = []
    for shard in shards:
        source_root = shard.folder.resolve()
        for record in shard.document["cells"]:
            recorded = record.get("log")
            if not recorded:
                continue
            source = (source_root / recorded).resolve()
            target = out_dir / recorded
            if not source.is_relative_to(source_root) or not source.is_file():
                continue
            if target.resolve() != source:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            copied.append(target)
    return copied


def merge_results(paths: Sequence[Path], out_dir: Path) -> tuple[dict[str, Any], Path]:
    """Read, check and merge `paths` into `out_dir/results.json` with the shards' logs."""
    shards = [read_shard(path) for path in paths]
    document = merge_documents(shards)
    results_path = out_dir / RESULTS_FILE
    if results_path.resolve() in {s.path.resolve() for s in shards}:
        raise ResultsError(
            f"--out {out_dir} holds one of the inputs ({results_path}); merge into another folder."
        )
    copy_logs(shards, out_dir)
    write_json_atomic(results_path, document)
    return document, results_path
