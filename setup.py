"""The one build step pyproject.toml cannot declare: the default matrix travels with the package.

A wheel gets `matrix.yaml`, `scenarios/` and `images/` copied into `orchestrator/_bundled/`, so an
installed linkmatrix needs no checkout (orchestrator/resources.py finds them). An editable
install gets no copy: it reads the checkout it points at, edits included.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLE = Path("orchestrator", "_bundled")  # resources.BUNDLE
# What .gitignore keeps out of these folders: cargo's output, host downloads, bytecode.
LEFT_OUT = {"scenarios": "target", "images": "fetched"}


def _left_out(folder: str) -> Callable[[str, list[str]], set[str]]:
    """An ignore function for copytree: `LEFT_OUT[folder]` one level down, __pycache__ anywhere."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        depth = len(Path(directory).relative_to(ROOT / folder).parts)
        ignored = {name for name in names if name == "__pycache__"}
        return ignored | ({LEFT_OUT[folder]} & set(names) if depth == 1 else set())

    return ignore


class BuildPyWithDefaults(build_py):
    """build_py, then the default matrix, scenarios and images beside the modules."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout itself
        into = Path(self.build_lib) / BUNDLE
        shutil.rmtree(into, ignore_errors=True)  # a stale build/ from an earlier install
        into.mkdir(parents=True)
        shutil.copy2(ROOT / "matrix.yaml", into / "matrix.yaml")
        for folder in LEFT_OUT:
            # copy2 keeps the exec bit, which image tags hash (images/tags.py)
            shutil.copytree(ROOT / folder, into / folder, ignore=_left_out(folder))


setup(cmdclass={"build_py": BuildPyWithDefaults})
