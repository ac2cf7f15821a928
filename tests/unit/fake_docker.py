"""A scripted stand-in for docker.DockerClient: just what linkmatrix calls, recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from docker.errors import ImageNotFound

ExecScript = Callable[[list[str]], Iterator[tuple[bytes | None, bytes | None]]]


def prints(text: str, code: int = 0) -> tuple[ExecScript, int]:
    def script(command: list[str]) -> Iterator[tuple[bytes | None, bytes | None]]:
        yield text.encode(), None

    return script, code


@dataclass
class FakeContainer:
    client: FakeClient
    id: str
    removed: bool = False

    def remove(self, force: bool = False) -> None:
        self.removed = True
        self.client.release.set()  # like the engine, removal ends any running exec's stream
        self.client.events.append(f"remove {self.id}")

    def put_archive(self, path: str, data: bytes) -> bool:
        self.client.events.append(f"put {path}")
        return True


@dataclass
class FakeContainers:
    client: FakeClient

    def run(self, image: str, command: list[str], **options: Any) -> FakeContainer:
        self.client.run_options.append(options)
        container = FakeContainer(self.client, f"c{len(self.client.run_options)}")
        self.client.started.append(container)
        self.client.events.append(f"start {container.id}")
        return container

    def list(self, **_: Any) -> list[FakeContainer]:
        return [c for c in self.client.started if not c.removed]


@dataclass
class FakeImages:
    present: dict[str, str] = field(default_factory=dict)

    def get(self, tag: str) -> Any:
        if tag not in self.present:
            raise ImageNotFound(tag)
        return type("Image", (), {"id": self.present[tag]})()


@dataclass
class FakeApi:
    client: FakeClient
    execs: dict[str, list[str]] = field(default_factory=dict)
    failures: list[Exception] = field(default_factory=list)

    def exec_create(self, container: str, command: list[str], **_: Any) -> dict[str, str]:
        if self.failures:
            raise self.failures.pop(0)
        exec_id = f"e{len(self.execs)}"
        self.execs[exec_id] = command
        self.client.events.append(f"exec {' '.join(command)}")
        return {"Id": exec_id}

    def exec_start(self, exec_id: str, **_: Any) -> Iterator[tuple[bytes | None, bytes | None]]:
        script, _code = self.client.script(self.execs[exec_id])
        return script(self.execs[exec_id])

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        _script, code = self.client.script(self.execs[exec_id])
        return {"Running": False, "ExitCode": code}


@dataclass
class FakeClient:
    script: Callable[[list[str]], tuple[ExecScript, int]] = lambda command: prints("")
    events: list[str] = field(default_factory=list)
    run_options: list[dict[str, Any]] = field(default_factory=list)
    started: list[FakeContainer] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.containers = FakeContainers(self)
        self.images = FakeImages()
        self.api = FakeApi(self)


def hangs(release: threading.Event) -> ExecScript:
    """A command that prints once, then says nothing until released."""

    def script(command: list[str]) -> Iterator[tuple[bytes | None, bytes | None]]:
        yield b"started\n", None
        release.wait(timeout=30)

    return script
