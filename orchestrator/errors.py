"""One exception root; each kind carries its exit code. Only `cli.main` catches them."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator


class LinkmatrixError(Exception):
    """Root of every error linkmatrix reports to a user: message says what and what next."""

    exit_code = 2


class UsageError(LinkmatrixError):
    """The command line asks for what cannot be done as asked (exit 2, as argparse's errors)."""


class ConfigError(LinkmatrixError):
    """matrix.yaml or a scenario.yaml is invalid."""

    exit_code = 3


class SelectionError(LinkmatrixError):
    """--only / --shard selected nothing or was malformed."""

    exit_code = 4


class EngineError(LinkmatrixError):
    """The Docker engine is missing, unreachable or failed in a way a retry did not cure."""

    exit_code = 5


class ImageBuildError(LinkmatrixError):
    """A toolchain or base image could not be made."""

    exit_code = 6


class ResultsError(LinkmatrixError):
    """A results file, view or cache entry could not be read, merged or written (nor a
    scenario.yaml that `run --bless` rewrites), or is incomplete (diff, merge).
    """

    exit_code = 7


class FetchError(LinkmatrixError):
    """A scenario's crates.io dependencies could not be vendored on the host."""

    exit_code = 8


class Interrupted(LinkmatrixError):
    """The user pressed Ctrl-C; finished cells were kept."""

    exit_code = 130


class BusyError(LinkmatrixError):
    """Another linkmatrix run is using the output or cache folder."""

    exit_code = 9


# The errno values of a file write that failed: the disk full, the folder read-only or not
# ours, a file where a folder should be, ... (not a dropped connection to the engine).
WRITE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EFBIG,
        errno.EIO,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.EMLINK,
        errno.ENAMETOOLONG,
    }
)


def is_write_failure(error: OSError) -> bool:
    """A filesystem error (it names a file, or its errno is a file write's), not the network's."""
    return error.filename is not None or error.errno in WRITE_ERRNOS


@contextlib.contextmanager
def write_failures(where: object, hint: str) -> Iterator[None]:
    """A failed file write inside the block as a ResultsError naming the file, then `hint`.

    `where` (a folder) is named when the OS did not say which file (a write that found the
    disk full). Other errors pass unchanged.
    """
    try:
        yield
    except OSError as error:
        if not is_write_failure(error):
            raise
        why = error.strerror or str(error)
        if error.errno in {errno.EEXIST, errno.ENOTDIR}:
            why = f"{why}: a file is where a folder should be"
        raise ResultsError(f"{error.filename or where}: cannot write ({why}). {hint}") from error
