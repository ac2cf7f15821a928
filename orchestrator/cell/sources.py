"""A scenario's files as the tar a cell container receives."""

from __future__ import annotations

import io
import posixpath
import tarfile
import time
from pathlib import Path, PurePosixPath

from orchestrator.cell.cargo import (
    VENDOR_DIR,
)
from orchestrator.config.scenario import Scenario
from orchestrator.layout import is_source


def scenario_tar(scenario: Scenario, vendored: Path | None = None) -> bytes:
    """The scenario's files under src/<name>/, root-owned and not writable by the cell user.

    `vendored`: its crates.io dependencies (vendor.vendor_scenario), put under src/<name>/.vendor.
    Every file is stamped with the current time: the std build dir is shared by every scenario
    of an image, cargo names a workspace member's build by its path *within* the workspace
    (`host/` of two scenarios is the same unit to it) and decides freshness by modification
    times, so sources older than another scenario's last build would reuse that build.
    """
    now = time.time()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        _add_tree(archive, scenario.folder, posixpath.join("src", scenario.name), now)
        if vendored is not None:
            _add_tree(archive, vendored, posixpath.join("src", scenario.name, VENDOR_DIR), now)
    return buffer.getvalue()


def _add_tree(archive: tarfile.TarFile, folder: Path, prefix: str, mtime: float) -> None:
    for path in [folder, *sorted(folder.rglob("*"))]:
        relative = path.relative_to(folder)
        if not is_source(PurePosixPath(relative.as_posix())):
            continue
        name = posixpath.join(prefix, relative.as_posix()).rstrip("/.")
        info = archive.gettarinfo(str(path), arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = 0o555 if path.is_dir() or info.mode & 0o111 else 0o444
        info.mtime = int(mtime)
        with path.open("rb") if path.is_file() else io.BytesIO() as data:
            archive.addfile(info, data if path.is_file() else None)
