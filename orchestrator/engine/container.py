"""The one wrapper around a cell container: limits, deadlines, and cleanup even on Ctrl-C."""

from __future__ import annotations

import contextlib
import enum
import io
import os
import queue
import re
import socket
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self

import requests
from docker.errors import APIError, DockerException, NotFound

from orchestrator.config.matrix import Limits
from orchestrator.engine.client import transient_retry
from orchestrator.engine.protocol import EngineClient, EngineContainer

CELL_USER = "1000:1000"
ROOT_USER = "0:0"  # the std step: sysroots in /cache are root's, read-only to the cell user
LABEL = "org.linkmatrix.run"
PID_LABEL = "org.linkmatrix.pid"  # the orchestrator process that started it ...
HOST_LABEL = "org.linkmatrix.host"  # ... and its host: a run that is gone leaves an orphan
# What the engine raises when it fails (not the command).
ENGINE_ERRORS = (DockerException, requests.exceptions.RequestException)
CPU_PERIOD_US = 100_000  # the engine's default CFS period
UNLIMITED_QUOTA = -1  # the engine's "no CPU quota"

# A step's output: each stream's last KEPT_BYTES are kept in memory (the rest counted and said
# so in the text); a step printing more than OUTPUT_LIMIT_BYTES in all is killed, as at a
# deadline. A cargo build of the matrix prints well under 1 MiB.
KEPT_BYTES = 1 << 20
OUTPUT_LIMIT_BYTES = 64 << 20
EXIT_POLL_S = 5.0  # how long a finished stream's exec may still say Running
QUEUED_CHUNKS = 64  # chunks read ahead of the deadline and output-limit checks
PUMP_JOIN_S = 10.0  # how long a killed command's stream may take to end (its reader is a daemon)
# The container's cgroup: the kernel's count of OOM kills (v2, then v1), and v1's count of hits
# of the memory limit (a fallback for kernels whose v1 has no oom_kill line).
_MEMORY_EVENTS = (
    "cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null;"
    " printf 'failcnt '; cat /sys/fs/cgroup/memory/memory.failcnt 2>/dev/null || echo"
)


def owner_labels(run_id: str) -> dict[str, str]:
    """The labels of everything a run starts: the run, and the process and host running it."""
    return {LABEL: run_id, PID_LABEL: str(os.getpid()), HOST_LABEL: socket.gethostname()}


@dataclass(frozen=True, kw_only=True)
class Deadline:
    """A wall-clock end (monotonic seconds) and the longest silence allowed."""

    ends_at: float
    idle_s: float

    @classmethod
    def after(cls, seconds: float, idle_s: float) -> Deadline:
        return cls(ends_at=time.monotonic() + seconds, idle_s=idle_s)


@dataclass(frozen=True, kw_only=True)
class ExecResult:
    """A finished command: exit code, its stdout and stderr, and why it was killed if it was.

    `timed_out`: killed at a deadline; `output_limit`: killed for printing too much; `unknown`:
    how it ended is not known (the engine dropped the stream, or the exec still ran after it
    ended) and the container was removed with whatever still ran in it. Each says why.
    """

    exit_code: int
    stdout: str
    stderr: str
    timed_out: str | None
    seconds: float
    output_limit: str | None = None
    unknown: str | None = None
    oom_killed: bool = False  # a scratch run's container, as the engine says

    @property
    def ended_by_us(self) -> bool:
        """Killed or lost: the exit code is not the command's own."""
        return (self.timed_out or self.output_limit or self.unknown) is not None


@dataclass(kw_only=True)
class Tail:
    """The last `keep` bytes of a stream, and how many came before them."""

    keep: int = KEPT_BYTES
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def extend(self, chunk: bytes) -> None:
        self.data.extend(chunk)
        if len(self.data) > 2 * self.keep:  # trimmed in batches: one copy per `keep` bytes
            self._trim()

    @property
    def total(self) -> int:
        return self.dropped + len(self.data)

    def text(self) -> str:
        self._trim()
        kept = self.data.decode(errors="replace")
        return f"[… {self.dropped} bytes not kept …]\n{kept}" if self.dropped else kept

    def _trim(self) -> None:
        excess = len(self.data) - self.keep
        if excess > 0:
            del self.data[:excess]
            self.dropped += excess


@dataclass(frozen=True, kw_only=True)
class ContainerState:
    """What the engine says of a cell's container after a step failed."""

    running: bool
    status: str
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""

    def describe(self) -> str:
        text = f"the cell's container is {self.status}"
        if not self.running and self.exit_code is not None:
            text += f" (exit code {self.exit_code}"
            text += ", OOM-killed" if self.oom_killed else ""
            text += f", error: {self.error}" if self.error else ""
            text += ")"
        return text


