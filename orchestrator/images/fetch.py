"""Downloads an image needs from PyPI or crates.io, made on the host and passed in the context.

Image builds reach only Debian's mirror (HTTPS registries are not reachable from containers
here), so `images/<name>/fetch.yaml` declares pinned PyPI wheels and Cargo manifests to vendor;
they are fetched on the host, cached, and copied into the build context under `fetched/`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config.reader import Node
from orchestrator.config.source import load_yaml
from orchestrator.errors import ImageBuildError

FETCH_FILE = "fetch.yaml"
FETCHED_DIR = "fetched"
# Python's bytecode of an image's script (images/wasm/wasm-invoke.py): pip writes it when it
# installs linkmatrix with its default images (orchestrator/_bundled/), and it is derived from
# the script, so neither an image's tag nor its build context holds it.
BYTECODE_DIR = "__pycache__"


@dataclass(frozen=True, kw_only=True)
class LocalInput:
    """Something only the user can supply (a vendor SDK): never downloaded, never redistributed.

    Taken from the file or directory that the environment variable `env` names, else from
    `images/<name>/fetched/<into>/` if the user put it there; it lands in the build context at
    `fetched/<into>/`.
    """

    into: str
    env: str
    what: str

    def source(self, context: Path) -> Path | None:
        named = os.environ.get(self.env)
        if named:
            return Path(named) if Path(named).exists() else None
        placed = context / FETCHED_DIR / self.into
        return placed if placed.is_dir() and any(placed.iterdir()) else None


@dataclass(frozen=True, kw_only=True)
class FetchSpec:
    """What one image needs from outside: pinned wheels, Cargo manifests to vendor, user inputs."""

    pypi: tuple[str, ...] = ()
    cargo_vendor: tuple[str, ...] = ()
    local: tuple[LocalInput, ...] = ()


class SdkMissing(ImageBuildError):
    """An image needs a vendor SDK that only the user can supply, and none was given."""


def local_inputs_digest(context: Path) -> str:
    """A digest of the user-supplied inputs (names, sizes, times); SdkMissing if one is absent."""
    digest = hashlib.sha256()
    for local in load_fetch_spec(context).local:
        source = local.source(context)
        if source is None:
            raise SdkMissing(
                f"{context.name} needs {local.what}. linkmatrix never downloads it: set {local.env}"
                f" to it, or put it in {context / FETCHED_DIR / local.into}/ (see "
                f"{context / 'README.md'})."
            )
        files = sorted(source.rglob("*")) if source.is_dir() else [source]
        for path in files:
            if path.is_file():
                stat = path.stat()
                digest.update(
                    f"{path.relative_to(source.parent)}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
                )
    return digest.hexdigest()


def load_fetch_spec(context: Path) -> FetchSpec:
    path = context / FETCH_FILE
    if not path.is_file():
        return FetchSpec()
    keys = Node.root(load_yaml(path)).mapping(("pypi", "cargo_vendor", "local"))
    pypi = keys.get("pypi")
    vendor = keys.get("cargo_vendor")
    local = keys.get("local")
    for node in pypi.items() if pypi else ():
        if "==" not in node.text():
            raise node.fail("pin every wheel with == so the image hash stays true.")
    return FetchSpec(
        pypi=pypi.texts() if pypi else (),
        cargo_vendor=vendor.texts() if vendor else (),
        local=tuple(_local(into, node) for into, node in local.free_mapping().items())
        if local
        else (),
    )


def _local(into: str, node: Node) -> LocalInput:
    keys = node.mapping(("env", "what"))
    return LocalInput(into=into, env=keys["env"].text(), what=keys["what"].text())


def stage_context(context: Path, staging: Path, downloads: Path) -> Path:
    """A copy of `context` with its declared downloads under `fetched/`; returns the copy."""
    shutil.copytree(context, staging, ignore=shutil.ignore_patterns(FETCHED_DIR, BYTECODE_DIR))
    spec = load_fetch_spec(context)
    for requirement in spec.pypi:
        wheel_dir = _pypi_download(requirement, downloads / "pypi")
        target = staging / FETCHED_DIR / "pypi"
        target.mkdir(parents=True, exist_ok=True)
        for wheel in wheel_dir.iterdir():
            shutil.copy2(wheel, target / wheel.name)
    for local in spec.local:
        source = local.source(context)
        if source is None:
            raise SdkMissing(f"{context.name}: {local.what} is missing (set {local.env}).")
        target = staging / FETCHED_DIR / local.into
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / source.name)
    for manifest in spec.cargo_vendor:
        vendored = _cargo_vendor(context / manifest, downloads / "vendor")
        shutil.copytree(
            vendored,
            staging / FETCHED_DIR / "vendor" / Path(manifest).parent.name,
            dirs_exist_ok=True,
        )
    return staging


def _pypi_download(requirement: str, root: Path) -> Path:
    folder = root / requirement.replace("==", "-")
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(folder),
            requirement,
        ],
        what=f"downloading {requirement} from PyPI",
    )
    return folder


def _cargo_vendor(manifest: Path, root: Path) -> Path:
    lock = manifest.parent / "Cargo.lock"
    if not lock.is_file():
        raise ImageBuildError(f"{manifest}: vendoring needs a committed Cargo.lock beside it.")
    folder = root / hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    if folder.is_dir():
        return folder
    partial = folder.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _run(
        ["cargo", "vendor", "--locked", "--manifest-path", str(manifest), str(partial)],
        what=f"vendoring the crates of {manifest}",
    )
    partial.rename(folder)
    return folder


def _run(command: list[str], *, what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ImageBuildError(
            f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}\n"
            "This step runs on the host and needs PyPI / crates.io; run again when they answer."
        )
