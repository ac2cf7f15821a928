"""The one wrapper around a cell container: limits, deadlines, and cleanup even on Ctrl-C."""

from __future__ import annotations

import io
import queue
import tarfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

from docker.errors import APIError, NotFound

from orchestrator.config.matrix import Limits
from orchestrator.engine.client import transient_retry
from orchestrator.engine.protocol import EngineClient, EngineContainer

CELL_USER = "1000:1000"
LABEL = "org.linkmatrix.run"


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
    """A finished command: exit code, its stdout and stderr, and why it was killed if it was."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: str | None
    seconds: float


class CellSandbox(Protocol):
    """What a cell's steps need of its container: CellContainer is one; a test fake another."""

    def run(
        self,
        command: Sequence[str],
        *,
        deadline: Deadline,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
    ) -> ExecResult: ...

    def put_tree(self, tar_bytes: bytes) -> None: ...

    def get_file(self, path: str) -> bytes: ...

    def restart(self) -> None: ...


class CellContainer:
    """A long-lived container for one image's cells: no network, non-root, limited.

    Use as a context manager: the container is removed on exit, whatever the exit.
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

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.remove()

    @property
    def container(self) -> EngineContainer:
        if self._container is None:
            raise RuntimeError("the container is not running")
        return self._container

    @transient_retry
    def start(self) -> None:
        """Create and start the container (after a kill, a fresh one)."""
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
            nano_cpus=round(self.limits.cpus * 1e9),  # a spinning cell leaves the host a share
            volumes={vol: {"bind": path, "mode": "rw"} for vol, path in self.volumes.items()},
            labels={LABEL: self.run_id},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
        )

    def remove(self) -> None:
        """Kill and remove the container; quiet if it is already gone."""
        container, self._container = self._container, None
        if container is not None:
            remove_container(container)

    def restart(self) -> None:
        """A fresh container, after a command had to be killed."""
        self.remove()
        self.start()

    def run(
        self,
        command: Sequence[str],
        *,
        deadline: Deadline,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str = CELL_USER,
    ) -> ExecResult:
        """Run `command`, killing the container if it outlives `deadline` or falls silent."""
        started = time.monotonic()
        exec_id = self._exec_create(command, env or {}, workdir, user)
        chunks: queue.Queue[tuple[bytes | None, bytes | None] | None] = queue.Queue()
        reader = threading.Thread(target=self._pump, args=(exec_id, chunks), daemon=True)
        reader.start()
        stdout, stderr = bytearray(), bytearray()
        timed_out = _collect(chunks, deadline, stdout, stderr)
        if timed_out is not None:
            self.remove()
            reader.join(timeout=10)
            return ExecResult(
                exit_code=-9,
                stdout=stdout.decode(errors="replace"),
                stderr=stderr.decode(errors="replace"),
                timed_out=timed_out,
                seconds=time.monotonic() - started,
            )
        reader.join()
        return ExecResult(
            exit_code=self._exit_code(exec_id),
            stdout=stdout.decode(errors="replace"),
            stderr=stderr.decode(errors="replace"),
            timed_out=None,
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

    def _pump(self, exec_id: str, chunks: queue.Queue[Any]) -> None:
        try:
            for pair in self.client.api.exec_start(exec_id, stream=True, demux=True):
                chunks.put(pair)
        except (APIError, OSError, ValueError):
            pass
        finally:
            chunks.put(None)

    @transient_retry
    def _exit_code(self, exec_id: str) -> int:
        for _ in range(50):
            state = self.client.api.exec_inspect(exec_id)
            code = state.get("ExitCode")
            if not state.get("Running") and isinstance(code, int):
                return code
            time.sleep(0.1)
        return -1

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


def _collect(
    chunks: queue.Queue[tuple[bytes | None, bytes | None] | None],
    deadline: Deadline,
    stdout: bytearray,
    stderr: bytearray,
) -> str | None:
    """Drain output until the command ends; the reason text if a deadline passed first."""
    while True:
        remaining = deadline.ends_at - time.monotonic()
        if remaining <= 0:
            return "the cell's time limit ran out"
        try:
            item = chunks.get(timeout=min(remaining, deadline.idle_s))
        except queue.Empty:
            if deadline.ends_at - time.monotonic() <= 0:
                return "the cell's time limit ran out"
            return f"no output for {deadline.idle_s:.0f} s"
        if item is None:
            return None
        out, err = item
        stdout.extend(out or b"")
        stderr.extend(err or b"")


def remove_container(container: EngineContainer) -> None:
    """Kill and remove `container`; quiet if it is gone, one retry if the engine is busy."""
    try:
        container.remove(force=True)
    except NotFound:
        pass
    except APIError:
        time.sleep(1)
        container.remove(force=True)


def cleanup_containers(client: EngineClient, run_id: str) -> int:
    """Remove every container a run started (a safety net behind the context managers)."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}={run_id}"}):
        container.remove(force=True)
        removed += 1
    return removed
