"""One typed stand-in for a Docker engine: the `EngineClient` Protocol, scripted and recorded.

Like docker-py's own `fake_api_client.py`, but one level up: it implements the calls linkmatrix
makes (orchestrator/engine/protocol.py) with an engine's observable behaviour, and mypy checks
it against the Protocol, so no test needs a `cast`.

- `script(argv) -> Reply` answers every exec and every scratch container's command.
- `events` is the engine's log, one line per call, e.g. "start c1", "exec c1 cat /x",
  "put c1 /", "get c1 /x", "remove c1", "build linkmatrix/rust:…", "remove image …";
  `execs`, `puts`, `builds`, `imported` and each container's `options` keep the details.
- `files` is what `get_archive` returns, by container path (a script may add to it, as the
  `cp` it stands for would).
- `fail(call, error, times=, after=)` makes a call raise; `break_build(name)` makes an image's
  build stream end in an error; `add_image(tag)` puts an image in place.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import itertools
import tarfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import requests
from docker.errors import APIError, ImageNotFound, NotFound

from orchestrator.cell.cargo import Collect
from orchestrator.engine.protocol import EngineClient, OutputPair

HANG_LIMIT_S = 30  # a hanging exec ends by itself after this, so a broken test cannot block


@dataclass(frozen=True, kw_only=True)
class Reply:
    """What a command prints and how it ends; `hangs`: it then falls silent until killed.

    `repeat`: the output is sent this many times (a flood, in chunks); `drops`: the engine
    drops the output stream after it (a connection reset); `still_running`: the exec stays
    Running after its stream ended; `kills_container`: the container stops under the command
    (`docker kill`, an engine restart) with this exit code, OOM-killed if `oom_killed`.
    """

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
    hangs: bool = False
    repeat: int = 1
    drops: bool = False
    still_running: bool = False
    kills_container: int | None = None
    oom_killed: bool = False


Script = Callable[[Sequence[str]], Reply]


def prints(text: str, code: int = 0) -> Reply:
    return Reply(stdout=text.encode(), exit_code=code)


def silent(argv: Sequence[str]) -> Reply:
    return Reply()


def server_error(status: int = 500, message: str = "engine busy") -> APIError:
    """An engine answer with an HTTP status, as docker-py raises it."""
    response = requests.Response()
    response.status_code = status
    return APIError(message, response=response)


@dataclass(frozen=True, kw_only=True)
class ExecCall:
    """One exec as the engine received it."""

    container: str
    command: tuple[str, ...]
    env: dict[str, str]
    user: str
    workdir: str | None


@dataclass(frozen=True, kw_only=True)
class PutCall:
    container: str
    path: str
    data: bytes

    def names(self) -> list[str]:
        """The paths in the tar that was put."""
        return tar_names(self.data)


@dataclass(frozen=True, kw_only=True)
class ImportCall:
    name: str
    data: bytes
    changes: list[str]


@dataclass(frozen=True, kw_only=True)
class BuildCall:
    tag: str
    path: str
    buildargs: dict[str, str]
    labels: dict[str, str]


@dataclass(kw_only=True)
class _Fault:
    error: BaseException
    first: int  # the 0-based call number that raises first
    times: int


@dataclass
class FakeContainer:
    """A container: its command's reply comes from the engine's script when it is started."""

    engine: FakeEngine
    id: str
    image: str
    command: list[str]
    options: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=dict)
    removed: threading.Event = field(default_factory=threading.Event)
    died: Reply | None = None  # the reply under which it stopped, if it did

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.options.get("labels") or {})

    def start(self) -> None:
        self.engine.call("container.start", f"start {self.id}")

    def wait(self, *, timeout: float) -> object:
        reply = self.engine.script(self.command)
        if reply.hangs and not self.removed.wait(timeout):
            raise requests.exceptions.ReadTimeout("no answer in time")
        return {"StatusCode": reply.exit_code}

    def kill(self) -> None:
        self.engine.call("container.kill", f"kill {self.id}")

    def logs(self, *, stdout: bool, stderr: bool) -> bytes:
        reply = self.engine.script(self.command)
        return (reply.stdout if stdout else b"") + (reply.stderr if stderr else b"")

    def reload(self) -> None:
        self.engine.call("container.reload")
        if self.removed.is_set():
            raise NotFound(f"no such container: {self.id}")
        if self.died is not None:
            code, oom = self.died.kills_container, self.died.oom_killed
            self.attrs = {"State": _state("exited", code, oom=oom)}
        elif self.command == ["sleep", "infinity"]:  # a cell container runs until removed
            self.attrs = {"State": _state("running", 0)}
        else:  # a scratch container has run its command
            reply = self.engine.script(self.command)
            self.attrs = {"State": _state("exited", reply.exit_code, oom=reply.oom_killed)}

    def die(self, reply: Reply) -> None:
        """Stop as `reply.kills_container` says: later execs are refused (409)."""
        self.died = reply
        self.engine.events.append(f"died {self.id}")

    def put_archive(self, path: str, data: bytes) -> bool:
        self.engine.call("container.put_archive", f"put {self.id} {path}")
        self.engine.puts.append(PutCall(container=self.id, path=path, data=data))
        return True

    def get_archive(self, path: str) -> tuple[Iterator[bytes], dict[str, Any]]:
        self.engine.call("container.get_archive", f"get {self.id} {path}")
        if path not in self.engine.files:
            raise NotFound(f"no such file: {path}")
        data = self.engine.files[path]
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo(path.rsplit("/", 1)[-1])
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        return iter([buffer.getvalue()]), {"name": info.name, "size": len(data)}

    def update(self, *, cpu_quota: int) -> object:
        self.engine.call("container.update", f"update {self.id} cpu_quota={cpu_quota}")
        if self.removed.is_set():
            raise NotFound(f"no such container: {self.id}")
        self.options["cpu_quota"] = cpu_quota
        return {"Warnings": []}

    def remove(self, *, force: bool = False) -> None:
        self.engine.call("container.remove")
        if self.removed.is_set():
            raise NotFound(f"no such container: {self.id}")
        self.engine.events.append(f"remove {self.id}")
        self.engine.removed_ids.append(self.id)
        self.removed.set()  # like the engine: removal ends a running exec's stream


@dataclass
class FakeContainers:
    engine: FakeEngine
    started: list[FakeContainer] = field(default_factory=list)

    def run(self, image: str, command: list[str], **options: Any) -> FakeContainer:
        self.engine.call("containers.run")
        container = self._new(image, command, options)
        for volume in options.get("volumes") or {}:
            self.engine.volumes.ensure(volume)  # as the engine does for a named volume
        self.engine.events.append(f"start {container.id}")
        return container

    def create(self, image: str, command: list[str], **options: Any) -> FakeContainer:
        container = self._new(image, command, options)
        self.engine.call("containers.create", f"create {container.id} {image} {' '.join(command)}")
        return container

    def _new(self, image: str, command: list[str], options: dict[str, Any]) -> FakeContainer:
        self.engine.image_of(image)  # the engine refuses an image it does not have
        container = FakeContainer(
            self.engine, f"c{len(self.started) + 1}", image, list(command), dict(options)
        )
        self.started.append(container)
        return container

    def list(
        self,
        *,
        all: bool,  # noqa: A002 - docker-py's name
        filters: dict[str, str | list[str] | bool],
        ignore_removed: bool = False,
    ) -> list[FakeContainer]:
        # The real engine lists, then inspects each one: a container removed in between
        # raises NotFound unless `ignore_removed`; every caller here lists live runs' containers.
        assert ignore_removed, "list containers with ignore_removed=True: they come and go"
        self.engine.call("containers.list")
        wanted = str(filters.get("label", ""))
        return [c for c in self.started if not c.removed.is_set() and _has_label(c.labels, wanted)]


@dataclass
class FakeImage:
    id: str
    tags: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    engine: FakeEngine | None = None

    def tag(self, repository: str) -> bool:
        if self.engine is not None:
            self.engine.call("image.tag", f"tag {self.id} {repository}")
        self.tags.append(repository)
        return True


@dataclass
class FakeImages:
    engine: FakeEngine
    present: list[FakeImage] = field(default_factory=list)

    def get(self, name: str, /) -> FakeImage:
        self.engine.call("images.get")
        return self.engine.image_of(name)

    def pull(self, repository: str, /) -> FakeImage:
        self.engine.call("images.pull", f"pull {repository}")
        return self.engine.add_image(repository)

    def list(self, *, filters: dict[str, Any]) -> list[FakeImage]:
        self.engine.call("images.list")
        label = str(filters.get("label", ""))
        reference = str(filters.get("reference", "*"))
        return [
            image
            for image in self.present
            if _has_label(image.labels, label)
            and (not image.tags or any(fnmatch.fnmatchcase(t, reference) for t in image.tags))
        ]

    def remove(self, image: str, /, *, force: bool = False, noprune: bool = False) -> None:
        self.engine.call("images.remove", f"remove image {image}")
        found = self.engine.image_of(image)
        if image in found.tags:
            found.tags.remove(image)
        if not found.tags or image == found.id:
            self.present.remove(found)


@dataclass
class FakeVolume:
    engine: FakeEngine
    name: str

    def remove(self) -> None:
        self.engine.call("volume.remove", f"remove volume {self.name}")
        self.engine.volumes.present.pop(self.name, None)


@dataclass
class FakeVolumes:
    engine: FakeEngine
    present: dict[str, FakeVolume] = field(default_factory=dict)

    def ensure(self, name: str) -> FakeVolume:
        if name not in self.present:
            self.engine.events.append(f"create volume {name}")
            self.present[name] = FakeVolume(self.engine, name)
        return self.present[name]

    def get(self, volume_id: str, /) -> FakeVolume:
        self.engine.call("volumes.get")
        if volume_id not in self.present:
            raise NotFound(f"no such volume: {volume_id}")
        return self.present[volume_id]

    def list(self, *, filters: dict[str, Any]) -> list[FakeVolume]:
        self.engine.call("volumes.list")
        part = str(filters.get("name", ""))
        return [v for name, v in self.present.items() if part in name]


@dataclass
class FakeApi:
    engine: FakeEngine
    _exec_container: dict[str, FakeContainer] = field(default_factory=dict)
    _exec_command: dict[str, list[str]] = field(default_factory=dict)

    def exec_create(
        self,
        container: str,
        cmd: list[str],
        /,
        *,
        environment: dict[str, str],
        workdir: str | None,
        user: str,
    ) -> dict[str, Any]:
        self.engine.call("api.exec_create")
        running = self.engine.running(container)
        if running.died is not None:
            raise server_error(409, f"Container {container} is not running")
        exec_id = f"e{len(self.engine.execs) + 1}"
        self.engine.execs.append(
            ExecCall(
                container=container,
                command=tuple(cmd),
                env=dict(environment),
                user=user,
                workdir=workdir,
            )
        )
        self.engine.events.append(f"exec {container} {' '.join(cmd)}")
        self._exec_container[exec_id] = running
        self._exec_command[exec_id] = self.engine.collect(cmd)
        return {"Id": exec_id}

    def exec_start(
        self, exec_id: str, /, *, stream: Literal[True], demux: Literal[True]
    ) -> Iterator[OutputPair]:
        self.engine.call("api.exec_start")
        reply = self.engine.script(self._exec_command[exec_id])
        return self._stream(reply, self._exec_container[exec_id])

    @staticmethod
    def _stream(reply: Reply, container: FakeContainer) -> Iterator[OutputPair]:
        for _ in range(reply.repeat):
            if container.removed.is_set():  # killed: the stream ends
                return
            if reply.stdout or reply.stderr:
                yield reply.stdout or None, reply.stderr or None
        if reply.kills_container is not None:
            container.die(reply)
        if reply.drops:
            raise requests.exceptions.ConnectionError("Connection reset by peer")
        if reply.hangs:
            container.removed.wait(HANG_LIMIT_S)

    def exec_inspect(self, exec_id: str, /) -> dict[str, Any]:
        self.engine.call("api.exec_inspect")
        reply = self.engine.script(self._exec_command[exec_id])
        return {"Running": reply.still_running, "ExitCode": reply.exit_code}

    def import_image_from_data(
        self,
        data: bytes | IO[bytes],
        /,
        *,
        repository: str,
        tag: str | None,
        changes: list[str],
    ) -> object:
        name = f"{repository}:{tag}" if tag else repository
        self.engine.call("api.import_image_from_data", f"import {name}")
        content = data if isinstance(data, bytes) else data.read()
        self.engine.imported.append(ImportCall(name=name, data=content, changes=list(changes)))
        labels = dict(
            change.removeprefix("LABEL ").split("=", 1)
            for change in changes
            if change.startswith("LABEL ")
        )
        self.engine.add_image(name, labels=labels)
        return {"status": "imported"}

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
    ) -> Iterator[dict[str, Any]]:
        self.engine.call("api.build", f"build {tag}")
        self.engine.builds.append(
            BuildCall(tag=tag, path=path, buildargs=dict(buildargs), labels=dict(labels))
        )
        return self._build_stream(tag, labels)

    def _build_stream(self, tag: str, labels: dict[str, str]) -> Iterator[dict[str, Any]]:
        yield {"stream": f"Step 1/1 : FROM {tag}\n"}
        if tag.partition(":")[0].removeprefix("linkmatrix/") in self.engine.broken_builds:
            yield {"error": f"The command '/bin/sh -c apt-get install' returned 100 ({tag})"}
            return
        self.engine.add_image(tag, labels=labels)
        yield {"stream": "Successfully built\n"}


class FakeEngine:
    """The fake `EngineClient`: see the module's docstring."""

    def __init__(self, script: Script = silent) -> None:
        self.script = script
        self.events: list[str] = []
        self.execs: list[ExecCall] = []
        self.puts: list[PutCall] = []
        self.builds: list[BuildCall] = []
        self.imported: list[ImportCall] = []
        self.removed_ids: list[str] = []
        self.files: dict[str, bytes] = {}
        self.broken_builds: set[str] = set()
        self.api = FakeApi(self)
        self.containers = FakeContainers(self)
        self.images = FakeImages(self)
        self.volumes = FakeVolumes(self)
        self._calls: dict[str, int] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._ids = itertools.count(1)

    # -- scripting ---------------------------------------------------------------------------
    def fail(self, call: str, error: BaseException, *, times: int = 1, after: int = 0) -> None:
        """Make `call` (e.g. "api.exec_create") raise `error` `times` times, once `after` more
        calls of it have succeeded.
        """
        first = self._calls.get(call, 0) + after
        self._faults.setdefault(call, []).append(_Fault(error=error, first=first, times=times))

    def break_build(self, image: str) -> None:
        """Builds of `linkmatrix/<image>:…` end with an error chunk, as a failed RUN does."""
        self.broken_builds.add(image)

    def add_image(self, tag: str, *, labels: Mapping[str, str] | None = None) -> FakeImage:
        """An image present under `tag` (its id derived from the tag, as stable as a digest)."""
        image_id = "sha256:" + hashlib.sha256(f"{tag}#{next(self._ids)}".encode()).hexdigest()
        image = FakeImage(id=image_id, tags=[tag], labels=dict(labels or {}), engine=self)
        self.images.present.append(image)
        return image

    # -- the engine's state ------------------------------------------------------------------
    def collect(self, argv: Sequence[str]) -> list[str]:
        """The command a `with_collect` wrapper runs, its copy made in `files` as `cp` would:
        scripts see the command alone.
        """
        collect, command = unwrap_collect(argv)
        if collect is not None:
            for built, copy in zip(collect.filenames, collect.paths(), strict=True):
                if built in self.files:
                    self.files[copy] = self.files[built]
        return command

    def call(self, name: str, event: str | None = None) -> None:
        """Count a call, raise a fault due now, else record `event`."""
        number = self._calls.get(name, 0)
        self._calls[name] = number + 1
        for fault in self._faults.get(name, []):
            if fault.first <= number < fault.first + fault.times:
                raise fault.error
        if event is not None:
            self.events.append(event)

    def image_of(self, name: str) -> FakeImage:
        for image in self.images.present:
            if name in image.tags or name == image.id:
                return image
        raise ImageNotFound(f"No such image: {name}")

    def running(self, container_id: str) -> FakeContainer:
        for container in self.containers.started:
            if container.id == container_id and not container.removed.is_set():
                return container
        raise NotFound(f"No such container: {container_id}")

    def running_ids(self) -> list[str]:
        return [c.id for c in self.containers.started if not c.removed.is_set()]

    def commands(self) -> list[tuple[str, ...]]:
        """Every exec's argv, in order."""
        return [call.command for call in self.execs]


