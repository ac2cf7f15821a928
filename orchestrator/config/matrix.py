"""matrix.yaml as frozen dataclasses, built by one validating loader."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.config.reader import Node
from orchestrator.config.scenario import Coordinates, Scenario, load_scenario
from orchestrator.config.source import load_yaml
from orchestrator.errors import ConfigError

SCHEMA_VERSION = 1
BASE_IMAGE = "base"
TOP_KEYS = (
    "schema_version",
    "base",
    "releases",
    "default_release",
    "limits",
    "images",
    "toolchains",
    "scenarios",
)


@dataclass(frozen=True, kw_only=True)
class BaseImage:
    """The Debian root every image starts from."""

    tag: str
    suite: str
    mirror: str
    security_mirror: str
    pull: str | None


@dataclass(frozen=True, kw_only=True)
class Release:
    """One rustc release, as Debian's rustc-web packages carry it.

    `build_dir`: whether its cargo has `build.build-dir` (`CARGO_BUILD_BUILD_DIR`; cargo 1.85 has
    not). Without it the shared std cache must be the whole `CARGO_TARGET_DIR`.
    Every toolchain image holds every release (images/rust/Dockerfile); a cell selects its own.
    """

    name: str
    rustc_web: str
    build_dir: bool = True


DEFAULT_CPUS = 1.5
# Past these a value is a typo, and the engine or a timer would overflow on it.
MAX_PIDS = 4_194_304  # Linux's largest pid_max
MAX_TIMEOUT_S = 7 * 24 * 3600.0  # a week
MAX_CPUS = 1024.0
MIN_CPUS = 0.01  # Docker refuses less
MIN_MEMORY = 6 * 1024 * 1024  # Docker refuses less than 6 MiB
MAX_MEMORY = 2**63 - 1  # bytes, the engine's int64
# Docker's memory sizes: a number of bytes, or with a unit (4g, 512m, 1.5g, 4gb)
MEMORY_SIZE = re.compile(r"(?i)(\d+(?:\.\d+)?)\s*([kmg]?)b?")
MEMORY_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
ALL_SCENARIOS = "`scenarios: all`"
NEW_HINT = " (`linkmatrix new NAME` writes a scenario to start from)"


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What one cell may use inside its container."""

    memory: str
    pids: int
    cell_timeout_s: float
    idle_timeout_s: float
    # CPUs one container may use (fractions allowed): the default leaves the host responsive on
    # a 2-core machine while a cell builds std.
    cpus: float = DEFAULT_CPUS


@dataclass(frozen=True, kw_only=True)
class ImageSpec:
    """A Dockerfile folder under images/ and the image it builds FROM."""

    name: str
    context: Path
    parent: str


@dataclass(frozen=True, kw_only=True)
class Route:
    """How a toolchain links, stated for the report: never mistake a stand-in for the real thing."""

    linker: str
    libraries: str
    stand_in: bool


@dataclass(frozen=True, kw_only=True)
class Runner:
    """How an artifact of this target runs in its container: argv with `{file}` in it.

    `version`: the argv that prints the runner program's version (probed like the linker's);
    None where the file runs itself, or no probe is given.
    """

    command: tuple[str, ...]
    file_glob: str | None
    version: tuple[str, ...] | None = None

    def argv(self, file: str, args: tuple[str, ...]) -> tuple[str, ...]:
        return (*(part.replace("{file}", file) for part in self.command), *args)


