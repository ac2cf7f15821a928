"""The container wrapper: limits, deadlines, retries, and cleanup on every exit."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from docker.errors import APIError

from orchestrator.config.matrix import Limits
from orchestrator.engine.client import connect
from orchestrator.engine.container import (
    HOST_LABEL,
    LABEL,
    PID_LABEL,
    CellContainer,
    ContainerState,
    Deadline,
    Tail,
    remove_orphans,
)
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
    assert (options["cpu_period"], options["cpu_quota"]) == (100_000, 150_000)  # 1.5 cpus
    assert options["volumes"] == {"vol": {"bind": "/cache", "mode": "rw"}}
    assert client.events == ["create volume vol", "start c1", "remove c1"]


def test_full_cpu_lifts_the_limit_for_the_block_only_even_when_it_raises() -> None:
    client = FakeEngine()
    client.add_image("img:tag")
    with make(client) as box:
        with box.full_cpu():
            assert client.containers.started[0].options["cpu_quota"] == -1
        with pytest.raises(RuntimeError), box.full_cpu():
            raise RuntimeError("the std build failed")
        assert client.containers.started[0].options["cpu_quota"] == 150_000
    updates = [event for event in client.events if event.startswith("update")]
    assert updates == ["update c1 cpu_quota=-1", "update c1 cpu_quota=150000"] * 2


def test_a_container_restarted_in_a_full_cpu_block_starts_limited_and_is_not_updated() -> None:
    client = FakeEngine()
    client.add_image("img:tag")
    with make(client) as box, box.full_cpu():
        box.restart()  # the step timed out: its container replaced
    assert client.containers.started[1].options["cpu_quota"] == 150_000
    assert [e for e in client.events if e.startswith("update")] == ["update c1 cpu_quota=-1"]


def test_a_limit_the_engine_cannot_restore_removes_the_container() -> None:
    client = FakeEngine()
    client.add_image("img:tag")
    client.fail("container.update", server_error(), after=1)  # the lift works, the restore not
    with make(client) as box:
        with box.full_cpu():
            pass
        assert client.running_ids() == []  # no unlimited container is left to the next cell
        box.container_id()  # the next command starts a fresh, limited one
        assert client.containers.started[1].options["cpu_quota"] == 150_000


def test_a_lift_the_engine_refuses_leaves_the_limit_and_the_step_runs() -> None:
    client = FakeEngine()
    client.add_image("img:tag")
    client.fail("container.update", server_error())
    ran = False
    with make(client) as box, box.full_cpu():
        ran = True
    assert ran
    assert client.containers.started[0].options["cpu_quota"] == 150_000


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


# -- output: a bounded tail in memory, a limit that kills ------------------------------------


def test_a_tail_keeps_the_last_bytes_and_counts_the_rest() -> None:
    tail = Tail(keep=10)
    for _ in range(5):
        tail.extend(b"0123456789")
    assert len(tail.data) <= 20  # trimmed in batches, never more than twice `keep`
    assert tail.total == 50
    assert tail.text() == "[… 40 bytes not kept …]\n0123456789"
    assert Tail(keep=10).text() == ""


def test_a_flood_is_killed_at_the_output_limit_and_only_its_tail_is_kept() -> None:
    chunk = b"y\n" * (32 << 10)  # 64 KiB, sent until killed (2,048 chunks: 128 MiB)
    client = FakeEngine(script=lambda command: Reply(stdout=chunk, repeat=2048))
    client.add_image("img:tag")
    with make(client) as container:
        result = container.run(["yes"], deadline=Deadline.after(60, 30))
        assert client.running_ids() == []  # the container went with the command
    assert result.output_limit == "output limit: the step printed more than 64 MiB"
    assert (result.timed_out, result.unknown) == (None, None)
    assert result.ended_by_us
    head, _, kept = result.stdout.partition("\n")
    assert re.fullmatch(r"\[… \d+ bytes not kept …\]", head)
    assert len(kept) <= 1 << 20
    assert int(head.split()[1]) + len(kept) > 64 << 20


# -- outcomes that are not known: the container goes with whatever still runs -----------------


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply(stdout=b"compiling\n", drops=True), "the engine dropped the command's output"),
        (Reply(stdout=b"compiling\n", still_running=True), "the output ended but the command"),
    ],
    ids=["stream dropped", "still running"],
)
def test_an_exec_whose_end_is_unknown_is_not_a_failure_and_its_container_goes(
    monkeypatch: pytest.MonkeyPatch, reply: Reply, why: str
) -> None:
    monkeypatch.setattr("orchestrator.engine.container.EXIT_POLL_S", 0.2)
    client = FakeEngine(script=lambda command: reply)
    client.add_image("img:tag")
    with make(client) as container:
        result = container.run(["cargo", "build"], deadline=Deadline.after(60, 30))
        assert client.running_ids() == []
        assert result.unknown is not None
        assert result.unknown.startswith(why)
        assert result.unknown.endswith("; the cell's container is running")
        assert result.stdout == "compiling\n"
        container.restart()
        assert client.running_ids() == ["c2"]


def test_a_container_the_engine_could_not_remove_is_removed_before_the_next_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)
    monkeypatch.setattr("orchestrator.engine.container.PUMP_JOIN_S", 0.1)
    client = FakeEngine(script=lambda command: Reply(hangs=True))
    client.add_image("img:tag")
    away = requests.exceptions.ConnectionError("engine away")
    with make(client) as container:
        client.fail("container.remove", away, times=4)  # every retry of one removal
        result = container.run(["cargo", "build"], deadline=Deadline.after(60, idle_s=0.1))
        assert result.timed_out is not None
        assert client.running_ids() == ["c1"]  # still there: the engine did not answer
        client.script = lambda command: prints("ok\n")
        assert container.run(["true"], deadline=Deadline.after(60, 30)).stdout == "ok\n"
        assert client.events[-3:] == ["remove c1", "start c2", "exec c2 true"]


def test_the_state_of_a_killed_container_says_how_it_ended() -> None:
    client = FakeEngine(script=lambda command: Reply(exit_code=137, kills_container=137))
    client.add_image("img:tag")
    with make(client) as container:
        assert container.state() == ContainerState(running=True, status="running", exit_code=0)
        assert container.run(["cargo", "build"], deadline=Deadline.after(60, 30)).exit_code == 137
        state = container.state()
        assert state == ContainerState(running=False, status="exited", exit_code=137)
        assert state.describe() == "the cell's container is exited (exit code 137)"
        with pytest.raises(APIError, match="409"):
            container.run(["true"], deadline=Deadline.after(60, 30))


def test_the_memory_counters_are_read_in_the_container() -> None:
    client = FakeEngine(script=lambda command: prints("max 3\noom 1\noom_kill 1\nfailcnt \n"))
    client.add_image("img:tag")
    with make(client) as container:
        assert container.memory_events().oom_kills == 1
    (call,) = client.execs
    assert "/sys/fs/cgroup/memory.events" in call.command[2]


# -- orphans: what runs of this host that are gone left ---------------------------------------


def test_orphans_of_dead_runs_of_this_host_are_removed_and_nothing_else() -> None:
    client = FakeEngine()
    client.add_image("img:tag")
    host = socket.gethostname()
    dead = dead_pid()
    owners = {
        "dead": {LABEL: "dead", PID_LABEL: str(dead), HOST_LABEL: host},
        "alive": {LABEL: "alive", PID_LABEL: str(os.getpid()), HOST_LABEL: host},
        "elsewhere": {LABEL: "elsewhere", PID_LABEL: str(dead), HOST_LABEL: "other-host"},
        "older": {LABEL: "older"},  # an older linkmatrix's: its host unknown
    }
    for labels in owners.values():
        client.containers.run("img:tag", ["sleep", "infinity"], labels=labels)
        client.add_image(f"linkmatrix/scratch-run:{labels[LABEL]}", labels=labels)
    orphans = remove_orphans(client)
    assert (orphans.containers, orphans.images, orphans.runs) == (1, 1, ("dead",))
    assert client.removed_ids == ["c1"]
    assert [c.labels[LABEL] for c in client.containers.started if not c.removed.is_set()] == [
        "alive",
        "elsewhere",
        "older",
    ]
    left = sorted(image.labels[LABEL] for image in client.images.present if image.labels)
    assert left == ["alive", "elsewhere", "older"]
    assert orphans.describe() == (
        "removed 1 container(s) and 1 scratch image(s) left by linkmatrix run(s) "
        "no longer running on this host: dead"
    )


def test_a_cell_container_carries_the_run_its_process_and_host() -> None:
    client = FakeEngine()
    client.add_image("img:tag")
    with make(client):
        pass
    assert client.containers.started[0].labels == {
        LABEL: "r1",
        PID_LABEL: str(os.getpid()),
        HOST_LABEL: socket.gethostname(),
    }


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
