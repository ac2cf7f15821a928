"""The package reads as the pipeline: each stage imports only the stages below it.

The order is the README's "What a run does": config → plan → inspect → engine → images → cell →
judge → results → report → estimate → log → pipeline → cli, over a floor of shared vocabulary.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "orchestrator"

# Lowest first. A module may import its own layer's modules and any layer below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "status", "serial", "layout", "phases", "lock", "finisher", "resources", "__init__"),
    ("config",),
    ("plan",),
    ("inspect",),
    ("engine",),
    ("images",),
    ("cell",),
    ("judge", "linker_output", "suggest"),
    ("results",),
    ("report",),
    ("estimate", "estimate_replay"),
    ("log",),
    ("pipeline",),
    ("check", "bless"),
    ("cli", "__main__"),
)


def layer_of(stage: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if stage in names)


def stage_of(module: str) -> str:
    """`orchestrator.cell.runner` → `cell`; `orchestrator` → `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported_stages(path: Path) -> set[str]:
    """The orchestrator stages that a source file imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return {
        stage_of(m)
        for m in modules
        if m.startswith("orchestrator.") and stage_of(m) in {n for ls in LAYERS for n in ls}
    }


def source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer() -> None:
    known = {name for names in LAYERS for name in names}
    stages = {
        stage_of("orchestrator." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts))
        for p in source_files()
    }
    assert stages <= known, f"place these in LAYERS: {sorted(stages - known)}"


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_stage_imports_a_stage_above_it(path: Path) -> None:
    own = stage_of("orchestrator." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    above = sorted(s for s in imported_stages(path) if layer_of(s) > layer_of(own))
    assert not above, f"{own} imports {above}, which sit above it"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from orchestrator.report.html import render_index\nimport orchestrator.cli\n"
    )
    assert imported_stages(module) == {"report", "cli"}