@dataclass(frozen=True, kw_only=True)
class ReleaseOverride:
    """What one rustc release of a target does differently (matrix.yaml `by_release:`): each
    key given replaces the target's own. For a default that changed between releases, such as
    the linker rustup's x86_64 Linux rustc uses (GNU ld up to 1.89, rust-lld from 1.90).
    """

    rustflags: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] | None = None
    linker_version: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class TargetSpec:
    """One rustc target of a toolchain and the fixed flags its std is built with.

    `build_std`: the crates of the target's std (none: the rustc release ships it), built once
    per (image, this spec's std configuration) into a sysroot. `by_release`: what a release
    does differently; a cell's spec is `for_release(its release)`, which has none left.
    """

    triple: str
    build_std: tuple[str, ...]
    build_std_features: tuple[str, ...]
    rustflags: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    panic: str | None
    linker_version: tuple[str, ...]
    runner: Runner | None
    by_release: tuple[tuple[str, ReleaseOverride], ...] = ()

    def for_release(self, release: str) -> TargetSpec:
        """This target as a cell of `release` builds it: its override applied, if any."""
        override = dict(self.by_release).get(release)
        if override is None:
            return replace(self, by_release=())
        return replace(
            self,
            rustflags=self.rustflags if override.rustflags is None else override.rustflags,
            env=self.env if override.env is None else override.env,
            linker_version=self.linker_version
            if override.linker_version is None
            else override.linker_version,
            by_release=(),
        )

    @property
    def needs_bootstrap(self) -> bool:
        """A -Z flag among the target's rustflags needs RUSTC_BOOTSTRAP=1 for every crate.

        `build_std` does not: std is built once, apart (cell/stdlib.py), and the scenario's
        crates then build on it as on a rustup sysroot, with a plain stable rustc.
        """
        return any(flag.startswith("-Z") for flag in self.rustflags)


@dataclass(frozen=True, kw_only=True)
class Toolchain:
    """A container image and the targets built in it."""

    name: str
    image: str
    description: str
    route: Route
    targets: tuple[TargetSpec, ...]
    releases: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Matrix:
    """Everything matrix.yaml declares, with its scenarios loaded."""

    path: Path
    root: Path
    base: BaseImage
    releases: tuple[Release, ...]
    default_release: str
    limits: Limits
    images: tuple[ImageSpec, ...]
    toolchains: tuple[Toolchain, ...]
    scenarios: tuple[Scenario, ...]

    def image(self, name: str) -> ImageSpec:
        return next(spec for spec in self.images if spec.name == name)

    def release(self, name: str) -> Release:
        return next(release for release in self.releases if release.name == name)

    def scenario(self, name: str) -> Scenario:
        return next(scenario for scenario in self.scenarios if scenario.name == name)

    @property
    def coordinates(self) -> Coordinates:
        """Every cell's (toolchain, target, release): what scenarios' globs are checked against."""
        return _coordinates(self.toolchains)


@dataclass(frozen=True, kw_only=True)
class ScenarioSources:
    """Where a run's scenarios come from.

    `builtin`: the matrix's own (its `scenarios:` key, from `scenarios/` beside the file);
    `extra`: folders given on the command line (`--scenarios DIR`), each one scenario folder (it
    holds a scenario.yaml) or a folder of them. A scenario's name is its folder's name.
    """

    builtin: bool = True
    extra: tuple[Path, ...] = ()


def load_matrix(path: Path, sources: ScenarioSources = ScenarioSources()) -> Matrix:
    """Read and validate matrix.yaml and every scenario it names or `sources` adds."""
    doc = load_yaml(path)
    top = Node.root(doc).mapping(TOP_KEYS)
    version = top["schema_version"]
    if version.value != SCHEMA_VERSION:
        raise version.fail(f"this linkmatrix reads schema_version {SCHEMA_VERSION}.")
    root = path.parent
    releases = _releases(top["releases"])
    default_release = top["default_release"].choice([r.name for r in releases])
    images = _images(top["images"], root)
    toolchains = tuple(
        _toolchain(name, node, images, releases)
        for name, node in top["toolchains"].free_mapping().items()
    )
    return Matrix(
        path=path,
        root=root,
        base=_base(top["base"]),
        releases=releases,
        default_release=default_release,
        limits=_limits(top["limits"]),
        images=images,
        toolchains=toolchains,
        scenarios=_scenarios(top["scenarios"], root, _coordinates(toolchains), sources),
    )


def _base(node: Node) -> BaseImage:
    keys = node.mapping(("tag", "suite", "mirror", "security_mirror", "pull"))
    pull = keys.get("pull")
    return BaseImage(
        tag=keys["tag"].text(),
        suite=keys["suite"].text(),
        mirror=keys["mirror"].text(),
        security_mirror=keys["security_mirror"].text(),
        pull=pull.text() if pull else None,
    )


