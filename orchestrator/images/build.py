"""Toolchain images: each built once (every release inside), parents first, only what changed."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.errors import APIError, BuildError, ImageNotFound

from orchestrator.config.matrix import BaseImage, Matrix
from orchestrator.engine.client import transient_retry
from orchestrator.engine.protocol import EngineClient
from orchestrator.errors import ImageBuildError
from orchestrator.images.base import BUILD_LOG_TAIL, make_base_image
from orchestrator.images.fetch import (
    SdkMissing,
    local_inputs_digest,
    stage_context,
)
from orchestrator.images.lineage import context_of, lineage, parent_of, release_build_args
from orchestrator.images.tags import image_tag

LABEL = "org.linkmatrix"


@dataclass(kw_only=True)
class ImageNeeds:
    """The plan's images: those a run will build, and those it cannot (the user's SDK is absent)."""

    to_build: list[str] = field(default_factory=list)
    sdk_missing: list[str] = field(default_factory=list)
    present: dict[str, str] = field(default_factory=dict)  # tag → id of those already built
    ids: dict[str, str] = field(default_factory=dict)  # image name → id of those already built


@dataclass(frozen=True, kw_only=True)
class ReadyImage:
    """An image present in the engine: its tag, id, and whether this run built it."""

    image: str
    tag: str
    id: str
    built: bool
    seconds: float


def build_labels(matrix: Matrix, image: str) -> dict[str, str]:
    """The labels the build adds: the releases, on the image that installs them (images/rust).

    The images above inherit them (an image carries its parent's labels); each label the build
    adds is one more builder step, and a step on these gigabyte layer stacks costs ~13 s on
    this machine's fuse-overlayfs: two per toolchain image were ~4 minutes of a cold run. The
    image's name is its tag's (`linkmatrix/<name>:<hash>`).
    """
    if parent_of(matrix, image) is not None:
        return {}
    return {f"{LABEL}.releases": " ".join(release.name for release in matrix.releases)}


class Images:
    """Makes sure each image exists, building parents first and only what changed."""

    def __init__(
        self,
        client: EngineClient,
        matrix: Matrix,
        on_event: Callable[[str], None],
        downloads: Path,
    ) -> None:
        self.client = client
        self.matrix = matrix
        self.downloads = downloads
        self.on_event = on_event
        self._ready: dict[str, ReadyImage] = {}
        self.base_seconds = 0.0  # making the base image, when this object made it

    def build_args(self, image: str, parent_id: str) -> dict[str, str]:
        """BASE (the parent); for the image built FROM the base, the releases it installs."""
        return {"BASE": parent_id, **release_build_args(self.matrix, image)}

    def needs(self, images: list[str]) -> ImageNeeds:
        """What a run of `keys` must build (parents included), and what lacks the user's SDK."""
        base_id = self._local_id(self.matrix.base.tag)
        needs = ImageNeeds(to_build=[] if base_id else [f"base ({self.matrix.base.tag})"])
        if base_id:
            needs.present[self.matrix.base.tag] = base_id
        known: dict[str, str | None] = {}
        for image in images:
            for step in lineage(self.matrix, image):
                if step in known:
                    continue
                known[step] = self._known_id(step, base_id, known, needs)
        return needs

    def _known_id(
        self,
        step: str,
        base_id: str | None,
        known: dict[str, str | None],
        needs: ImageNeeds,
    ) -> str | None:
        parent = parent_of(self.matrix, step)
        if parent is not None and str(parent) in needs.sdk_missing:
            needs.sdk_missing.append(step)
            return None
        try:
            local_inputs_digest(context_of(self.matrix, step))
        except SdkMissing:
            needs.sdk_missing.append(step)
            return None
        parent_id = base_id if parent is None else known[parent]
        tag = self._tag(step, parent_id) if parent_id else None
        image_id = self._local_id(tag) if tag else None
        if image_id is None:
            needs.to_build.append(step)
        elif tag:
            needs.present[tag] = image_id
            needs.ids[step] = image_id
        return image_id

    def ensure(self, image: str) -> ReadyImage:
        """`image`, built (with its parents) if its content hash is not present."""
        if image in self._ready:
            return self._ready[image]
        parent = parent_of(self.matrix, image)
        parent_id = self.base_id() if parent is None else self.ensure(parent).id
        tag = self._tag(image, parent_id)
        started = time.monotonic()
        existing = self._local_id(tag)
        if existing:
            ready = ReadyImage(image=image, tag=tag, id=existing, built=False, seconds=0.0)
        else:
            self.on_event(f"building image {image} as {tag}")
            image_id = self._build(image, tag, parent_id)
            ready = ReadyImage(
                image=image, tag=tag, id=image_id, built=True, seconds=time.monotonic() - started
            )
            self.on_event(f"built image {image} in {ready.seconds:.0f} s")
        self._ready[image] = ready
        return ready

    def built(self) -> list[ReadyImage]:
        """Every image this object built, parents (the rust image) included; the base is
        counted in `base_seconds`.
        """
        return [ready for ready in list(self._ready.values()) if ready.built]

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
        started = time.monotonic()
        made = make_base_image(self.client, base)
        self.base_seconds = time.monotonic() - started
        return made

    def _tag(self, image: str, parent_id: str) -> str:
        context = context_of(self.matrix, image)
        return image_tag(
            name=image,
            context=context,
            parent_id=parent_id,
            build_args=self.build_args(image, parent_id),
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

    def _build(self, image: str, tag: str, parent_id: str) -> str:
        source = context_of(self.matrix, image)
        labels = build_labels(self.matrix, image)
        lines: list[str] = []
        try:
            with tempfile.TemporaryDirectory(prefix="linkmatrix-context-") as temp:
                context = stage_context(source, Path(temp) / image, self.downloads)
                for chunk in self._build_stream(
                    context, tag, self.build_args(image, parent_id), labels
                ):
                    lines.extend(_chunk_lines(chunk))
        except (BuildError, APIError) as exc:
            lines.append(str(exc))
            raise self._build_failure(image, source, lines) from exc
        image_id = self._local_id(tag)
        if image_id is None:
            raise self._build_failure(image, source, lines)
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

    def _build_failure(self, image: str, context: Path, lines: list[str]) -> ImageBuildError:
        tail = "\n".join(lines[-BUILD_LOG_TAIL:])
        return ImageBuildError(
            f"Building image {image} from {context}/Dockerfile failed.\n"
            f"--- build log tail ---\n{tail}\n"
            "Fix the Dockerfile (or the package mirror it reaches) and run again; images that "
            "built are kept."
        )


def _chunk_lines(chunk: dict[str, Any]) -> list[str]:
    text = chunk.get("stream") or chunk.get("status") or ""
    return [line for line in str(text).splitlines() if line.strip()]
