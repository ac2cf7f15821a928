"""results.json is written atomically and renders to Markdown; images are tagged by content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.images.tags import image_tag
from orchestrator.report.markdown import render_markdown
from orchestrator.results.document import ResultsFile
from orchestrator.serial import write_json_atomic


def record(cell_id: str, status: str, detail: str = "") -> dict[str, object]:
    toolchain, target, scenario = cell_id.split("/")
    return {
        "id": cell_id,
        "toolchain": toolchain,
        "target": target,
        "scenario": scenario,
        "release": "1.96",
        "status": status,
        "reason": None if status == "pass" else "symbol-missing",
        "detail": detail,
        "rustc": "rustc 1.96.0",
        "linker": {"name": "ld", "version": "2.40"},
        "route": {"linker": "ld", "libraries": "glibc", "stand_in": False},
        "log": None,
    }


def test_results_are_rewritten_after_every_cell(tmp_path: Path) -> None:
    results = ResultsFile(
        path=tmp_path / "out/results.json", matrix="m.yaml", selection={}, run_id="r"
    )
    results.add(record("glibc/x86/a", "pass"))
    first = json.loads(results.path.read_text())
    assert first["schema_version"] == 1
    assert [c["id"] for c in first["cells"]] == ["glibc/x86/a"]
    assert first["provenance"]["finished"] is None
    results.add(record("glibc/x86/b", "fail", "missing foo"))
    results.finish()
    final = json.loads(results.path.read_text())
    assert final["summary"]["pass"] == 1
    assert final["summary"]["fail"] == 1
    assert final["provenance"]["finished"]
    assert list(results.path.parent.iterdir()) == [results.path]


def test_a_slow_write_spaces_out_the_next_ones_finish_always_writes(tmp_path: Path) -> None:
    results = ResultsFile(path=tmp_path / "results.json", matrix="m", selection={}, run_id="r")
    results.add(record("glibc/x86/a", "pass"))  # the first cell is written at once
    results._last_write_seconds = 3600.0  # as if that write had taken an hour
    results.add(record("glibc/x86/b", "pass"))
    assert [c["id"] for c in json.loads(results.path.read_text())["cells"]] == ["glibc/x86/a"]
    results.finish()
    final = json.loads(results.path.read_text())
    assert [c["id"] for c in final["cells"]] == ["glibc/x86/a", "glibc/x86/b"]


def test_atomic_write_leaves_the_old_file_when_serialisation_fails(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json_atomic(path, {"ok": True})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": True}
    assert list(tmp_path.iterdir()) == [path]


def test_markdown_has_a_grid_a_legend_and_the_failures(tmp_path: Path) -> None:
    results = ResultsFile(path=tmp_path / "results.json", matrix="m", selection={}, run_id="r")
    results.add(record("glibc/x86/a", "pass"))
    results.add(record("wasm/w32/a", "fail", "exports: missing foo"))
    text = render_markdown(results.document())
    assert "| a | ✅ pass | ❌ fail |" in text
    assert "**Legend:**" in text
    assert "### ❌ `wasm/w32/a`: fail (symbol-missing)" in text
    assert "exports: missing foo" in text


def test_image_tag_covers_context_parent_and_args(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")

    def tag(**changes: object) -> str:
        options: dict[str, object] = {
            "name": "glibc",
            "release": "1.96",
            "context": tmp_path,
            "parent_id": "sha256:1",
            "build_args": {"A": "1"},
        }
        options.update(changes)
        return image_tag(**options)  # type: ignore[arg-type]

    original = tag()
    assert original.startswith("linkmatrix/glibc:1.96-")
    assert tag() == original
    assert tag(parent_id="sha256:2") != original
    assert tag(build_args={"A": "2"}) != original
    (tmp_path / "helper.c").write_text("int x;\n")
    with_helper = tag()
    assert with_helper != original
    (tmp_path / "fetched").mkdir()
    (tmp_path / "fetched" / "wheel.whl").write_text("downloaded from fetch.yaml pins")
    assert tag() == with_helper