@dataclass(frozen=True, kw_only=True)
class MemoryEvents:
    """The container cgroup's counters: OOM kills (None: not readable), limit hits (v1)."""

    oom_kills: int | None
    limit_hits: int | None = None


def parse_memory_events(text: str) -> MemoryEvents:
    """`oom_kill N` of memory.events (v2) or memory.oom_control (v1); `failcnt N` (v1)."""
    kills = re.findall(r"^oom_kill (\d+)$", text, re.MULTILINE)
    hits = re.findall(r"^failcnt (\d+)$", text, re.MULTILINE)
    return MemoryEvents(
        oom_kills=max(int(k) for k in kills) if kills else None,
        limit_hits=int(hits[0]) if hits else None,
    )


class CellSandbox(Protocol):
    """What a cell's steps need of its container: CellContainer is one; a test fake another."""

    def run(
        self,
        command: Sequence[str],
        *,
        deadline: Deadline,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str = CELL_USER,
    ) -> ExecResult: ...

    def put_tree(self, tar_bytes: bytes) -> None: ...

    def get_file(self, path: str) -> bytes: ...

    def restart(self) -> None: ...

    def state(self) -> ContainerState: ...

    def memory_events(self) -> MemoryEvents: ...

    def container_id(self) -> str: ...

    def full_cpu(self) -> contextlib.AbstractContextManager[None]: ...


def cpu_quota_us(cpus: float) -> int:
    """The CFS quota per `CPU_PERIOD_US` that lets a container use `cpus` cores."""
    return round(cpus * CPU_PERIOD_US)


