"""The one reader and the one writer of results.json.

Schema version 4 (what is written; version 3 stored the same but knew no `flaky` status, so
its summary reads with a zero count of them) stores every symbol name once. An artifact's `exports`,
`imports`, `needed`, `members` and `data` are lists of references to `symbols.names`;
`symbols.demangled` holds `[mangled, readable]` pairs of indices into `symbols.names`. std's
names, shared by every staticlib of a column, are thus stored once. An artifact's readable
names are those of its exports that `symbols.demangled` has, in export order (demangling is a
function of the name), so an artifact stores a `demangled` list of pair indices only where its
names differ from that. A reference is an index, or `[first, count]` for `count` (3 or more)
consecutive indices: names are numbered in first-seen order, so an artifact listing what an
earlier one listed (std's symbols in every staticlib of a column) refers to one run of them.
Version 2 (single indices only) and version 1 (every list spelled out) are still read. In memory
a document is always expanded: only this module knows the stored form.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from orchestrator.errors import ResultsError
from orchestrator.results.model import (
    SCHEMA_VERSION,
    ArtifactRecord,
    CellRecord,
    ResultsDocument,
)
from orchestrator.serial import DataError, decode, to_data
from orchestrator.status import Status

RESULTS_FILE = "results.json"
READABLE_VERSIONS = (1, 2, 3, 4, SCHEMA_VERSION)
# statuses a document of an older version cannot hold, hence never counted in its summary
ADDED_STATUSES = {4: (Status.FLAKY,)}
SHORTEST_RUN = 3  # consecutive references stored as [first, count]; shorter ones are no smaller

# The artifact keys that hold names, stored as index lists into symbols.names.
NAME_LISTS = ("exports", "imports", "needed", "members", "data")
# The artifact key that holds mangled → readable names, stored as indices into symbols.demangled.
DEMANGLED = "demangled"
SYMBOLS = "symbols"
# A legacy-mangled name ends in its hash (`…17h<16 hex digits>E`), and its readable form repeats
# it (`std::io::stdio::_print::h0123456789abcdef`): per column, std's thousands of names differ
# in that hash alone. Version 5 stores such a readable name as its stem, shared by every column,
# referred to by a negative index (-1 - the stem's index); the reader adds the hash back.
LEGACY_HASH = re.compile(r"17h([0-9a-f]{16})E$")
HASH_SUFFIX_LENGTH = len("::h") + 16

T = TypeVar("T")
JsonObject = dict[str, object]


def load_results(path: Path) -> ResultsDocument:
    """A results.json document (version 1 to 4), its every value's type checked.

    Whatever is wrong with the file (unreadable, not JSON, another schema version, a key or
    value out of place, an index out of range, a summary without every status) is a
    ResultsError naming the file, never a traceback. A version-1 document reads as the current
    version: writing it converts it.
    """
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: not a linkmatrix results file (not a JSON object).")
    version = data.get("schema_version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        *older, newest = map(str, READABLE_VERSIONS)
        readable = f"{', '.join(older)} and {newest}"
        raise ResultsError(f"{path}: schema_version {version!r}; this linkmatrix reads {readable}.")
    try:
        if version != 1:
            data = expand(data)
        _count_added_statuses(data, version)
        data["schema_version"] = SCHEMA_VERSION
        return _every_status_counted(decode(ResultsDocument, data))
    except DataError as exc:
        raise ResultsError(f"{path}: not a linkmatrix results file ({exc}).") from exc


def _count_added_statuses(data: JsonObject, version: int) -> None:
    """An older document's summary with a zero for each status added since its version."""
    summary = data.get("summary")
    if not isinstance(summary, dict):
        return  # decoding says what is wrong with it
    for added_in, statuses in ADDED_STATUSES.items():
        if version < added_in:
            for status in statuses:
                summary.setdefault(status.value, 0)


def _every_status_counted(document: ResultsDocument) -> ResultsDocument:
    """The views show a count per status: a summary that lacks one is a damaged file."""
    if missing := [status.value for status in Status if status not in document.summary]:
        raise DataError("summary", f"no count for {', '.join(missing)}")
    return document


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text)
    # ValueError: not UTF-8, not JSON; RecursionError: nested deeper than the parser goes
    except (OSError, ValueError, RecursionError) as exc:
        raise ResultsError(f"{path}: cannot read results ({exc}).") from exc


def write_results(path: Path, document: ResultsDocument) -> None:
    """Write the current form atomically: a reader never sees a torn file.

    A failed write (disk full, read-only folder) is a ResultsError naming the file; the file
    written before, if any, is left as it was.
    """
    text = encode(document)
    try:
        _write_text_atomic(path, text)
    except OSError as exc:
        raise ResultsError(f"{path}: cannot write results ({exc.strerror or exc}).") from exc


def encode(document: ResultsDocument) -> str:
    """The text of results.json: names interned, a line per cell and per name."""
    return _dumps(stored_data(document)) + "\n"


