"""The views of a large document are rendered by two processes, and read the same."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.report import PARALLEL_FROM_CELLS, Page, write_pages, write_views
from tests.unit.full_matrix import full_matrix


def texts(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_two_processes_write_what_one_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = full_matrix()
    used: list[int] = []

    def spy(
        pages: list[Page], *, processes: int, alongside: Callable[[], None] | None = None
    ) -> None:
        used.append(processes)
        write_pages(pages, processes=processes, alongside=alongside)

    monkeypatch.setattr("orchestrator.report.write_pages", spy)
    assert len(document.cells) >= PARALLEL_FROM_CELLS
    write_views(document, tmp_path / "two")
    monkeypatch.setattr("orchestrator.report.PARALLEL_FROM_CELLS", 10**9)
    write_views(document, tmp_path / "one")
    two, one = texts(tmp_path / "two"), texts(tmp_path / "one")
    assert used == [2, 1]
    assert len(one) > 10
    assert two == one


def fail() -> str:
    raise OSError(28, "No space left on device")


def test_a_page_a_child_cannot_write_is_raised_in_the_parent(tmp_path: Path) -> None:
    pages = [(tmp_path / "a.html", lambda: "a"), (tmp_path / "b.html", fail)]
    with pytest.raises(OSError, match="No space left"):
        write_pages(pages, processes=2)
    assert (tmp_path / "a.html").read_text() == "a"
    write_pages([(tmp_path / "c.html", functools.partial(str, "c"))], processes=1)
    assert (tmp_path / "c.html").read_text() == "c"


def test_the_parents_own_work_runs_while_the_children_render(tmp_path: Path) -> None:
    done: list[str] = []
    pages = [(tmp_path / f"{n}.html", functools.partial(str, n)) for n in range(4)]
    write_pages(pages, processes=2, alongside=lambda: done.append("results"))
    write_pages(pages[:1], processes=1, alongside=lambda: done.append("serial"))
    assert done == ["results", "serial"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.html", "1.html", "2.html", "3.html"]
