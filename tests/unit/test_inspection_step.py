"""The inspection step after the cell cache: cached by file content and inspector version."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from orchestrator.cell.cache import PACKAGE, CellCache, cell_code_files
from orchestrator.cell.observation import (
    BuildOutput,
    BuiltFile,
    CellOutput,
    NotRun,
    RunRecord,
)
from orchestrator.cell.observe import observe
from orchestrator.inspect.cache import InspectionCache, inspector_version
from orchestrator.inspect.model import ArtifactFormat, Inspection, InspectionError
from orchestrator.status import Reason

ELF_BYTES = b"\x7fELF-not-really"


class CountingInspector:
    """A stub inspector: every file exports `answer`; counts the files it was asked to read."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[str] = []
        self.fail_on = fail_on

    def __call__(self, path: Path) -> Inspection:
        self.calls.append(path.name)
        if path.name == self.fail_on:
            raise InspectionError(f"{path.name}: truncated section table")
        return Inspection(
            format=ArtifactFormat.ELF,
            exports=("answer",),
            imports=(),
            needed=("libc.so.6",),
            interpreter=None,
            static=False,
            machine="x86_64",
            file_type="shared object",
            demangled=(("_ZN3foo3barE", "foo::bar"),),
        )


def built(name: str, data: bytes) -> BuiltFile:
    return BuiltFile(
        file=name,
        path=f"artifacts/cell/lib/{name}",
        source=f"/w/artifacts/lib/{name}",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        format=ArtifactFormat.ELF,
    )


def build_output(name: str, files: tuple[BuiltFile, ...], log_end: int) -> BuildOutput:
    return BuildOutput(
        name=name,
        package=name,
        target_kind="lib",
        crate_type="cdylib",
        command=("cargo", "build"),
        env=(),
        exit_code=0,
        duration_s=1.0,
        diagnostics=(),
        files=files,
        primary=files[0].file if files else None,
        log_end=log_end,
    )


RUN = RunRecord(
    name="run",
    artifact="lib",
    command=(),
    exit_code=None,
    stdout="",
    stderr="",
    duration_s=0.0,
    not_run=NotRun.NO_RUNNER,
)


def cell_output(files_dir: Path) -> CellOutput:
    """Two artifacts, `lib` and `app`, their files where the cell cache keeps them."""
    (files_dir / "lib").mkdir(parents=True)
    (files_dir / "app").mkdir(parents=True)
    (files_dir / "lib" / "liblib.so").write_bytes(ELF_BYTES)
    (files_dir / "app" / "app").write_bytes(ELF_BYTES + b"app")
    log = "== build lib ==\n" + "== build app ==\n" + "== run ==\n"
    return CellOutput(
        tools=None,
        builds=(
            build_output("lib", (built("liblib.so", ELF_BYTES),), log_end=16),
            build_output("app", (built("app", ELF_BYTES + b"app"),), log_end=32),
        ),
        runs=(RUN,),
        failure=None,
        log=log,
        duration_s=3.0,
    )


def test_a_cached_cell_is_re_inspected_only_when_the_inspector_version_changes(
    tmp_path: Path,
) -> None:
    cells = CellCache(root=tmp_path / "cells")
    cells.store("key", cell_output(cells.files("key")))
    # what the pipeline does for a cell in the cache: load it (no runner), then inspect it
    output = cells.load("key", ())
    assert output is not None
    inspector = CountingInspector()
    first = InspectionCache(root=tmp_path / "inspections", version="v1", inspector=inspector)
    observation = observe(output, cells.files("key"), first)
    assert sorted(inspector.calls) == ["app", "liblib.so"]
    assert observation.builds[0].files[0].inspection.exports == ("answer",)
    assert observation.builds[0].files[0].path == "artifacts/cell/lib/liblib.so"

    inspector.calls.clear()
    same = InspectionCache(root=tmp_path / "inspections", version="v1", inspector=inspector)
    assert observe(output, cells.files("key"), same) == observation
    assert inspector.calls == []  # read from the inspection cache

    fixed = InspectionCache(root=tmp_path / "inspections", version="v2", inspector=inspector)
    assert observe(output, cells.files("key"), fixed) == observation
    assert sorted(inspector.calls) == ["app", "liblib.so"]  # a new inspector reads them again


def test_a_corrupt_inspection_entry_is_read_again(tmp_path: Path) -> None:
    inspector = CountingInspector()
    cache = InspectionCache(root=tmp_path, version="v1", inspector=inspector)
    file = tmp_path / "liblib.so"
    file.write_bytes(ELF_BYTES)
    sha = hashlib.sha256(ELF_BYTES).hexdigest()
    expected = cache.inspect(file, sha)
    for corrupt in ('{"format": "elf"', '{"format": "no-such-format"}', "[1, 2]", "7"):
        cache.entry(sha).write_text(corrupt, encoding="utf-8")
        inspector.calls.clear()
        assert cache.inspect(file, sha) == expected
        assert inspector.calls == ["liblib.so"]
    assert cache.entry(sha).name == f"{sha}-v1.json"


def test_an_unreadable_file_ends_the_cell_at_its_build_as_before(tmp_path: Path) -> None:
    output = cell_output(tmp_path / "files")
    inspections = InspectionCache(
        root=tmp_path / "inspections", version="v1", inspector=CountingInspector(fail_on="app")
    )
    observation = observe(output, tmp_path / "files", inspections)
    assert observation.failure is not None
    assert observation.failure.reason is Reason.INSPECTION_ERROR
    assert observation.failure.step == "inspect app"
    assert observation.failure.detail == "app: truncated section table"
    assert [b.name for b in observation.builds] == ["lib"]  # the builds before it
    assert observation.runs == ()
    assert observation.log == "== build lib ==\n== build app ==\n"  # cut after its build
    assert not list((tmp_path / "inspections").glob("*app*"))  # a failure is not cached


def test_the_inspector_version_covers_the_inspectors_and_their_parsers() -> None:
    assert inspector_version() == inspector_version()
    assert len(inspector_version()) == 16


def test_the_cell_cache_key_does_not_hash_the_inspectors() -> None:
    hashed = {path.relative_to(PACKAGE).as_posix() for path in cell_code_files()}
    assert "inspect/detect.py" in hashed
    assert "cell/runner.py" in hashed
    assert "engine/container.py" in hashed
    assert not {name for name in hashed if name.startswith("inspect/")} - {"inspect/detect.py"}


def test_a_cell_cache_entry_of_another_shape_is_a_miss(tmp_path: Path) -> None:
    cells = CellCache(root=tmp_path)
    cells.folder("key").mkdir(parents=True)
    (cells.folder("key") / "output.json").write_text('{"builds": 1}', encoding="utf-8")
    assert cells.load("key", ()) is None


@pytest.mark.parametrize("reason", list(NotRun))
def test_not_run_is_stored_as_its_text(tmp_path: Path, reason: NotRun) -> None:
    from dataclasses import replace

    cells = CellCache(root=tmp_path)
    output = replace(cell_output(cells.files("k")), runs=(replace(RUN, not_run=reason),))
    cells.store("k", output)
    assert f'"not_run": "{reason.value}"' in (cells.folder("k") / "output.json").read_text()
    loaded = cells.load("k", ())
    assert loaded is not None
    assert loaded.runs[0].not_run is reason
