"""Combine the results of shard runs (`--shard I/N`) into one results document and report.

Inputs must agree on the matrix file (and, being read, on the schema version), and no cell may
appear twice. Each input's build logs are copied beside the merged results.json, so the report
can show them.

An incomplete input (a run that stopped before the end of its plan, see
orchestrator.results.completeness), or a set of `--shard I/N` inputs that lacks a shard, is
refused (exit 7) unless `--allow-incomplete` is given; then the merged document records what was
planned and that it is not complete, and every view of it says "incomplete: N of M cells".
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import ResultsError
from orchestrator.results.codec import RESULTS_FILE, load_results, write_results
from orchestrator.results.completeness import completeness, lacking_shards, missing_shards
from orchestrator.results.document import Machine, provenance, results_document
from orchestrator.results.model import (
    CellRecord,
    MergedInput,
    Provenance,
    ResultsDocument,
    Selection,
)


@dataclass(frozen=True, kw_only=True)
class ShardResults:
    """One input results file and its document."""

    path: Path
    document: ResultsDocument

    @property
    def folder(self) -> Path:
        return self.path.parent


def read_shard(path: Path) -> ShardResults:
    """A results file, or a directory holding one, read and checked."""
    file = path / RESULTS_FILE if path.is_dir() else path
    return ShardResults(path=file, document=load_results(file))


def merge_documents(
    shards: Sequence[ShardResults],
    *,
    baseline: str | None = None,
    allow_incomplete: bool = False,
) -> ResultsDocument:
    """One results document holding every shard's cells; refuses inconsistent shards.

    `baseline` is the --baseline the merged report is compared with, recorded as a run does.
    An incomplete input, or a missing shard, is refused unless `allow_incomplete`.
    """
    if not shards:
        raise ResultsError("merge needs at least one results file.")
    _same_matrix(shards)
    if not allow_incomplete:
        _complete(shards)
    cells = _cells_once(shards)
    provenances = [s.document.provenance for s in shards]
    run_ids = [p.run_id for p in provenances]
    finished = [p.finished for p in provenances]
    complete = [p.complete for p in provenances]
    merged = provenance(
        run_id=hashlib.sha256(" ".join(sorted(run_ids)).encode()).hexdigest()[:10],
        machine=Machine(
            host=_joined(p.host for p in provenances),
            platform=_joined(p.platform for p in provenances),
            python=_joined(p.python for p in provenances),
        ),
        matrix=provenances[0].matrix,
        selection=Selection(
            only=tuple(dict.fromkeys(g for p in provenances for g in p.selection.only)),
            shard=None,
            baseline=baseline,
        ),
        started=min(p.started for p in provenances),
        finished=None if None in finished else max(f for f in finished if f is not None),
        merged_from=[_merged_input(shard) for shard in shards],
        planned=_planned(provenances),
        complete=None if None in complete else all(complete),
    )
    document = results_document(merged, cells)
    if missing_shards(document):
        made = dataclasses.replace(document.provenance, complete=False)
        document = dataclasses.replace(document, provenance=made)
    return document


def _planned(provenances: Sequence[Provenance]) -> tuple[str, ...] | None:
    """Every input's planned cells, once each; None when an input did not record them."""
    plans = [p.planned for p in provenances]
    if any(plan is None for plan in plans):
        return None
    return tuple(sorted({cell for plan in plans for cell in plan or ()}))


def _complete(shards: Sequence[ShardResults]) -> None:
    for shard in shards:
        done = completeness(shard.document)
        if done.incomplete:
            raise ResultsError(
                f"{shard.path} is {done.sentence()}. A merge of it would publish missing cells "
                "as if they were never planned; run that shard again (cached cells are not "
                "rebuilt) or pass --allow-incomplete to merge what there is."
            )
    shard_of = [s.document.provenance.selection.shard for s in shards]
    if lacking := lacking_shards(shard_of):
        raise ResultsError(
            f"the inputs are shards {', '.join(s or '?' for s in shard_of)}: shard "
            f"{', '.join(lacking)} is missing (did its job time out or upload nothing?). "
            "Merge every shard, or pass --allow-incomplete to merge what there is."
        )


def _merged_input(shard: ShardResults) -> MergedInput:
    made = shard.document.provenance
    return MergedInput(
        file=str(shard.path),
        run_id=made.run_id,
        host=made.host,
        selection=made.selection,
        started=made.started,
        finished=made.finished,
        cells=len(shard.document.cells),
        planned=len(made.planned) if made.planned is not None else None,
        complete=made.complete,
    )


def _same_matrix(shards: Sequence[ShardResults]) -> None:
    matrices = {s.document.provenance.matrix for s in shards}
    if len(matrices) > 1:
        listing = "; ".join(f"{s.path}: {s.document.provenance.matrix}" for s in shards)
        raise ResultsError(
            f"cannot merge results of different matrix files ({listing}). "
            "Merge only the shards of one matrix."
        )


def _cells_once(shards: Sequence[ShardResults]) -> list[CellRecord]:
    owner: dict[str, int] = {}
    cells: list[CellRecord] = []
    for index, shard in enumerate(shards):
        for record in shard.document.cells:
            if record.id in owner:
                raise ResultsError(_duplicate_message(record.id, shards[owner[record.id]], shard))
            owner[record.id] = index
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


def _joined(values: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(values))


def copy_logs(shards: Sequence[ShardResults], out_dir: Path) -> list[Path]:
    """Copy every cell's build log from its shard's folder to the same place under `out_dir`."""
    copied: list[Path] = []
    for shard in shards:
        source_root = shard.folder.resolve()
        for record in shard.document.cells:
            if not record.log:
                continue
            source = (source_root / record.log).resolve()
            target = out_dir / record.log
            if not source.is_relative_to(source_root) or not source.is_file():
                continue
            if target.resolve() != source:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            copied.append(target)
    return copied


def merge_results(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    baseline: Path | None = None,
    allow_incomplete: bool = False,
) -> tuple[ResultsDocument, Path]:
    """Read, check and merge `paths` into `out_dir/results.json` with the shards' logs."""
    shards = [read_shard(path) for path in paths]
    document = merge_documents(
        shards, baseline=str(baseline) if baseline else None, allow_incomplete=allow_incomplete
    )
    results_path = out_dir / RESULTS_FILE
    if results_path.resolve() in {s.path.resolve() for s in shards}:
        raise ResultsError(
            f"--out {out_dir} holds one of the inputs ({results_path}); merge into another folder."
        )
    copy_logs(shards, out_dir)
    write_results(results_path, document)
    return document, results_path
