"""How a cell container selects its rustc release inside a toolchain image. Pure.

images/rust/Dockerfile installs the default release in /usr (apt, as a Debian user has it) and
unpacks every other release into /opt/rust/<release>/usr with its own CARGO_HOME and
rust.json. The container of a group gets the environment below: the release's rustc and cargo
first on PATH, its cargo configuration, and where its `rustc -V` facts are.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.config.matrix import Matrix

RELEASES_ROOT = "/opt/rust"
DEFAULT_RUST_INFO = "/etc/linkmatrix/rust.json"
# Docker's PATH for an image that sets none (the debootstrap base sets none, nor does any
# image folder): the release's bin goes in front of it.
ENGINE_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def release_environment(matrix: Matrix, release: str) -> Mapping[str, str]:
    """The container environment that makes `release` the rustc and cargo of its cells."""
    if release == matrix.default_release:
        return {}
    return {
        "PATH": f"{RELEASES_ROOT}/{release}/usr/bin:{ENGINE_DEFAULT_PATH}",
        "CARGO_HOME": f"/opt/cargo/{release}",
    }


def rust_info_path(matrix: Matrix, release: str) -> str:
    """The JSON file with the release's `rustc -V`, `cargo -V` and LLVM version."""
    if release == matrix.default_release:
        return DEFAULT_RUST_INFO
    return f"{RELEASES_ROOT}/{release}/rust.json"
