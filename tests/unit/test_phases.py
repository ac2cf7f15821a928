"""The phase breakdown of a run: what the host did is the wall time less the rest."""

from __future__ import annotations

import pytest

from orchestrator.phases import Phases


def test_the_host_share_is_what_the_cells_and_the_image_waits_leave() -> None:
    phases = Phases(wall_s=100.0, image_wait_s=20.0, std_s=30.0, steps_s=40.0, images_s=50.0)
    assert phases.host_s == pytest.approx(10.0)
    assert phases.overhead == pytest.approx(0.1)


def test_the_floor_is_the_image_chain_or_the_work_over_the_cores() -> None:
    assert Phases(images_s=50.0, std_s=30.0, steps_s=40.0).floor_s(cores=2) == 60.0
    assert Phases(images_s=90.0, std_s=10.0, steps_s=10.0).floor_s(cores=2) == 90.0


def test_the_lines_name_every_phase() -> None:
    text = "\n".join(Phases(wall_s=10.0, std_builds=2, cells_run=3).lines(cores=2))
    words = ("waiting for images", "std builds (2)", "3 cells run", "on the host", "floor")
    for word in (*words, "starting containers", "sources in", "files out", "inspecting"):
        assert word in text
