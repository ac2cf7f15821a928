"""The part of docker-py's `DockerClient` that linkmatrix uses, as Protocols.

Production code takes an `EngineClient`; `docker.DockerClient` satisfies it structurally
(`_docker_client_is_an_engine_client` below is checked by mypy against types-docker), and so
does the unit tests' fake engine, without a cast. A new engine call must be added here first,
which keeps the fake honest: it can only stand in for what is declared.

Parameter types mirror types-docker's where they are invariant containers (`filters`), so that
the real client still matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any, Literal, Protocol

import docker
from docker.types import LogConfig

OutputPair = tuple[bytes | None, bytes | None]  # (stdout, stderr) of a demultiplexed stream


class EngineContainer(Protocol):
    """A container: a cell's long-lived one, or a one-file `FROM scratch` run."""

    @property
    def id(self) -> str | None: ...

    @property
    def attrs(self) -> Mapping[str, Any]: ...

    @property
    def labels(self) -> dict[str, str]: ...

    def start(self) -> None: ...

    def wait(self, *, timeout: float) -> object: ...

    def kill(self) -> None: ...

    def logs(self, *, stdout: bool, stderr: bool) -> bytes: ...

    def reload(self) -> None: ...

    def put_archive(self, path: str, data: bytes) -> bool: ...

    def get_archive(self, path: str) -> tuple[Iterable[bytes], object]: ...

    def remove(self, *, force: bool = False) -> None: ...

    def update(self, *, cpu_quota: int) -> object: ...


class EngineContainers(Protocol):
    """`client.containers`: start a cell container, create a scratch one, list a run's."""

    def run(
        self,
        image: str,
        command: list[str],
        *,
        name: str,
        detach: Literal[True],
        init: bool,
        network_mode: str,
        environment: dict[str, str],
        user: str,
        mem_limit: str,
        memswap_limit: str,
        pids_limit: int,
        cpu_period: int,
        cpu_quota: int,
        volumes: dict[str, dict[str, str]],
        labels: dict[str, str],
        cap_drop: list[str],
        security_opt: list[str],
    ) -> EngineContainer: ...

    def create(
        self,
        image: str,
        command: list[str],
        *,
        name: str,
        network_mode: str,
        user: str,
        mem_limit: str,
        memswap_limit: str,
        pids_limit: int,
        nano_cpus: int,
        labels: dict[str, str],
        cap_drop: list[str],
        security_opt: list[str],
        log_config: LogConfig,
    ) -> EngineContainer: ...

    def list(
        self,
        *,
        all: bool,  # noqa: A002 - docker-py's name
        filters: dict[str, str | list[str] | bool],
        ignore_removed: bool = False,
    ) -> Sequence[EngineContainer]: ...


class EngineImage(Protocol):
    """An image: its id, its tags, and a new tag for it (the pulled base)."""

    @property
    def id(self) -> str | None: ...

    @property
    def tags(self) -> list[str]: ...

    @property
    def labels(self) -> dict[str, Any]: ...

    def tag(self, repository: str) -> bool: ...


class EngineImages(Protocol):
    """`client.images`: look up by tag, pull the base, list and remove linkmatrix's."""

    def get(self, name: str, /) -> EngineImage: ...

    def pull(self, repository: str, /) -> EngineImage: ...

    def list(self, *, filters: dict[str, Any]) -> Sequence[EngineImage]: ...

    def remove(self, image: str, /, *, force: bool = False, noprune: bool = False) -> None: ...


class EngineVolume(Protocol):
    """A std-cache volume."""

    @property
    def name(self) -> str: ...

    def remove(self) -> None: ...


class EngineVolumes(Protocol):
    """`client.volumes`: the cache volumes, for prune."""

    def get(self, volume_id: str, /) -> EngineVolume: ...

    def list(self, *, filters: dict[str, Any]) -> Sequence[EngineVolume]: ...


class EngineApi(Protocol):
    """`client.api`, the low-level calls: execs, image builds and imports."""

    def exec_create(
        self,
        container: str,
        cmd: list[str],
        /,
        *,
        environment: dict[str, str],
        workdir: str | None,
        user: str,
    ) -> dict[str, Any]: ...

    def exec_start(
        self, exec_id: str, /, *, stream: Literal[True], demux: Literal[True]
    ) -> Iterable[OutputPair]: ...

    def exec_inspect(self, exec_id: str, /) -> dict[str, Any]: ...

    def import_image_from_data(
        self,
        data: bytes | IO[bytes],
        /,
        *,
        repository: str,
        tag: str | None,
        changes: list[str],
    ) -> object: ...

    def build(
        self,
        *,
        path: str,
        tag: str,
        buildargs: dict[str, str],
        labels: dict[str, str],
        rm: bool,
        forcerm: bool,
        pull: bool,
        decode: Literal[True],
        network_mode: str | None,
    ) -> Iterable[dict[str, Any]]: ...


class EngineClient(Protocol):
    """What linkmatrix asks of a Docker engine client."""

    @property
    def api(self) -> EngineApi: ...

    @property
    def containers(self) -> EngineContainers: ...

    @property
    def images(self) -> EngineImages: ...

    @property
    def volumes(self) -> EngineVolumes: ...


def _docker_client_is_an_engine_client(client: docker.DockerClient) -> EngineClient:
    """Never called: mypy checks here that docker-py's client satisfies the Protocol."""
    return client
