"""Where the default matrix, its scenarios and its images are, with or without a checkout.

Run from a checkout (a `matrix.yaml` in the working directory), linkmatrix reads that file as it
always has, and `scenarios/` and `images/` beside it. Elsewhere it reads the defaults it was
installed with: a wheel carries them in `orchestrator/_bundled/` (setup.py copies them there);
an editable install reads the checkout its package lives in.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

MATRIX_FILE = "matrix.yaml"
BUNDLE = "_bundled"  # setup.py's BUNDLE: the wheel's copy of matrix.yaml, scenarios/, images/
# What a matrix file reads beside it (config/matrix.py): without them it is not a default.
BESIDE = ("scenarios", "images")


def default_matrix() -> Path:
    """`matrix.yaml` of the working directory if there is one, else the installed default.

    With neither, the working directory's (missing) file, so that the error names it.
    """
    local = Path(MATRIX_FILE)
    if local.is_file():
        return local
    return installed_matrix() or local


def is_installed_data(path: Path) -> bool:
    """`path` is one of the files a wheel installed with linkmatrix (its `_bundled/` copy of
    the defaults): package data, which no one edits, unlike a checkout's files.
    """
    package = importlib.resources.files(__package__ or "orchestrator")
    if not isinstance(package, Path):
        return False
    return path.resolve().is_relative_to((package / BUNDLE).resolve())


def installed_matrix() -> Path | None:
    """The matrix linkmatrix was installed with: the wheel's copy, or an editable checkout's."""
    package = importlib.resources.files(__package__ or "orchestrator")
    if not isinstance(package, Path):
        return None  # imported from a zip: no folder the loaders could read
    for root in (package / BUNDLE, package.parent):
        if (root / MATRIX_FILE).is_file() and all((root / name).is_dir() for name in BESIDE):
            return root / MATRIX_FILE
    return None