class CellContainer:
    """A long-lived container for one image's cells: no network, non-root, limited.

    Use as a context manager: the container is removed on exit, whatever the exit. A container
    that could not be removed (the engine away) is removed before the next one starts, so what
    still ran in it never meets the next cell; a container that could not be started is started
    by the next command.
    """

    def __init__(
        self,
        client: EngineClient,
        image: str,
        *,
        limits: Limits,
        volumes: Mapping[str, str],
        run_id: str,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.image = image
        self.limits = limits
        self.volumes = dict(volumes)
        self.run_id = run_id
        self.environment = dict(environment or {})  # every step's, e.g. the release's PATH
        self._container: EngineContainer | None = None
        self._stale: list[EngineContainer] = []  # removed, but the engine did not confirm it

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        # the engine away: the run's own cleanup, or the next run's orphan sweep, removes it
        with contextlib.suppress(*ENGINE_ERRORS):
            self.remove()

    @property
    def container(self) -> EngineContainer:
        """The running container; started now if the last one is gone."""
        if self._container is None:
            self.start()
        assert self._container is not None  # start() sets it or raises
        return self._container

    @transient_retry
    def start(self) -> None:
        """Create and start the container (after a kill, a fresh one)."""
        self._remove_stale()
        name = f"linkmatrix-{self.run_id}-{uuid.uuid4().hex[:8]}"
        self._container = self.client.containers.run(
            self.image,
            ["sleep", "infinity"],
            name=name,
            detach=True,
            init=True,
            network_mode="none",
            environment=self.environment,
            user=CELL_USER,
            mem_limit=self.limits.memory,
            memswap_limit=self.limits.memory,
            pids_limit=self.limits.pids,
            # a spinning cell leaves the host a share; as period and quota (not nano_cpus, which
            # the engine refuses to update) so that `full_cpu` can lift it for a step of ours
            cpu_period=CPU_PERIOD_US,
            cpu_quota=cpu_quota_us(self.limits.cpus),
            volumes={vol: {"bind": path, "mode": "rw"} for vol, path in self.volumes.items()},
            labels=owner_labels(self.run_id),
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
        )

    @contextlib.contextmanager
    def full_cpu(self) -> Iterator[None]:
        """Lift the CPU limit for the block: for linkmatrix's own work (std's build), not a cell's.

        The limit keeps a spinning cell from starving the host; std's build is ours, bounded by
        the cell's deadline, and is most of a cold run's time: held to 1.5 of 2 cores it left a
        quarter of the machine idle. An engine that refuses the lift leaves the limit (slower,
        never wrong). The limit is back when the block ends; if the engine cannot restore it,
        the container is removed, and the next command starts a limited one.
        """
        container = self.container
        try:
            container.update(cpu_quota=UNLIMITED_QUOTA)
        except ENGINE_ERRORS:
            yield
            return
        try:
            yield
        finally:
            if container is self._container:  # a container restarted in the block starts limited
                try:
                    container.update(cpu_quota=cpu_quota_us(self.limits.cpus))
                except ENGINE_ERRORS:
                    with contextlib.suppress(*ENGINE_ERRORS):
                        self.remove()

    def remove(self) -> None:
        """Kill and remove the container; quiet if it is already gone.

        Raises the engine's error if it cannot: the container is then removed before the next
        one starts.
        """
        container, self._container = self._container, None
        if container is not None:
            self._stale.append(container)
        self._remove_stale()

    def _remove_stale(self) -> None:
        while self._stale:
            remove_container(self._stale[0])
            self._stale.pop(0)

    def restart(self) -> None:
        """A fresh container, after a command had to be killed."""
        self.remove()
        self.start()

    def container_id(self) -> str:
        """The id of the container the next command runs in (started now if there is none)."""
        return str(self.container.id)

    @transient_retry
    def state(self) -> ContainerState:
        """Running or not, and if not how it ended, as the engine says."""
        container = self._container
        if container is None:
            return ContainerState(running=False, status="not started")
        try:
            container.reload()
        except NotFound:
            return ContainerState(running=False, status="gone (removed)")
        state = container.attrs.get("State") or {}
        code = state.get("ExitCode")
        return ContainerState(
            running=bool(state.get("Running")),
            status=str(state.get("Status", "unknown")),
            exit_code=code if isinstance(code, int) else None,
            oom_killed=bool(state.get("OOMKilled")),
            error=str(state.get("Error") or ""),
        )

    def memory_events(self) -> MemoryEvents:
        """The cgroup's OOM-kill count (and v1's limit hits), read in the container."""
        result = self.run(["sh", "-c", _MEMORY_EVENTS], deadline=Deadline.after(30, 30))
        if result.ended_by_us:
            return MemoryEvents(oom_kills=None)
        return parse_memory_events(result.stdout)

    def run(
        self,
        command: Sequence[str],
        *,
        deadline: Deadline,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str = CELL_USER,
    ) -> ExecResult:
        """Run `command`; the container is removed (and the result says why) if the command
        outlives `deadline`, falls silent, prints more than the output limit, or if how it
        ended cannot be known.
        """
        started = time.monotonic()
        exec_id = self._exec_create(command, env or {}, workdir, user)
        # bounded: a flood waits in the engine's socket, not in this process's memory
        chunks: queue.Queue[tuple[bytes | None, bytes | None] | None] = queue.Queue(
            maxsize=QUEUED_CHUNKS
        )
        dropped: list[BaseException] = []
        reader = threading.Thread(target=self._pump, args=(exec_id, chunks, dropped), daemon=True)
        reader.start()
        stdout, stderr = Tail(), Tail()
        stopped = _collect(chunks, deadline, stdout, stderr)
        code: int | None = None
        unknown: str | None = None
        if stopped is None:
            reader.join()
            if dropped:
                unknown = f"the engine dropped the command's output stream ({dropped[0]})"
            else:
                code, unknown = self._exit_code(exec_id)
        if unknown is not None:
            with contextlib.suppress(*ENGINE_ERRORS):  # e.g. killed under it: say so
                unknown += f"; {self.state().describe()}"
        if stopped is not None or unknown is not None:
            # the command may still run: nothing of it may reach the next command
            with contextlib.suppress(*ENGINE_ERRORS):  # then removed before the next start
                self.remove()
            _drain(chunks, reader, PUMP_JOIN_S)
        return ExecResult(
            exit_code=-9 if code is None else code,
            stdout=stdout.text(),
            stderr=stderr.text(),
            timed_out=stopped.why if stopped and stopped.kind is _Stop.TIME else None,
            output_limit=stopped.why if stopped and stopped.kind is _Stop.OUTPUT else None,
            unknown=unknown,
            seconds=time.monotonic() - started,
        )

    @transient_retry
    def _exec_create(
        self, command: Sequence[str], env: Mapping[str, str], workdir: str | None, user: str
    ) -> str:
        container_id = self.container.id
        assert container_id is not None  # a created container always has one
        created = self.client.api.exec_create(
            container_id, list(command), environment=dict(env), workdir=workdir, user=user
        )
        return str(created["Id"])

    def _pump(self, exec_id: str, chunks: queue.Queue[Any], dropped: list[BaseException]) -> None:
        try:
            for pair in self.client.api.exec_start(exec_id, stream=True, demux=True):
                chunks.put(pair)
        except (*ENGINE_ERRORS, OSError, ValueError) as exc:
            dropped.append(exc)  # the stream ended early: how the command ended is unknown
        finally:
            chunks.put(None)

    def _exit_code(self, exec_id: str) -> tuple[int | None, str | None]:
        """The exec's exit code, or (None, why) when the engine cannot say it ended."""
        polls = max(1, round(EXIT_POLL_S / 0.1))
        try:
            for _ in range(polls):
                state = self._exec_inspect(exec_id)
                code = state.get("ExitCode")
                if not state.get("Running") and isinstance(code, int):
                    return code, None
                time.sleep(0.1)
        except ENGINE_ERRORS as exc:
            return None, f"the engine could not say how the command ended ({exc})"
        return None, f"the output ended but the command still ran after {EXIT_POLL_S:.0f} s"

    @transient_retry
    def _exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return self.client.api.exec_inspect(exec_id)

    @transient_retry
    def put_tree(self, tar_bytes: bytes, destination: str = "/") -> None:
        """Unpack a tar into the container (root-owned as the tar says: read-only to the cell)."""
        if not self.container.put_archive(destination, tar_bytes):
            raise APIError(f"could not copy files into {destination}")

    @transient_retry
    def get_file(self, path: str) -> bytes:
        """The bytes of one regular file in the container."""
        stream, _ = self.container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
            member = next(m for m in archive.getmembers() if m.isfile())
            extracted = archive.extractfile(member)
            assert extracted is not None
            return extracted.read()


def _drain(chunks: queue.Queue[Any], reader: threading.Thread, seconds: float) -> None:
    """Discard what a stopped command's stream still sends, so its reader can end."""
    ends_at = time.monotonic() + seconds
    while reader.is_alive() and time.monotonic() < ends_at:
        with contextlib.suppress(queue.Empty):
            chunks.get(timeout=0.1)


class _Stop(enum.Enum):
    TIME = enum.auto()
    OUTPUT = enum.auto()


@dataclass(frozen=True)
class _Stopped:
    kind: _Stop
    why: str


def _collect(
    chunks: queue.Queue[tuple[bytes | None, bytes | None] | None],
    deadline: Deadline,
    stdout: Tail,
    stderr: Tail,
) -> _Stopped | None:
    """Drain output until the command ends; why, if a deadline or the output limit came first."""
    while True:
        remaining = deadline.ends_at - time.monotonic()
        if remaining <= 0:
            return _Stopped(_Stop.TIME, "the cell's time limit ran out")
        try:
            item = chunks.get(timeout=min(remaining, deadline.idle_s))
        except queue.Empty:
            if deadline.ends_at - time.monotonic() <= 0:
                return _Stopped(_Stop.TIME, "the cell's time limit ran out")
            return _Stopped(_Stop.TIME, f"no output for {deadline.idle_s:.0f} s")
        if item is None:
            return None
        out, err = item
        stdout.extend(out or b"")
        stderr.extend(err or b"")
        if stdout.total + stderr.total > OUTPUT_LIMIT_BYTES:
            return _Stopped(
                _Stop.OUTPUT,
                f"output limit: the step printed more than {OUTPUT_LIMIT_BYTES >> 20} MiB",
            )


def remove_container(container: EngineContainer) -> None:
    """Kill and remove `container`; quiet if it is gone; transient engine faults retried."""
    try:
        _force_remove(container)
    except NotFound:
        pass
    except APIError:  # e.g. 409, a removal already under way
        time.sleep(1)
        with contextlib.suppress(NotFound):
            container.remove(force=True)


@transient_retry
def _force_remove(container: EngineContainer) -> None:
    container.remove(force=True)


def cleanup_containers(client: EngineClient, run_id: str) -> int:
    """Remove every container a run started (a safety net behind the context managers)."""
    removed = 0
    for container in client.containers.list(
        all=True, filters={"label": f"{LABEL}={run_id}"}, ignore_removed=True
    ):
        remove_container(container)
        removed += 1
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process of that id runs on this host (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned(labels: Mapping[str, Any], host: str) -> bool:
    """Started by a linkmatrix run of this host whose process is gone.

    Another host's, a live process's, and one without the labels (an older linkmatrix's: its
    host is unknown) are left alone. A pid reused since is taken for alive: left, not removed.
    """
    pid = str(labels.get(PID_LABEL, ""))
    return labels.get(HOST_LABEL) == host and pid.isdigit() and not process_alive(int(pid))


@dataclass(frozen=True, kw_only=True)
class Orphans:
    """What a sweep removed: containers, scratch images, and the runs they were left by."""

    containers: int
    images: int
    runs: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"removed {self.containers} container(s) and {self.images} scratch image(s) left "
            f"by linkmatrix run(s) no longer running on this host: {', '.join(self.runs)}"
        )


def remove_orphans(client: EngineClient) -> Orphans:
    """Remove the containers and scratch images of this host's runs that are no longer alive."""
    host = socket.gethostname()
    runs: set[str] = set()
    containers = 0
    for container in client.containers.list(
        all=True, filters={"label": LABEL}, ignore_removed=True
    ):
        if orphaned(container.labels, host):
            remove_container(container)
            runs.add(container.labels.get(LABEL, "?"))
            containers += 1
    images = 0
    for image in client.images.list(filters={"label": LABEL}):
        if orphaned(image.labels, host):
            with contextlib.suppress(NotFound):
                client.images.remove(str(image.id), force=True)
            runs.add(str(image.labels.get(LABEL, "?")))
            images += 1
    return Orphans(containers=containers, images=images, runs=tuple(sorted(runs)))
