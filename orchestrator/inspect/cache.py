"""Inspections by file content and inspector version: an inspector fix re-inspects, never rebuilds.

`<root>/<sha256>-<version>.json` holds one file's Inspection. The version is a digest of the
inspector code (every .py of this package) and of the parsing libraries it relies on, so a new
LIEF or wasmtime, or an edited inspector, reads every file again; the cell cache, which keeps the
files, is not touched.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from orchestrator.inspect.model import Inspection
from orchestrator.serial import from_data, to_data, write_json_atomic

PACKAGE = Path(__file__).resolve().parent
# The libraries whose parsing the inspections carry (as the distributions name them).
PARSERS = ("lief", "wasmtime", "rust-demangler")

Inspector = Callable[[Path], Inspection]


@functools.cache
def inspector_version() -> str:
    """A digest of the inspector code and the versions of the parsers it uses."""
    digest = hashlib.sha256()
    for source in sorted(PACKAGE.rglob("*.py")):
        digest.update(source.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(source.read_bytes())
    for name in PARSERS:
        digest.update(f"{name}={_installed(name)}\0".encode())
    return digest.hexdigest()[:16]


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


@dataclass(frozen=True, kw_only=True)
class InspectionCache:
    """Inspections of files by their sha256, for one inspector version.

    `inspector` raises InspectionError for a file it cannot read; that is not cached (a failed
    file is read again next time, as a failed cell would be built again).
    """

    root: Path
    version: str
    inspector: Inspector

    def entry(self, sha256: str) -> Path:
        return self.root / f"{sha256}-{self.version}.json"

    def inspect(self, path: Path, sha256: str) -> Inspection:
        """The file's inspection: from the cache when this version read it before."""
        cached = self._load(sha256)
        if cached is not None:
            return cached
        inspection = self.inspector(path)
        write_json_atomic(self.entry(sha256), to_data(inspection))
        return inspection

    def _load(self, sha256: str) -> Inspection | None:
        """A cached inspection; None when absent or unreadable (then the file is read again)."""
        path = self.entry(sha256)
        if not path.is_file():
            return None
        try:
            return from_data(Inspection, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
