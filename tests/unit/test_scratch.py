"""Runs alone in an empty container: the image holds one file, and both are always removed."""

from __future__ import annotations

import io
import tarfile
import time
from dataclasses import dataclass, field
from typing import Any, cast

import docker
import pytest
import requests

from orchestrator.config.matrix import Limits
from orchestrator.engine.container import Deadline
from orchestrator.engine.scratch import ScratchRunner, scratch_tar

LIMITS = Limits(memory="1g", pids=64, cell_timeout_s=60, idle_timeout_s=30)


@dataclass
class FakeScratchContainer:
    client: FakeEngine
    command: list[str]
    exit_code: int = 0
    hangs: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        self.client.events.append("start")

    def wait(self, timeout: float) -> dict[str, int]:
        if self.hangs:
            raise requests.exceptions.ReadTimeout("no answer")
        return {"StatusCode": self.exit_code}

    def kill(self) -> None:
        self.client.events.append("kill")

    def logs(self, *, stdout: bool, stderr: bool) -> bytes:
        return b"hello from nothing\n" if stdout else b""

    def reload(self) -> None:
        self.attrs = {"State": {"ExitCode": self.exit_code}}

    def remove(self, force: bool = False) -> None:
        self.client.events.append("remove container")


@dataclass
class FakeEngine:
    hangs: bool = False
    events: list[str] = field(default_factory=list)
    imported: list[bytes] = field(default_factory=list)
    create_options: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> FakeEngine:
        return self

    @property
    def containers(self) -> FakeEngine:
        return self

    @property
    def images(self) -> FakeEngine:
        return self

    def import_image_from_data(self, data: bytes, **options: Any) -> None:
        self.imported.append(data)
        self.events.append(f"import {options['repository']}:{options['tag']}")
        assert options["changes"] == ["LABEL org.linkmatrix.run=r1"]

    def create(self, image: str, command: list[str], **options: Any) -> FakeScratchContainer:
        self.create_options = options
        self.events.append(f"create {image} {' '.join(command)}")
        return FakeScratchContainer(self, command, hangs=self.hangs)

    def remove(self, image: str, force: bool = False) -> None:
        self.events.append(f"remove image {image}")


def test_the_image_holds_the_file_and_nothing_else() -> None:
    with tarfile.open(fileobj=io.BytesIO(scratch_tar("hello", b"\x7fELF..."))) as archive:
        (member,) = archive.getmembers()
    assert (member.name, member.mode, member.size) == ("hello", 0o755, 7)


def test_a_scratch_run_is_isolated_and_cleaned_up() -> None:
    engine = FakeEngine()
    runner = ScratchRunner(client=cast(docker.DockerClient, engine), limits=LIMITS, run_id="r1")
    result = runner.run("hello", b"binary", ["--flag"], deadline=Deadline.after(60, 30))
    assert (result.exit_code, result.stdout, result.timed_out) == (0, "hello from nothing\n", None)
    options = engine.create_options
    assert options["network_mode"] == "none"
    assert options["user"] == "1000:1000"
    assert options["cap_drop"] == ["ALL"]
    assert (options["mem_limit"], options["pids_limit"]) == ("1g", 64)
    assert engine.events[1].endswith("/hello --flag")
    assert engine.events[-2:] == ["remove container", engine.events[-1]]
    assert engine.events[-1].startswith("remove image linkmatrix/scratch-run:")


def test_a_hanging_scratch_run_is_killed_and_still_cleaned_up() -> None:
    engine = FakeEngine(hangs=True)
    runner = ScratchRunner(client=cast(docker.DockerClient, engine), limits=LIMITS, run_id="r1")
    deadline = Deadline(ends_at=time.monotonic() + 1, idle_s=30)
    result = runner.run("hello", b"binary", [], deadline=deadline)
    assert result.timed_out == "the cell's time limit ran out"
    assert result.exit_code == -9
    assert "kill" in engine.events
    assert engine.events[-1].startswith("remove image")


def test_an_interrupted_scratch_run_removes_what_it_made() -> None:
    engine = FakeEngine()

    def interrupt(self: FakeScratchContainer) -> None:
        raise KeyboardInterrupt

    runner = ScratchRunner(client=cast(docker.DockerClient, engine), limits=LIMITS, run_id="r1")
    original = FakeScratchContainer.start
    FakeScratchContainer.start = interrupt  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt):
            runner.run("hello", b"binary", [], deadline=Deadline.after(60, 30))
    finally:
        FakeScratchContainer.start = original  # type: ignore[method-assign]
    assert engine.events[-2:][0] == "remove container"
    assert engine.events[-1].startswith("remove image")
