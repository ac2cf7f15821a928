"""Rendered HTML kept between runs, keyed by a digest of everything it shows.

A warm re-run replays every cell from the cell cache: the same records, so the same cell details
and symbol pages, which were most of its time (a whole matrix's index.html is 10 MB). A fragment
is rendered again only when its digest is new: the digest covers the values the fragment is
rendered from and the code that renders it (every source file of the package, the template
engine's version), so an edit to a scenario, a check, a template or a filter shows at once.

What a run changes in every record, and a view shows once per page rather than per fragment, is
left out of the digest: whether the cell was replayed from the cache (`cached`, the page's
header counts and lists them). A fragment that is the same but for the run's id renders with a
placeholder, filled in on every write.

The memo is a JSON file per page kind in the cache folder, holding what the last run used: it
never grows past one run's fragments. A damaged or unreadable file costs a full render, once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.metadata
import io
import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orchestrator
from orchestrator.results.model import CellRecord
from orchestrator.serial import write_text_atomic

# Stands for the run's id in a memoized page; no run id or HTML text holds a NUL.
RUN_ID = "\x00run-id\x00"


@functools.cache
def code_digest() -> str:
    """Every source and template of the package, and the template engine's versions."""
    root = Path(orchestrator.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".j2", ".css"}:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    for package in ("jinja2", "markupsafe"):
        digest.update(f"{package} {importlib.metadata.version(package)}".encode())
    return digest.hexdigest()


def digest(*parts: object) -> str:
    """A digest of `parts` (frozen dataclasses, tuples, strings, enums) and the code.

    Pickled without its memo: a value shared by two fields is written twice, so equal values
    give equal bytes however the objects happen to be shared (a cold run's records and a warm
    run's, read back from the cache, share differently). Unequal values never do.
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: see above
    pickler.dump((code_digest(), parts))
    return hashlib.sha256(buffer.getbuffer()).hexdigest()


def as_shown(record: CellRecord) -> CellRecord:
    """The record as a fragment shows it: `cached` is the page's to say."""
    return dataclasses.replace(record, cached=False) if record.cached else record


@dataclass(kw_only=True)
class Memo:
    """Fragments by digest: those of the last run (`old`), and those this run used (`new`)."""

    path: Path | None
    old: dict[str, str] = field(default_factory=dict)
    new: dict[str, str] = field(default_factory=dict)
    rendered: int = 0  # fragments this run had to render

    @classmethod
    def load(cls, path: Path | None) -> Memo:
        old: dict[str, str] = {}
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    old = {k: v for k, v in data.items() if isinstance(v, str)}
        return cls(path=path, old=old)

    def get(self, key: str, render: Callable[[], str]) -> str:
        """The fragment of digest `key`: the last run's, or rendered now."""
        text = self.old.get(key)
        if text is None:
            text = render()
            self.rendered += 1
        self.new[key] = text
        return text

    def save(self) -> None:
        """Keep this run's fragments for the next, unless they are the last run's already (a disk
        that refuses costs the next run a render).
        """
        if self.path is not None and (self.rendered or self.new.keys() != self.old.keys()):
            with contextlib.suppress(OSError):
                write_text_atomic(self.path, json.dumps(self.new))
