"""The one reader and the one writer of results.json."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.errors import ResultsError
from orchestrator.results.model import SCHEMA_VERSION, ResultsDocument
from orchestrator.serial import DataError, decode, to_data, write_json_atomic

RESULTS_FILE = "results.json"


def load_results(path: Path) -> ResultsDocument:
    """A results.json document, its schema version and every value's type checked.

    Whatever is wrong with the file (unreadable, not JSON, another schema version, a key or
    value out of place) is a ResultsError naming the file, never a traceback.
    """
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: not a linkmatrix results file (not a JSON object).")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultsError(
            f"{path}: schema_version {version!r}; this linkmatrix reads {SCHEMA_VERSION}."
        )
    try:
        return decode(ResultsDocument, data)
    except DataError as exc:
        raise ResultsError(f"{path}: not a linkmatrix results file ({exc}).") from exc


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text)
    # ValueError: not UTF-8, not JSON; RecursionError: nested deeper than the parser goes
    except (OSError, ValueError, RecursionError) as exc:
        raise ResultsError(f"{path}: cannot read results ({exc}).") from exc


def write_results(path: Path, document: ResultsDocument) -> None:
    """Write atomically: a reader never sees a torn file."""
    write_json_atomic(path, to_data(document))