def _releases(node: Node) -> tuple[Release, ...]:
    releases = []
    for name, release_node in node.free_mapping().items():
        keys = release_node.mapping(("rustc_web", "build_dir"))
        build_dir = keys.get("build_dir")
        releases.append(
            Release(
                name=name,
                rustc_web=keys["rustc_web"].text(),
                build_dir=build_dir.boolean() if build_dir else True,
            )
        )
    if not releases:
        raise node.fail("name at least one rustc release.")
    return tuple(releases)


def _limits(node: Node) -> Limits:
    keys = node.mapping(("memory", "pids", "cell_timeout_s", "idle_timeout_s", "cpus"))
    return Limits(
        memory=_memory(keys["memory"]),
        pids=keys["pids"].whole(at_most=MAX_PIDS),
        cell_timeout_s=keys["cell_timeout_s"].number(at_most=MAX_TIMEOUT_S, unit=" of seconds"),
        idle_timeout_s=keys["idle_timeout_s"].number(at_most=MAX_TIMEOUT_S, unit=" of seconds"),
        cpus=cpus.number(at_least=MIN_CPUS, at_most=MAX_CPUS)
        if (cpus := keys.get("cpus"))
        else DEFAULT_CPUS,
    )


def _memory(node: Node) -> str:
    """A Docker memory size of at least 6 MiB, kept as written (the engine parses it)."""
    text = node.text()
    size = MEMORY_SIZE.fullmatch(text)
    if size is None:
        raise node.fail(f"expected a memory size such as 4g or 512m, got '{text}'.")
    number = float(size[1]) * MEMORY_UNITS[size[2].lower()]
    if number < MIN_MEMORY:
        raise node.fail(f"'{text}' is less than Docker's smallest memory limit, 6m.")
    if number > MAX_MEMORY:
        raise node.fail(f"'{text}' is more memory than the engine can take (2**63 bytes).")
    return text


def _images(node: Node, root: Path) -> tuple[ImageSpec, ...]:
    specs: list[ImageSpec] = []
    for name, image_node in node.free_mapping().items():
        keys = image_node.mapping(("parent",))
        parent = keys["parent"].choice([BASE_IMAGE, *(spec.name for spec in specs)])
        context = root / "images" / name
        if not (context / "Dockerfile").is_file():
            raise image_node.fail(f"there is no {context / 'Dockerfile'}.")
        specs.append(ImageSpec(name=name, context=context, parent=parent))
    return tuple(specs)


def _toolchain(
    name: str, node: Node, images: tuple[ImageSpec, ...], releases: tuple[Release, ...]
) -> Toolchain:
    keys = node.mapping(("image", "description", "route", "targets", "releases"))
    release_names = [release.name for release in releases]
    chosen = keys.get("releases")
    chosen_releases = (
        tuple(r.choice(release_names) for r in chosen.items()) if chosen else tuple(release_names)
    )
    return Toolchain(
        name=name,
        image=keys["image"].choice([spec.name for spec in images]),
        description=keys["description"].text(),
        route=_route(keys["route"]),
        targets=tuple(
            _target(t, n, chosen_releases) for t, n in keys["targets"].free_mapping().items()
        ),
        releases=chosen_releases,
    )


def _route(node: Node) -> Route:
    keys = node.mapping(("linker", "libraries", "stand_in"))
    return Route(
        linker=keys["linker"].text(),
        libraries=keys["libraries"].text(),
        stand_in=keys["stand_in"].boolean(),
    )


TARGET_KEYS = (
    "build_std",
    "build_std_features",
    "rustflags",
    "env",
    "panic",
    "linker_version",
    "runner",
    "by_release",
)


def _target(triple: str, node: Node, releases: tuple[str, ...]) -> TargetSpec:
    keys = node.mapping(TARGET_KEYS)
    texts = {
        key: keys[key].texts() if keys.get(key) else ()
        for key in ("build_std", "build_std_features", "rustflags")
    }
    panic = keys.get("panic")
    env = keys.get("env")
    return TargetSpec(
        triple=triple,
        build_std=texts["build_std"],
        build_std_features=texts["build_std_features"],
        rustflags=texts["rustflags"],
        env=env.string_map() if env else (),
        panic=panic.choice(("abort", "unwind")) if panic else None,
        linker_version=keys["linker_version"].texts(),
        runner=_runner(runner) if (runner := keys.get("runner")) else None,
        by_release=_by_release(by, releases) if (by := keys.get("by_release")) else (),
    )