def encode_v1(document: ResultsDocument) -> str:
    """The text a version-1 writer made of `document`: every list spelled out, indented, and
    no count for a status version 1 did not have.
    """
    data = {**to_data(document), "schema_version": 1}
    later = {status.value for statuses in ADDED_STATUSES.values() for status in statuses}
    data["summary"] = {key: n for key, n in data["summary"].items() if key not in later}
    return json.dumps(data, indent=2) + "\n"


# -- writing: intern every name ------------------------------------------------------------


@dataclasses.dataclass
class _Interner:
    """Each distinct name (and mangled → readable pair) numbered in first-seen order."""

    names: dict[str, int] = dataclasses.field(default_factory=dict)
    pairs: dict[tuple[int, int], int] = dataclasses.field(default_factory=dict)
    known: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)  # by names

    def name_refs(self, names: Iterable[str]) -> list[int]:
        index = self.names
        return [index.setdefault(name, len(index)) for name in names]

    def pair_refs(self, demangled: Iterable[tuple[str, str]]) -> list[int]:
        # by the pair of names first: every staticlib of a column lists std's pairs again, and
        # a stem is worked out once per pair, not once per listing
        known = self.known
        return [known[pair] if pair in known else self._pair_ref(pair) for pair in demangled]

    def _pair_ref(self, pair: tuple[str, str]) -> int:
        mangled, readable = pair
        key = (
            self.names.setdefault(mangled, len(self.names)),
            self._readable_ref(mangled, readable),
        )
        ref = self.known[pair] = self.pairs.setdefault(key, len(self.pairs))
        return ref

    def _readable_ref(self, mangled: str, readable: str) -> int:
        """A readable name's reference: its stem's, negative, where it is the stem and the
        legacy-mangled name's own hash (see LEGACY_HASH), else its own index.
        """
        names = self.names
        if (
            readable[-HASH_SUFFIX_LENGTH:-16] == "::h"
            and (hashed := LEGACY_HASH.search(mangled))
            and readable.endswith(hashed.group(1))
        ):
            return -1 - names.setdefault(readable[:-HASH_SUFFIX_LENGTH], len(names))
        return names.setdefault(readable, len(names))


def stored_data(document: ResultsDocument) -> JsonObject:
    """`document` as version-4 JSON data: cells reference the one `symbols` table."""
    interner = _Interner()
    readable: dict[str, str] = {}
    for cell in document.cells:
        for artifact in cell.artifacts:
            interner.pair_refs(artifact.demangled.items())
            readable.update(artifact.demangled)
    data: JsonObject = to_data(dataclasses.replace(document, cells=()))
    data["cells"] = [_stored_cell(cell, interner, readable) for cell in document.cells]
    data[SYMBOLS] = {
        "names": list(interner.names),
        DEMANGLED: [list(pair) for pair in interner.pairs],
    }
    return data


def _stored_cell(cell: CellRecord, interner: _Interner, readable: dict[str, str]) -> JsonObject:
    data: JsonObject = to_data(dataclasses.replace(cell, artifacts=()))
    data["artifacts"] = [
        _stored_artifact(artifact, interner, readable) for artifact in cell.artifacts
    ]
    return data


def readable_exports(exports: Iterable[str], readable: dict[str, str]) -> dict[str, str]:
    """An artifact's mangled → readable names as derived from its exports and the table."""
    return {name: readable[name] for name in exports if name in readable}


def _stored_artifact(
    artifact: ArtifactRecord, interner: _Interner, readable: dict[str, str]
) -> JsonObject:
    # to_data of the lists emptied: walking every name through to_data is the slow part
    emptied = dataclasses.replace(
        artifact, exports=(), imports=(), needed=(), members=(), data=(), demangled={}
    )
    data: JsonObject = to_data(emptied)
    for key in NAME_LISTS:
        names = getattr(artifact, key)  # None: not observed (written as null, never [])
        data[key] = None if names is None else runs(interner.name_refs(names))
    derived = readable_exports(artifact.exports or (), readable)
    if list(derived.items()) == list(artifact.demangled.items()):
        del data[DEMANGLED]  # the reader derives it: the same names, in the same order
    else:
        data[DEMANGLED] = runs(interner.pair_refs(artifact.demangled.items()))
    return data


def runs(refs: Sequence[int]) -> list[int | list[int]]:
    """`refs` with each run of SHORTEST_RUN or more consecutive indices as [first, count]."""
    stored: list[int | list[int]] = []
    start = 0
    while start < len(refs):
        end = start + 1
        while end < len(refs) and refs[end] == refs[end - 1] + 1:
            end += 1
        if end - start >= SHORTEST_RUN:
            stored.append([refs[start], end - start])
        else:
            stored.extend(refs[start:end])
        start = end
    return stored


def _dumps(data: JsonObject) -> str:
    """Compact JSON, one cell and one symbol name per line.

    A line per cell and per name keeps two files comparable with a line diff (a changed cell is
    one changed line) while the file stays small: indentation was a tenth of it.
    """
    lines = ["{"]
    for key, value in data.items():
        lines.append(f"{json.dumps(key)}:{_lined(key, value)},")
    lines[-1] = lines[-1].removesuffix(",")
    lines.append("}")
    return "\n".join(lines)


