"""Run one file alone in an otherwise empty container (`FROM scratch`): nothing but the binary.

The image is `docker import`ed from a tar that holds the file and nothing else; the container
has no network, runs as uid 1000 under the cell limits, and both are removed afterwards, even
on Ctrl-C. This is what "a fully static executable needs nothing of the system" means, checked.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import requests
from docker.errors import ImageNotFound, NotFound
from docker.types import LogConfig

from orchestrator.config.matrix import Limits
from orchestrator.engine.client import transient_retry
from orchestrator.engine.container import (
    CELL_USER,
    KEPT_BYTES,
    LABEL,
    Deadline,
    ExecResult,
    owner_labels,
    remove_container,
)
from orchestrator.engine.protocol import EngineClient, EngineContainer

SCRATCH_REPOSITORY = "linkmatrix/scratch-run"
# The engine keeps one log file of at most this size (the tail of the output; json-file
# rotates it): a program printing without end fills neither the engine's disk nor our memory.
SCRATCH_LOG = LogConfig(type="json-file", config={"max-size": str(2 * KEPT_BYTES), "max-file": "1"})


def scratch_tar(name: str, data: bytes) -> bytes:
    """A root filesystem with one file, `/<name>`, executable by anyone."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o755
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass(frozen=True, kw_only=True)
class ScratchRunner:
    """Imports, runs and removes a one-file image per run."""

    client: EngineClient
    limits: Limits
    run_id: str

    def run(self, name: str, data: bytes, args: Sequence[str], *, deadline: Deadline) -> ExecResult:
        """Run `/<name>` with `args` in a container whose filesystem is that file alone."""
        started = time.monotonic()
        tag = uuid.uuid4().hex[:12]
        image = f"{SCRATCH_REPOSITORY}:{tag}"
        self._import(scratch_tar(name, data), tag)
        container: EngineContainer | None = None
        try:
            container = self._create(image, [f"/{name}", *args])
            container.start()
            timed_out = _wait(container, deadline)
            stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
            stderr = container.logs(stdout=False, stderr=True).decode(errors="replace")
            container.reload()
            state = container.attrs.get("State") or {}
            code = int(state.get("ExitCode", -1))
            return ExecResult(
                exit_code=-9 if timed_out else code,
                stdout=stdout,
                stderr=stderr,
                timed_out=timed_out,
                seconds=time.monotonic() - started,
                oom_killed=bool(state.get("OOMKilled")),  # its own container: the engine knows
            )
        finally:
            self._remove(container, image)

    @transient_retry
    def _import(self, tar_bytes: bytes, tag: str) -> None:
        self.client.api.import_image_from_data(
            tar_bytes,
            repository=SCRATCH_REPOSITORY,
            tag=tag,
            changes=[f"LABEL {key}={value}" for key, value in owner_labels(self.run_id).items()],
        )

    @transient_retry
    def _create(self, image: str, command: list[str]) -> EngineContainer:
        return self.client.containers.create(
            image,
            command,
            name=f"linkmatrix-{self.run_id}-scratch-{uuid.uuid4().hex[:8]}",
            network_mode="none",
            user=CELL_USER,
            mem_limit=self.limits.memory,
            memswap_limit=self.limits.memory,
            pids_limit=self.limits.pids,
            nano_cpus=round(self.limits.cpus * 1e9),  # a spinning cell leaves the host a share
            labels=owner_labels(self.run_id),
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            log_config=SCRATCH_LOG,
        )

    def _remove(self, container: EngineContainer | None, image: str) -> None:
        if container is not None:
            remove_container(container)
        with contextlib.suppress(ImageNotFound, NotFound):
            self.client.images.remove(image, force=True)


def _wait(container: EngineContainer, deadline: Deadline) -> str | None:
    """Wait for the container to exit; kill it and say why when the cell's time runs out."""
    remaining = max(1.0, deadline.ends_at - time.monotonic())
    try:
        container.wait(timeout=remaining)
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        container.kill()
        return "the cell's time limit ran out"
    return None


def cleanup_scratch_images(client: EngineClient, run_id: str) -> int:
    """Remove the one-file images a run left behind (a safety net behind ScratchRunner)."""
    removed = 0
    for image in client.images.list(filters={"label": f"{LABEL}={run_id}"}):
        client.images.remove(str(image.id), force=True)
        removed += 1
    return removed