def _by_release(node: Node, releases: tuple[str, ...]) -> tuple[tuple[str, ReleaseOverride], ...]:
    """`by_release: {"1.96": {rustflags: [...]}}`: per release of the toolchain, what differs."""
    overrides = []
    for release, override in node.free_mapping().items():
        if release not in releases:
            raise override.fail(
                f"release {release!r} is not one of this toolchain's releases "
                f"({', '.join(releases)}); list it under the toolchain's `releases:` first."
            )
        keys = override.mapping(("rustflags", "env", "linker_version"))
        if not override.value:
            raise override.fail(
                "say what this release does differently: rustflags, env or linker_version."
            )
        rustflags, env, linker = (keys.get(k) for k in ("rustflags", "env", "linker_version"))
        overrides.append(
            (
                release,
                ReleaseOverride(
                    rustflags=rustflags.texts() if rustflags else None,
                    env=env.string_map() if env else None,
                    linker_version=linker.texts() if linker else None,
                ),
            )
        )
    return tuple(overrides)


RUNNER_KEYS = ("command", "file", "version")


def _runner(node: Node) -> Runner:
    keys = node.mapping(RUNNER_KEYS)
    command = keys["command"].texts()
    if not any("{file}" in part for part in command):
        raise keys["command"].fail("the runner command must contain {file}.")
    file_glob = keys.get("file")
    return Runner(
        command=command,
        file_glob=file_glob.text() if file_glob else None,
        version=_runner_version(version) if (version := keys.get("version")) else None,
    )


def _runner_version(node: Node) -> tuple[str, ...]:
    argv = node.texts()
    if not argv:  # an empty argv would be an exec of nothing in every cell of the target
        raise node.fail("give the command that prints the runner's version, or leave it out.")
    return argv


def _coordinates(toolchains: tuple[Toolchain, ...]) -> Coordinates:
    return Coordinates(
        cells=tuple(
            (toolchain.name, target.triple, release)
            for toolchain in toolchains
            for target in toolchain.targets
            for release in toolchain.releases
        ),
        std_panics=tuple(
            (toolchain.name, target.triple, target.panic)
            for toolchain in toolchains
            for target in toolchain.targets
            if target.panic is not None
        ),
    )


def _scenarios(
    node: Node, root: Path, coordinates: Coordinates, sources: ScenarioSources
) -> tuple[Scenario, ...]:
    """The matrix's own scenarios (unless left out), then those given on the command line."""
    builtin = _builtin_folders(node, root) if sources.builtin else ()
    folders = builtin
    for given in sources.extra:
        folders += _given_folders(given)
    if not folders:
        raise node.fail(f"no scenarios: {root / 'scenarios'} holds no */scenario.yaml.")
    unique = _unique(folders, builtin)
    return tuple(load_scenario(folder, coordinates) for folder in unique)


def _builtin_folders(node: Node, root: Path) -> tuple[Path, ...]:
    """`scenarios:` of matrix.yaml (`all` or a list of names): folders of scenarios/ beside it."""
    folder = root / "scenarios"
    found = _scenario_folders(node, folder) if folder.is_dir() else {}
    valid = [name for name, problem in found.items() if problem is None]
    if node.value == "all":
        # a folder that is almost a scenario must not drop out of `all` unseen
        for problem in found.values():
            if problem is not None:
                raise node.fail(problem)
        names: tuple[str, ...] = tuple(valid)
    else:
        names = tuple(_listed_scenario(item, found, valid) for item in node.items())
        for name in {n for n in names if names.count(n) > 1}:
            raise node.fail(f"'{name}' is listed twice.")
    return tuple(folder / name for name in names)


def _listed_scenario(item: Node, found: dict[str, str | None], valid: list[str]) -> str:
    problem = found.get(item.text())
    if problem is not None:
        raise item.fail(problem)
    return item.choice(valid)


def _scenario_folders(node: Node, folder: Path) -> dict[str, str | None]:
    """Each entry of scenarios/ that should be a scenario, and what is wrong with it (or None)."""
    try:
        return _candidates(folder, ALL_SCENARIOS)
    except OSError as exc:
        raise node.fail(f"cannot list {folder} ({exc.strerror}).") from exc


