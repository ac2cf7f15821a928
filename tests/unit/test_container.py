"""The container wrapper: limits, deadlines, retries, and cleanup on every exit."""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from docker.errors import APIError

from orchestrator.config.matrix import Limits
from orchestrator.engine.client import connect
from orchestrator.engine.container import CellContainer, Deadline
from orchestrator.errors import EngineError
from tests.unit.fake_engine import FakeEngine, Reply, prints, server_error

LIMITS = Limits(memory="1g", pids=64, cell_timeout_s=60, idle_timeout_s=30)


def make(client: FakeEngine) -> CellContainer:
    return CellContainer(
        client,
        "img:tag",
        limits=LIMITS,
        volumes={"vol": "/cache"},
        run_id="r1",
    )


def test_container_runs_without_network_as_non_root_with_limits() -> None:
    client = FakeEngine()
    client.add_image("img:tag")
    with make(client):
        pass
    options: dict[str, Any] = client.containers.started[0].options
    assert options["network_mode"] == "none"
    assert options["user"] == "1000:1000"
    assert (options["mem_limit"], options["pids_limit"]) == ("1g", 64)
    assert options["nano_cpus"] == 1_500_000_000  # the default cpus: 1.5
    assert options["volumes"] == {"vol": {"bind": "/cache", "mode": "rw"}}
    assert client.events == ["create volume vol", "start c1", "remove c1"]


@pytest.mark.parametrize("interruption", [RuntimeError("boom"), KeyboardInterrupt()])
def test_container_is_removed_whatever_ends_the_block(interruption: BaseException) -> None:
    client = FakeEngine()
    client.add_image("img:tag")
    with pytest.raises(type(interruption)), make(client):
        raise interruption
    assert client.running_ids() == []
    assert client.events == ["create volume vol", "start c1", "remove c1"]


def test_exec_returns_output_and_exit_code() -> None:
    client = FakeEngine(script=lambda command: prints("hello\n", code=3))
    client.add_image("img:tag")
    with make(client) as container:
        result = container.run(
            ["echo", "hello"], deadline=Deadline.after(10, 5), env={"A": "1"}, workdir="/w"
        )
    assert (result.exit_code, result.stdout, result.timed_out) == (3, "hello\n", None)
    (call,) = client.execs
    assert (call.container, call.command) == ("c1", ("echo", "hello"))
    assert (call.env, call.workdir, call.user) == ({"A": "1"}, "/w", "1000:1000")


def test_silent_command_is_killed_at_the_idle_deadline() -> None:
    client = FakeEngine(script=lambda command: Reply(stdout=b"started\n", hangs=True))
    client.add_image("img:tag")
    with make(client) as container:
        result = container.run(["cargo", "build"], deadline=Deadline.after(10, idle_s=0.2))
        assert client.running_ids() == []  # killed at the deadline, not at the block's end
    assert result.timed_out == "no output for 0 s"
    assert result.stdout == "started\n"
    assert client.removed_ids == ["c1"]


def test_wall_clock_deadline_wins_over_a_chatty_command() -> None:
    client = FakeEngine(script=lambda command: Reply(stdout=b"started\n", hangs=True))
    client.add_image("img:tag")
    with make(client) as container:
        result = container.run(["cargo", "build"], deadline=Deadline.after(0.2, idle_s=10))
    assert result.timed_out == "the cell's time limit ran out"


def test_transient_engine_errors_are_retried_and_others_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)
    client = FakeEngine()
    client.add_image("img:tag")
    client.fail("api.exec_create", server_error(503), times=2)
    with make(client) as container:
        assert container.run(["true"], deadline=Deadline.after(10, 5)).exit_code == 0
        assert len(client.execs) == 1  # two refusals, then the one exec
        client.fail("api.exec_create", server_error(404, "no such exec"))
        with pytest.raises(APIError):
            container.run(["true"], deadline=Deadline.after(10, 5))
        assert len(client.execs) == 1


def test_unreachable_engine_says_how_to_point_at_one() -> None:
    with pytest.raises(EngineError, match=r"DOCKER_HOST=unix:///path/docker\.sock"):
        connect()


class ProbeStub:
    """Stands in for docker.DockerClient in connect(): its ping fails, its close is seen."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.closed = False

    def ping(self) -> bool:
        raise self.error

    def close(self) -> None:
        self.closed = True


def test_a_failed_ping_closes_the_probe_client(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = ProbeStub(requests.exceptions.ConnectionError("refused"))
    monkeypatch.setattr("orchestrator.engine.client._client_for_environment", lambda *args: probe)
    with pytest.raises(EngineError, match="refused"):
        connect()
    assert probe.closed


def test_an_engine_that_never_answers_fails_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("orchestrator.engine.client.PING_TIMEOUT_S", 1)
    # AF_UNIX paths are short (108 bytes): pytest's tmp_path may be too long
    with tempfile.TemporaryDirectory(dir="/tmp") as folder, socket.socket(socket.AF_UNIX) as server:
        path = Path(folder) / "docker.sock"
        server.bind(str(path))
        server.listen(4)  # the kernel accepts; nobody ever reads or answers
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        started = time.monotonic()
        with pytest.raises(EngineError, match=r"timed out"):
            connect()
        assert time.monotonic() - started < 5