def _state(status: str, exit_code: int | None, *, oom: bool = False) -> dict[str, Any]:
    """A container's State as `docker inspect` shows it."""
    return {
        "Status": status,
        "Running": status == "running",
        "ExitCode": exit_code,
        "OOMKilled": oom,
        "Error": "",
    }


def tar_names(data: bytes) -> list[str]:
    """The member names of a tar."""
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return archive.getnames()


def _has_label(labels: Mapping[str, str], wanted: str) -> bool:
    """docker's `label=` filter: `key=value`, `key`, or no filter at all."""
    if not wanted:
        return True
    key, _, value = wanted.partition("=")
    return key in labels and (not value or labels[key] == value)


def _conforms(engine: FakeEngine) -> EngineClient:
    """mypy checks here that the fake stands in for the engine client without a cast."""
    return engine


def unwrap_collect(argv: Sequence[str]) -> tuple[Collect | None, list[str]]:
    """The copy and the command of a `with_collect` wrapper (None and `argv`: no wrapper)."""
    if list(argv[:2]) != ["sh", "-c"] or list(argv[3:4]) != ["collect"]:
        return None, list(argv)
    destination, count = argv[4], int(argv[5])
    filenames = tuple(argv[6 : 6 + count])
    return Collect(filenames=filenames, destination=destination), list(argv[6 + count :])