def _candidates(folder: Path, keep_out_of: str) -> dict[str, str | None]:
    """Each entry of `folder` that should be a scenario, and what is wrong with it (or None).

    Regular files (a README) and names starting with '.' or '_' are not scenarios; every other
    entry must be a folder holding a scenario.yaml.
    """
    return {
        entry.name: _scenario_problem(
            entry, f"rename {entry.name} to _{entry.name} to keep it out of {keep_out_of}"
        )
        for entry in sorted(folder.iterdir())
        if not entry.name.startswith((".", "_")) and not entry.is_file()
    }


def _scenario_problem(entry: Path, keep_out: str) -> str | None:
    """What keeps `entry` from being a scenario folder, ending in `keep_out` (what else to do)."""
    try:
        if not entry.is_dir():
            kind = "a symbolic link to nothing" if entry.is_symlink() else "not a folder"
            return f"{entry} is {kind}, so it is not a scenario; remove it, or {keep_out}."
        file = entry / "scenario.yaml"
        if file.is_file():
            return None
        if file.is_symlink() and not file.exists():
            return f"{file} is a symbolic link to nothing; fix the link, or {keep_out}."
        if file.exists():
            return f"{file} is not a regular file; make it one, or {keep_out}."
        near = sorted(p.name for p in entry.iterdir() if p.name.lower().startswith("scenario."))
    except OSError as exc:
        return f"{entry}: cannot read it ({exc.strerror}); fix its permissions, or {keep_out}."
    hint = f" (there is {near[0]}: rename it to scenario.yaml)" if near else ""
    return f"{entry} holds no scenario.yaml{hint}, so it is not a scenario; add one, or {keep_out}."


def _given_folders(given: Path) -> tuple[Path, ...]:
    """`--scenarios DIR`: DIR itself if it holds a scenario.yaml, else every scenario folder in it.

    A folder with a Cargo.toml and no scenario.yaml is a scenario missing its file, not a folder
    of scenarios: said so, rather than complaining about its crates' folders.
    """
    where = f"--scenarios {given}"
    if not given.is_dir():
        raise ConfigError(
            f"{where}: {given} is not a folder; pass a scenario folder or a folder of them."
        )
    folder = given.resolve()
    try:
        file = folder / "scenario.yaml"
        if file.exists() or file.is_symlink() or (folder / "Cargo.toml").is_file():
            problem = _scenario_problem(folder, f"pass another folder{NEW_HINT}")
            if problem is None:
                return (folder,)
            raise ConfigError(f"{where}: {problem}")
        found = _candidates(folder, f"--scenarios {given}")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {folder} ({exc.strerror}).") from exc
    for problem in found.values():
        if problem is not None:
            raise ConfigError(f"{where}: {problem}")
    if not found:
        raise ConfigError(
            f"{where}: {folder} holds no scenario.yaml and no folder with one; pass a scenario "
            f"folder or a folder of them{NEW_HINT}."
        )
    return tuple(folder / name for name in found)


def _unique(folders: tuple[Path, ...], builtin: tuple[Path, ...]) -> tuple[Path, ...]:
    """The folders, each once; two scenarios of one name would make the same cell ids."""
    named: dict[str, Path] = {}
    for folder in folders:
        earlier = named.setdefault(folder.name, folder)
        if earlier is folder or earlier.resolve() == folder.resolve():
            continue  # the same folder given twice
        also = " (or leave out the matrix's own with --no-builtin-scenarios)"
        raise ConfigError(
            f"two scenarios are named '{folder.name}': {earlier} and {folder}. A scenario's "
            "name is its folder's and must be unique: rename one of the folders"
            f"{also if earlier in builtin else ''}."
        )
    return tuple(named.values())


def require_matrix_file(path: Path) -> Path:
    """The matrix path, or a ConfigError saying how to point at one."""
    if path.exists() and not path.is_file():
        raise ConfigError(f"{path}: not a regular file; pass the matrix file with --matrix PATH.")
    if not path.is_file():
        raise ConfigError(
            f"{path}: no such matrix file. Run from the repository root or pass --matrix PATH."
        )
    return path
