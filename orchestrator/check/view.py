"""What a check shows on the terminal, and what it compares with the snapshot. Pure.

Both read the results model: each cell's artifacts with the crate's own exported names (the
noise rule of check/noise.py applied), its imports and needed libraries, or why it did not build.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.check.noise import Filter, crate_names
from orchestrator.check.snapshot import Cells, Entry
from orchestrator.results.model import ArtifactRecord, CellRecord
from orchestrator.status import Status

SHOWN = 8  # names listed per line before "(+N more)"
# cells that built nothing to compare: their columns are neither checked nor blessed
NOT_CARRIED_OUT = (Status.ERROR, Status.SKIP, Status.NOT_APPLICABLE)


def observed_cells(records: Sequence[CellRecord], rule: Filter) -> Cells:
    """Each carried-out cell's artifacts as snapshot entries; an erred cell is not observed."""
    return {
        record.column: {artifact.name: _entry(artifact, rule) for artifact in record.artifacts}
        for record in records
        if record.status not in NOT_CARRIED_OUT
    }


def erred(records: Sequence[CellRecord]) -> list[CellRecord]:
    """The cells that could not be carried out (timeout, engine, vendoring, ...)."""
    return [record for record in records if record.status is Status.ERROR]


def table(records: Sequence[CellRecord], rule: Filter) -> list[str]:
    """Per cell, per artifact: built or not, the crate's exports, imports and needed."""
    lines: list[str] = []
    for record in sorted(records, key=lambda r: r.column):
        lines.append(record.column)
        if record.status in NOT_CARRIED_OUT:
            reason = record.reason.value if record.reason else record.status.value
            lines.append(f"  {record.status.value}: {reason}: {_first_line(record.detail)}")
            continue
        width = max((len(a.name) for a in record.artifacts), default=0)
        for artifact in record.artifacts:
            lines += _artifact_lines(artifact, record, rule, width)
    return lines


def _artifact_lines(
    artifact: ArtifactRecord, record: CellRecord, rule: Filter, width: int
) -> list[str]:
    name = artifact.name.ljust(width)
    if not artifact.built:
        log = f" (log: {record.log})" if record.log else ""
        return [f"  {name}  not built: {_first_error(record, artifact.name)}{log}"]
    exports = crate_names(artifact.exports or (), artifact.demangled, rule)
    hidden = len(set(artifact.exports or ())) - len(exports)
    noise = f", {hidden} platform/std names not shown" if hidden > 0 else ""
    pad = " " * width
    return [
        f"  {name}  built ({artifact.format}): exports {len(exports)}{noise}: {_short(exports)}",
        f"  {pad}  imports {len(artifact.imports or ())}: {_short(artifact.imports or ())}",
        f"  {pad}  needs {_short(artifact.needed or ()) or '-'}",
    ]


def _entry(artifact: ArtifactRecord, rule: Filter) -> Entry:
    exports = crate_names(artifact.exports or (), artifact.demangled, rule)
    return Entry(built=artifact.built, exports=exports if artifact.built else ())


def _first_error(record: CellRecord, artifact: str) -> str:
    """Why the artifact did not build: rustc's first error, else its warning that it dropped a
    crate type the target cannot have (a `dylib` on wasm32: rustc then succeeds with no file),
    else the cell's detail. Read from the artifact's own diagnostics (another artifact's error
    is not this one's reason); a document older than that attribution offers the cell's.
    """
    own = record.artifact_diagnostics(artifact)
    diagnostics = own if own or not record.unattributed_diagnostics else record.diagnostics
    errors = [
        d.message
        for d in diagnostics
        if d.level == "error" and not d.message.startswith("aborting due to")
    ]
    dropped = [d.message for d in diagnostics if "crate type" in d.message]
    chosen = errors or dropped or [record.detail or "no file came out (see the log)"]
    return _first_line(chosen[0])


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _short(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" (+{len(names) - SHOWN} more)" if len(names) > SHOWN else "")
