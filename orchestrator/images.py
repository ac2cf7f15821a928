"""Images with or without a registry: the Debian base, then toolchain images by content hash."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, BuildError, ImageNotFound

from orchestrator.config import BASE_IMAGE, BaseImage, Matrix
from orchestrator.engine import transient_retry
from orchestrator.errors import ImageBuildError
from orchestrator.fetch import (
    FETCHED_DIR,
    SdkMissing,
    load_fetch_spec,
    local_inputs_digest,
    stage_context,
)
from orchestrator.plan import ImageKey

HASH_VERSION = "1"
LABEL = "org.linkmatrix"
BUILD_LOG_TAIL = 40


@dataclass(kw_only=True)
class ImageNeeds:
    """The plan's images: those a run will build, and those it cannot (the user's SDK is absent)."""

    to_build: list[str] = field(default_factory=list)
    sdk_missing: list[str] = field(default_factory=list)
    present: dict[str, str] = field(default_factory=dict)  # tag → id of those already built


@dataclass(frozen=True, kw_only=True)
class ReadyImage:
    """An image present in the engine: its tag, id, and whether this run built it."""

    key: ImageKey
    tag: str
    id: str
    built: bool
    seconds: float


def context_digest(context: Path) -> str:
    """sha256 over every file of a build context: relative path, exec bit and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        if FETCHED_DIR in path.relative_to(context).parts:
            continue  # generated from fetch.yaml, whose pins are hashed
        relative = path.relative_to(context).as_posix()
        executable = os.access(path, os.X_OK)
        digest.update(f"{relative}\0{int(executable)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for outside in _vendored_outside(context):
        digest.update(f"{os.path.relpath(outside, context.resolve())}\0".encode())
        digest.update(hashlib.sha256(outside.read_bytes()).digest())
    return digest.hexdigest()


def _vendored_outside(context: Path) -> list[Path]:
    """Cargo manifests and locks that fetch.yaml vendors from another image folder.

    A manifest inside the context is hashed with it already; one shared from a sibling folder
    (`../rust/std-vendor-1.85/Cargo.toml`) must be hashed here, or a changed pin would go unseen.
    """
    files = []
    for manifest in load_fetch_spec(context).cargo_vendor:
        folder = (context / manifest).resolve().parent
        if not folder.is_relative_to(context.resolve()):
            files += [f for f in (folder / "Cargo.toml", folder / "Cargo.lock") if f.is_file()]
    return files


def image_tag(
    *,
    name: str,
    release: str,
    context: Path,
    parent_id: str,
    build_args: dict[str, str],
    local_inputs: str = "",
) -> str:
    """`linkmatrix/<name>:<release>-<hash>`: the hash covers all that goes into the image."""
    digest = hashlib.sha256()
    for part in (
        HASH_VERSION,
        parent_id,
        context_digest(context),
        local_inputs,
        *(f"{k}={v}" for k, v in sorted(build_args.items())),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return f"linkmatrix/{name}:{release}-{digest.hexdigest()[:16]}"


class Images:
    """Makes sure each (image, release) exists, building parents first and only what changed."""

    def __init__(
        self,
        client: docker.DockerClient,
        matrix: Matrix,
        on_event: Callable[[str], None],
        downloads: Path,
    ) -> None:
        self.client = client
        self.matrix = matrix
        self.downloads = downloads
        self.on_event = on_event
        self._ready: dict[ImageKey, ReadyImage] = {}
        self._base_id: str | None = None

    def build_args(self, key: ImageKey, parent_id: str) -> dict[str, str]:
        """BASE (the parent) and the release's version; a release overlay also gets ROOT, the
        debootstrap base, whose stage Docker's cache then shares between toolchains."""
        args = {"BASE": parent_id, "RUSTC_WEB_VERSION": self.matrix.release(key.release).rustc_web}
        if self._overlay(key) is not None:
            args["ROOT"] = self._root_id()
        return args

    def _root_id(self) -> str:
        if self._base_id is None:
            self._base_id = self._local_id(self.matrix.base.tag) or self.base_id()
        return self._base_id

    def needs(self, keys: list[ImageKey]) -> ImageNeeds:
        """What a run of `keys` must build (parents included), and what lacks the user's SDK."""
        base_id = self._local_id(self.matrix.base.tag)
        needs = ImageNeeds(to_build=[] if base_id else [f"base ({self.matrix.base.tag})"])
        if base_id:
            needs.present[self.matrix.base.tag] = base_id
        known: dict[ImageKey, str | None] = {}
        for key in keys:
            for step in self._lineage(key):
                if step in known:
                    continue
                known[step] = self._known_id(step, base_id, known, needs)
        return needs

    def _known_id(
        self,
        step: ImageKey,
        base_id: str | None,
        known: dict[ImageKey, str | None],
        needs: ImageNeeds,
    ) -> str | None:
        parent = self._parent(step)
        if parent is not None and str(parent) in needs.sdk_missing:
            needs.sdk_missing.append(str(step))
            return None
        try:
            local_inputs_digest(self._context(step))
        except SdkMissing:
            needs.sdk_missing.append(str(step))
            return None
        parent_id = base_id if parent is None else known[parent]
        tag = self._tag(step, parent_id) if parent_id else None
        image_id = self._local_id(tag) if tag else None
        if image_id is None:
            needs.to_build.append(str(step))
        elif tag:
            needs.present[tag] = image_id
        return image_id

    def _overlay(self, key: ImageKey) -> Path | None:
        """The release overlay's folder, when `key`'s image is made by swapping rustc."""
        if key.release == self.matrix.default_release:
            return None
        return self.matrix.release(key.release).overlay

    def _parent(self, key: ImageKey) -> ImageKey | None:
        """The image `key` is built FROM (None: the base image).

        A release with an overlay builds on the default release's image of the same name, so
        every toolchain layer (wine, emscripten, SDK stubs) is made once for all releases.
        """
        if self._overlay(key) is not None:
            return ImageKey(image=key.image, release=self.matrix.default_release)
        parent = self.matrix.image(key.image).parent
        return None if parent == BASE_IMAGE else ImageKey(image=parent, release=key.release)

    def _context(self, key: ImageKey) -> Path:
        return self._overlay(key) or self.matrix.image(key.image).context

    def ensure(self, key: ImageKey) -> ReadyImage:
        """The image for `key`, built (with its parents) if its content hash is not present."""
        if key in self._ready:
            return self._ready[key]
        parent = self._parent(key)
        parent_id = self.base_id() if parent is None else self.ensure(parent).id
        tag = self._tag(key, parent_id)
        started = time.monotonic()
        existing = self._local_id(tag)
        if existing:
            ready = ReadyImage(key=key, tag=tag, id=existing, built=False, seconds=0.0)
        else:
            self.on_event(f"building image {key} as {tag}")
            image_id = self._build(key, tag, parent_id)
            ready = ReadyImage(
                key=key, tag=tag, id=image_id, built=True, seconds=time.monotonic() - started
            )
            self.on_event(f"built image {key} in {ready.seconds:.0f} s")
        self._ready[key] = ready
        return ready

    def base_id(self) -> str:
        """The base image's id: present, pulled (`base.pull`), or made by debootstrap."""
        base = self.matrix.base
        existing = self._local_id(base.tag)
        if existing:
            return existing
        if base.pull:
            self.on_event(f"pulling base image {base.pull}")
            return self._pull_base(base)
        self.on_event(f"making base image {base.tag} with debootstrap ({base.suite})")
        return make_base_image(self.client, base)

    def _lineage(self, key: ImageKey) -> list[ImageKey]:
        chain = [key]
        while (parent := self._parent(chain[0])) is not None:
            chain.insert(0, parent)
        return chain

    def _tag(self, key: ImageKey, parent_id: str) -> str:
        context = self._context(key)
        return image_tag(
            name=key.image,
            release=key.release,
            context=context,
            parent_id=parent_id,
            build_args=self.build_args(key, parent_id),
            local_inputs=local_inputs_digest(context),
        )

    @transient_retry
    def _local_id(self, tag: str) -> str | None:
        try:
            return str(self.client.images.get(tag).id)
        except ImageNotFound:
            return None

    def _pull_base(self, base: BaseImage) -> str:
        assert base.pull is not None
        try:
            image = self.client.images.pull(base.pull)
        except APIError as exc:
            raise ImageBuildError(
                f"Pulling base image {base.pull} failed: {exc.explanation}. Remove `base.pull` "
                "from matrix.yaml to make the base with debootstrap instead."
            ) from exc
        image.tag(base.tag)
        return str(image.id)

    def _build(self, key: ImageKey, tag: str, parent_id: str) -> str:
        source = self._context(key)
        labels = {f"{LABEL}.image": key.image, f"{LABEL}.release": key.release}
        lines: list[str] = []
        try:
            with tempfile.TemporaryDirectory(prefix="linkmatrix-context-") as temp:
                context = stage_context(source, Path(temp) / key.image, self.downloads)
                for chunk in self._build_stream(
                    context, tag, self.build_args(key, parent_id), labels
                ):
                    lines.extend(_chunk_lines(chunk))
        except (BuildError, APIError) as exc:
            lines.append(str(exc))
            raise self._build_failure(key, source, lines) from exc
        image_id = self._local_id(tag)
        if image_id is None:
            raise self._build_failure(key, source, lines)
        return image_id

    def _build_stream(
        self, context: Path, tag: str, build_args: dict[str, str], labels: dict[str, str]
    ) -> Iterator[dict[str, Any]]:
        stream = self.client.api.build(
            path=str(context),
            tag=tag,
            buildargs=build_args,
            labels=labels,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            network_mode=None,
        )
        for chunk in stream:
            if "error" in chunk:
                raise BuildError(chunk["error"], iter(()))
            yield chunk

    def _build_failure(self, key: ImageKey, context: Path, lines: list[str]) -> ImageBuildError:
        tail = "\n".join(lines[-BUILD_LOG_TAIL:])
        return ImageBuildError(
            f"Building image {key} from {context}/Dockerfile failed.\n"
            f"--- build log tail ---\n{tail}\n"
            "Fix the Dockerfile (or the package mirror it reaches) and run again; images that "
            "built are kept."
        )


def _chunk_lines(chunk: dict[str, Any]) -> list[str]:
    text = chunk.get("stream") or chunk.get("status") or ""
    return [line for line in str(text).splitlines() if line.strip()]


def make_base_image(client: docker.DockerClient, base: BaseImage) -> str:
    """debootstrap a minimal Debian root, give it bookworm-updates/-security, `docker import` it."""
    debootstrap = shutil.which("debootstrap") or _sbin("debootstrap")
    if debootstrap is None:
        raise ImageBuildError(
            "The base image is missing, no registry is configured, and debootstrap is not "
            "installed. Install it (`apt-get install debootstrap`), or set `base.pull: "
            "debian:bookworm` in matrix.yaml where a registry is reachable."
        )
    if os.geteuid() != 0:
        raise ImageBuildError(
            f"Making the base image {base.tag} with debootstrap needs root. Run once as root "
            "(e.g. `sudo nox -s matrix`), or set `base.pull: debian:bookworm` in matrix.yaml."
        )
    with tempfile.TemporaryDirectory(prefix="linkmatrix-base-") as temp:
        root = Path(temp) / "root"
        _debootstrap(debootstrap, base, root)
        _write_sources(base, root)
        return _import_root(client, base, root, Path(temp) / "root.tar")


def _sbin(name: str) -> str | None:
    candidate = Path("/usr/sbin") / name
    return str(candidate) if candidate.exists() else None


def _debootstrap(debootstrap: str, base: BaseImage, root: Path) -> None:
    command = [debootstrap, "--variant=minbase", base.suite, str(root), base.mirror]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-BUILD_LOG_TAIL:])
        raise ImageBuildError(
            f"`{' '.join(command)}` failed (exit {done.returncode}).\n{tail}\n"
            f"Check that {base.mirror} is reachable from this machine."
        )


