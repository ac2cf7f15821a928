"""One run at a time per output folder and per cache folder: a lock file in each, held by flock.

Two runs writing the same results.json (or the same cell cache entries) would each keep only
its own cells. The lock is taken without waiting: a second run refuses at once, naming the
holder's pid and the folder. The kernel lets go of a lock when its process ends, however it
ends, so a lock file left behind by a killed run never blocks the next one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.errors import BusyError, write_failures

LOCK_FILE = ".linkmatrix.lock"
# A filesystem without flock (some network mounts): the run goes on unguarded, as before locks.
NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS})
UNWRITABLE = "linkmatrix writes there: make it writable, or free some space."


@contextlib.contextmanager
def folders_locked(*folders: Path) -> Iterator[None]:
    """Hold the lock of every folder (made if absent) for the block; BusyError if one is held.

    A folder given twice (the cache inside the output folder is two folders) is locked once.
    A folder that cannot be made or written is a ResultsError naming it.
    """
    with contextlib.ExitStack() as held:
        locked: set[Path] = set()
        for folder in folders:
            path = (folder / LOCK_FILE).resolve()
            if path not in locked:
                held.enter_context(_locked(folder, path))
                locked.add(path)
        yield


@contextlib.contextmanager
def _locked(folder: Path, path: Path) -> Iterator[None]:
    with write_failures(folder, UNWRITABLE):
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(
                f"{folder}: another linkmatrix run ({_holder(path)}) is using this folder "
                f"(it holds {path}). Wait for it to end, or give this run another folder "
                "(--out, --cache-dir)."
            ) from None
        except OSError as exc:
            if exc.errno not in NO_LOCKS:
                raise
        else:
            started = datetime.now(UTC).isoformat(timespec="seconds")
            with write_failures(path, UNWRITABLE):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()} {started}\n".encode())
        yield
    finally:
        os.close(fd)  # lets go of the lock


def _holder(path: Path) -> str:
    """`pid N, since T` as the holder wrote it in the lock file."""
    try:
        pid, started = path.read_text(encoding="utf-8").split()
    except (OSError, ValueError):  # not written yet, or by something else
        return "pid unknown"
    return f"pid {pid}, since {started}"
