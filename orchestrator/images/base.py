"""The Debian base image without a registry: debootstrap a root, `docker import` it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from orchestrator.config.matrix import BaseImage
from orchestrator.engine.protocol import EngineClient
from orchestrator.errors import ImageBuildError

BUILD_LOG_TAIL = 40


def make_base_image(client: EngineClient, base: BaseImage) -> str:
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


def _import_root(client: EngineClient, base: BaseImage, root: Path, tarball: Path) -> str:
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
