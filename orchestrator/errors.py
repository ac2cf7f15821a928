"""One exception root; each kind carries its exit code. Only `cli.main` catches them."""

from __future__ import annotations


class LinkmatrixError(Exception):
    """Root of every error linkmatrix reports to a user: message says what and what next."""

    exit_code = 2


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
    """A results file could not be read, merged or written, or is incomplete (diff, merge)."""

    exit_code = 7


class FetchError(LinkmatrixError):
    """A scenario's crates.io dependencies could not be vendored on the host."""

    exit_code = 8


class Interrupted(LinkmatrixError):
    """The user pressed Ctrl-C; finished cells were kept."""

    exit_code = 130