def _lined(key: str, value: object) -> str:
    if key == "cells" and isinstance(value, list):
        return _rows([_compact(cell) for cell in value])
    if key == SYMBOLS and isinstance(value, dict):
        names = _rows([_compact(name) for name in value["names"]])
        return '{"names":' + names + f',"{DEMANGLED}":' + _compact(value[DEMANGLED]) + "}"
    return _compact(value)


def _rows(items: Sequence[str]) -> str:
    return "[\n" + ",\n".join(items) + "\n]" if items else "[]"


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# -- reading: expand every reference -------------------------------------------------------


def expand(data: JsonObject) -> JsonObject:
    """Version-2 or -3 data with every reference replaced by its names: version-1 shaped data.

    Raises DataError naming the first reference that is not an index of its table.
    """
    names, pairs = _symbol_tables(data.pop(SYMBOLS, None))
    readable = dict(pairs)  # once: every artifact's derived names are looked up in it
    cells = data.get("cells")
    for cell_index, cell in enumerate(cells if isinstance(cells, list) else ()):
        artifacts = cell.get("artifacts") if isinstance(cell, dict) else None
        for artifact_index, artifact in enumerate(artifacts if isinstance(artifacts, list) else ()):
            if isinstance(artifact, dict):
                where = f"cells[{cell_index}].artifacts[{artifact_index}]"
                _expand_artifact(artifact, names, pairs, readable, where)
    return data


def _symbol_tables(symbols: object) -> tuple[list[str], list[tuple[str, str]]]:
    if not isinstance(symbols, dict) or set(symbols) != {"names", DEMANGLED}:
        raise DataError(SYMBOLS, "expected an object with `names` and `demangled`")
    names = symbols["names"]
    if not isinstance(names, list) or not all(type(name) is str for name in names):
        raise DataError(f"{SYMBOLS}.names", "expected a list of strings")
    raw_pairs = symbols[DEMANGLED]
    if not isinstance(raw_pairs, list):
        raise DataError(f"{SYMBOLS}.{DEMANGLED}", "expected a list of index pairs")
    pairs = []
    for index, pair in enumerate(raw_pairs):
        where = f"{SYMBOLS}.{DEMANGLED}[{index}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise DataError(where, "expected a [mangled, readable] pair of name indices")
        pairs.append(_pair(pair, names, where))
    return names, pairs


def _pair(pair: list[object], names: list[str], where: str) -> tuple[str, str]:
    """A stored [mangled, readable] pair's names; a negative readable reference (version 5) is
    a stem, to which the legacy-mangled name's own hash is added back.
    """
    stored_mangled, stored_readable = pair
    if type(stored_readable) is not int or stored_readable >= 0:
        mangled, readable = _resolve(pair, names, where, f"{SYMBOLS}.names")
        return mangled, readable
    [mangled] = _resolve([stored_mangled], names, where, f"{SYMBOLS}.names")
    [stem] = _resolve([-1 - stored_readable], names, where, f"{SYMBOLS}.names")
    hashed = LEGACY_HASH.search(mangled)
    if hashed is None:
        raise DataError(where, f"a stem's reference, but {mangled!r} has no legacy hash")
    return mangled, f"{stem}::h{hashed.group(1)}"


def _expand_artifact(
    artifact: JsonObject,
    names: list[str],
    pairs: list[tuple[str, str]],
    readable: dict[str, str],
    where: str,
) -> None:
    for key in NAME_LISTS:
        if artifact.get(key) is not None:  # null: not observed
            artifact[key] = _resolve(artifact[key], names, f"{where}.{key}", f"{SYMBOLS}.names")
    if DEMANGLED in artifact:
        table = f"{SYMBOLS}.{DEMANGLED}"
        artifact[DEMANGLED] = dict(
            _resolve(artifact[DEMANGLED], pairs, f"{where}.demangled", table)
        )
    elif isinstance(exports := artifact.get("exports"), list):  # resolved to names above
        artifact[DEMANGLED] = readable_exports(map(str, exports), readable)


def _resolve(stored: object, table: list[T], where: str, table_name: str) -> list[T]:
    """The entries of `table` that `stored` (indices and [first, count] runs) names, in order."""
    if not isinstance(stored, list):
        raise DataError(where, f"expected a list of indices into {table_name}")
    refs = _indices(stored, where, table_name)
    if refs and not (min(refs) >= 0 and max(refs) < len(table)):
        bad = next(r for r in refs if not 0 <= r < len(table))
        raise DataError(where, f"{bad!r} is not an index of {table_name} ({len(table)} entries)")
    return [table[ref] for ref in refs]


def _indices(stored: list[object], where: str, table_name: str) -> list[int]:
    """The indices that `stored` holds, its [first, count] runs spelled out (a version-2 file
    has none). Anything else is a DataError.
    """
    refs: list[int] = []
    for ref in stored:
        if type(ref) is int:
            refs.append(ref)
        elif (
            isinstance(ref, list) and len(ref) == 2 and all(type(n) is int and n >= 0 for n in ref)
        ):
            first, count = ref
            refs.extend(range(first, first + count))
        else:
            raise DataError(
                where, f"{ref!r} is not an index of {table_name} or a [first, count] run"
            )
    return refs
