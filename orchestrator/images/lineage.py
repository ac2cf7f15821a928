"""Which image each (image, release) is built FROM, from which folder, and a digest of it all.

Pure: read from the matrix and the image folders only. `Images` builds along this lineage; the
recipe digest names everything that decides the images' content before any of them exists, so
a CI cache of built images can be keyed by it (image ids, which tags also hash, are only known
once a parent is built or loaded).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from orchestrator.config.matrix import BASE_IMAGE, Matrix
from orchestrator.images.fetch import load_fetch_spec
from orchestrator.images.tags import HASH_VERSION, context_digest
from orchestrator.plan import ImageKey


def overlay_of(matrix: Matrix, key: ImageKey) -> Path | None:
    """The release overlay's folder, when `key`'s image is made by swapping rustc."""
    if key.release == matrix.default_release:
        return None
    return matrix.release(key.release).overlay


def parent_of(matrix: Matrix, key: ImageKey) -> ImageKey | None:
    """The image `key` is built FROM (None: the base image).

    A release with an overlay builds on the default release's image of the same name, so every
    toolchain layer (wine, emscripten, SDK stubs) is made once for all releases.
    """
    if overlay_of(matrix, key) is not None:
        return ImageKey(image=key.image, release=matrix.default_release)
    parent = matrix.image(key.image).parent
    return None if parent == BASE_IMAGE else ImageKey(image=parent, release=key.release)


def context_of(matrix: Matrix, key: ImageKey) -> Path:
    """The build context (folder with the Dockerfile) of `key`."""
    return overlay_of(matrix, key) or matrix.image(key.image).context


def lineage(matrix: Matrix, key: ImageKey) -> list[ImageKey]:
    """`key` and its parents, the one nearest the base first."""
    chain = [key]
    while (parent := parent_of(matrix, chain[0])) is not None:
        chain.insert(0, parent)
    return chain


def recipe_digest(matrix: Matrix, keys: Iterable[ImageKey]) -> str:
    """A digest of everything that makes the images of `keys` (parents included).

    The base image's description, and per image: its name, release, rustc-web version, build
    context and fetch.yaml pins. Equal digests mean the same Dockerfiles on the same inputs;
    what a Debian mirror serves on the day is the one input it cannot see.
    """
    base = matrix.base
    digest = hashlib.sha256()
    for part in (HASH_VERSION, base.tag, base.suite, base.mirror, base.pull or ""):
        digest.update(part.encode() + b"\0")
    steps = dict.fromkeys(step for key in keys for step in lineage(matrix, key))
    for step in sorted(steps, key=str):
        context = context_of(matrix, step)
        fetch = load_fetch_spec(context)
        for part in (
            str(step),
            matrix.release(step.release).rustc_web,
            context_digest(context),
            *fetch.pypi,
            *fetch.cargo_vendor,
        ):
            digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:20]
