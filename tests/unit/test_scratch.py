"""Runs alone in an empty container: the image holds one file, and both are always removed."""

from __future__ import annotations

import io
import os
import socket
import tarfile
import time

import pytest

from orchestrator.config.matrix import Limits
from orchestrator.engine.container import Deadline
from orchestrator.engine.scratch import ScratchRunner, scratch_tar
from tests.unit.fake_engine import FakeEngine, Reply, tar_names

LIMITS = Limits(memory="1g", pids=64, cell_timeout_s=60, idle_timeout_s=30)


def scratch_engine(*, hangs: bool = False) -> FakeEngine:
    """Every command prints a greeting; `hangs`: and then never ends."""
    return FakeEngine(script=lambda argv: Reply(stdout=b"hello from nothing\n", hangs=hangs))


def test_the_image_holds_the_file_and_nothing_else() -> None:
    with tarfile.open(fileobj=io.BytesIO(scratch_tar("hello", b"\x7fELF..."))) as archive:
        (member,) = archive.getmembers()
    assert (member.name, member.mode, member.size) == ("hello", 0o755, 7)


def test_a_scratch_run_is_isolated_and_cleaned_up() -> None:
    engine = scratch_engine()
    runner = ScratchRunner(client=engine, limits=LIMITS, run_id="r1")
    result = runner.run("hello", b"binary", ["--flag"], deadline=Deadline.after(60, 30))
    assert (result.exit_code, result.stdout, result.timed_out) == (0, "hello from nothing\n", None)
    (container,) = engine.containers.started
    options = container.options
    assert options["network_mode"] == "none"
    assert options["user"] == "1000:1000"
    assert options["cap_drop"] == ["ALL"]
    assert (options["mem_limit"], options["pids_limit"]) == ("1g", 64)
    assert options["nano_cpus"] == 1_500_000_000  # the default cpus: 1.5
    (imported,) = engine.imported
    assert tar_names(imported.data) == ["hello"]
    pid, host = os.getpid(), socket.gethostname()
    labels = {
        "org.linkmatrix.run": "r1",
        "org.linkmatrix.pid": str(pid),
        "org.linkmatrix.host": host,
    }
    assert imported.changes == [f"LABEL {key}={value}" for key, value in labels.items()]
    assert options["labels"] == labels  # a run that is gone can be told by its pid and host
    assert options["log_config"] == {
        "Type": "json-file",
        "Config": {"max-size": "2097152", "max-file": "1"},
    }
    image = container.image
    assert imported.name == image
    assert image.startswith("linkmatrix/scratch-run:")
    assert engine.events == [
        f"import {image}",
        f"create c1 {image} /hello --flag",
        "start c1",
        "remove c1",
        f"remove image {image}",
    ]
    assert engine.images.present == []


def test_a_hanging_scratch_run_is_killed_and_still_cleaned_up() -> None:
    engine = scratch_engine(hangs=True)
    runner = ScratchRunner(client=engine, limits=LIMITS, run_id="r1")
    deadline = Deadline(ends_at=time.monotonic() + 1, idle_s=30)
    result = runner.run("hello", b"binary", [], deadline=deadline)
    assert result.timed_out == "the cell's time limit ran out"
    assert result.exit_code == -9
    assert engine.events[2:-1] == ["start c1", "kill c1", "remove c1"]
    assert engine.events[-1].startswith("remove image")
    assert engine.images.present == []


def test_an_interrupted_scratch_run_removes_what_it_made() -> None:
    engine = scratch_engine()
    engine.fail("container.start", KeyboardInterrupt())
    runner = ScratchRunner(client=engine, limits=LIMITS, run_id="r1")
    with pytest.raises(KeyboardInterrupt):
        runner.run("hello", b"binary", [], deadline=Deadline.after(60, 30))
    assert "start c1" not in engine.events
    assert engine.events[-2] == "remove c1"
    assert engine.events[-1].startswith("remove image")
    assert engine.images.present == []


def test_a_scratch_run_says_whether_the_engine_oom_killed_it() -> None:
    engine = FakeEngine(script=lambda argv: Reply(exit_code=137, oom_killed=True))
    runner = ScratchRunner(client=engine, limits=LIMITS, run_id="r1")
    result = runner.run("hello", b"binary", [], deadline=Deadline.after(60, 30))
    assert (result.exit_code, result.oom_killed) == (137, True)
    killed_itself = FakeEngine(script=lambda argv: Reply(exit_code=137))
    runner = ScratchRunner(client=killed_itself, limits=LIMITS, run_id="r1")
    assert not runner.run("hello", b"binary", [], deadline=Deadline.after(60, 30)).oom_killed
