"""Cargo manifests as cargo reads them: the packages of a crate or workspace, each library's
declared crate types and its binaries. Bad input is one ConfigError naming the file.

Read by `linkmatrix check` (check/crate.py) and by the scenario loader, which compares an
artifact's `crate_types:` with what its package's manifest declares.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.errors import ConfigError

MANIFEST = "Cargo.toml"


@dataclass(frozen=True, kw_only=True)
class Package:
    """One package of the crate: its library's declared crate types and its binaries."""

    name: str
    lib_crate_types: tuple[str, ...]  # as Cargo.toml declares them; empty: no library
    bins: tuple[str, ...]


def read_packages(folder: Path, root: dict[str, Any]) -> tuple[Package, ...]:
    """The packages of the crate or workspace at `folder`, whose manifest `root` holds."""
    return tuple(_package(f, read_toml(f / MANIFEST)) for f in _package_folders(folder, root))


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: not a valid Cargo.toml ({exc}); fix it so cargo reads it."
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}).") from exc


def _package_folders(folder: Path, root: dict[str, Any]) -> list[Path]:
    """The root package (if any) and every workspace member, as cargo resolves `members`."""
    found = [folder] if "package" in root else []
    workspace = _table(root, "workspace", folder / MANIFEST)
    members = _texts(workspace, "members", folder / MANIFEST)
    excluded = {(folder / e).resolve() for e in _texts(workspace, "exclude", folder / MANIFEST)}
    for pattern in members:
        matches = (
            sorted(folder.glob(pattern)) if any(c in pattern for c in "*?[") else [folder / pattern]
        )
        for member in matches:
            if member.resolve() in excluded or member.resolve() == folder.resolve():
                continue
            if not (member / MANIFEST).is_file():
                raise ConfigError(
                    f"{folder / MANIFEST}: workspace member '{pattern}' has no "
                    f"{member / MANIFEST}; fix `workspace.members`."
                )
            found.append(member)
    return found


def _package(folder: Path, manifest: dict[str, Any]) -> Package:
    path = folder / MANIFEST
    package = _table(manifest, "package", path)
    name = package.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}: [package] has no `name`; cargo needs one.")
    return Package(
        name=name,
        lib_crate_types=_lib_crate_types(folder, manifest),
        bins=_bins(folder, name, manifest),
    )


def _lib_crate_types(folder: Path, manifest: dict[str, Any]) -> tuple[str, ...]:
    path = folder / MANIFEST
    lib = _table(manifest, "lib", path)
    autolib = _table(manifest, "package", path).get("autolib", True) is not False
    if not lib and not (autolib and (folder / "src" / "lib.rs").is_file()):
        return ()
    if lib.get("proc-macro") is True or lib.get("proc_macro") is True:
        return ("proc-macro",)
    declared = _texts(lib, "crate-type", path) or _texts(lib, "crate_type", path)
    return tuple(dict.fromkeys(declared)) or ("lib",)


def _bins(folder: Path, package: str, manifest: dict[str, Any]) -> tuple[str, ...]:
    """Explicit `[[bin]]` targets, then those cargo finds (src/main.rs, src/bin/...)."""
    path = folder / MANIFEST
    explicit = manifest.get("bin", [])
    if not isinstance(explicit, list) or not all(
        isinstance(b, dict) and isinstance(b.get("name"), str) for b in explicit
    ):
        raise ConfigError(f"{path}: every [[bin]] needs a `name` string.")
    names = [b["name"] for b in explicit]
    if _table(manifest, "package", path).get("autobins", True) is not False:
        names += _found_bins(folder, package)
    return tuple(dict.fromkeys(names))


def _found_bins(folder: Path, package: str) -> list[str]:
    src = folder / "src"
    found = [package] if (src / "main.rs").is_file() else []
    bin_dir = src / "bin"
    if bin_dir.is_dir():
        for entry in sorted(bin_dir.iterdir()):
            if entry.suffix == ".rs" and entry.is_file():
                found.append(entry.stem)
            elif (entry / "main.rs").is_file():
                found.append(entry.name)
    return found


def _table(document: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: `{key}` must be a table.")
    return value


def _texts(table: dict[str, Any], key: str, path: Path) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: `{key}` must be a list of strings.")
    return value