def _write_sources(base: BaseImage, root: Path) -> None:
    """rustc-web 1.96 comes from bookworm-security: the base must see it."""
    sources = (
        f"deb {base.mirror} {base.suite} main\n"
        f"deb {base.mirror} {base.suite}-updates main\n"
        f"deb {base.security_mirror} {base.suite}-security main\n"
    )
    (root / "etc/apt/sources.list").write_text(sources, encoding="utf-8")
    apt_cache = root / "var/cache/apt/archives"
    for leftover in apt_cache.glob("*.deb"):
        leftover.unlink()


def _import_root(client: docker.DockerClient, base: BaseImage, root: Path, tarball: Path) -> str:
    subprocess.run(
        ["tar", "-C", str(root), "-cf", str(tarball), "--numeric-owner", "."], check=True
    )
    repository, _, tag = base.tag.rpartition(":")
    changes = ['CMD ["/bin/bash"]', "ENV LANG=C.UTF-8"]
    with tarball.open("rb") as data:
        client.api.import_image_from_data(
            data,
            repository=repository or base.tag,
            tag=tag if repository else None,
            changes=changes,
        )
    image_id = client.images.get(base.tag).id
    return str(image_id)


class ImagePrefetch:
    """Makes the plan's images one after another in a background thread, in plan order.

    A group's cells (std builds, CPU-bound) then run while the next image downloads its
    packages, so a cold run waits for the two only where it must. The thread is a daemon:
    Ctrl-C does not wait for an image build to end (the engine drops it with the connection).
    """

    def __init__(self, images: Images, keys: Sequence[ImageKey]) -> None:
        self._images = images
        self._futures: dict[ImageKey, Future[ReadyImage]] = {key: Future() for key in keys}
        self._thread = threading.Thread(
            target=self._make_all, args=(list(self._futures),), daemon=True, name="images"
        )
        self._thread.start()

    def _make_all(self, keys: list[ImageKey]) -> None:
        for key in keys:
            future = self._futures[key]
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._images.ensure(key))
            except Exception as exc:  # noqa: BLE001 - handed to the waiting group as is
                future.set_exception(exc)

    def get(self, key: ImageKey) -> ReadyImage:
        """The image of `key`, waiting for it (raises what making it raised)."""
        return self._futures[key].result()
