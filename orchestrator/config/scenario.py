"""scenarios/<name>/scenario.yaml: what to build, and what the artifacts must show."""

from __future__ import annotations

import difflib
import enum
import fnmatch
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config.manifest import MANIFEST, read_packages, read_toml
from orchestrator.config.reader import Mapping, Node
from orchestrator.config.source import load_yaml


class TargetKind(enum.StrEnum):
    """Which cargo target of the package an artifact is (`--bin NAME` or `--lib`)."""

    BIN = "bin"
    LIB = "lib"


class CrateType(enum.StrEnum):
    """rustc crate types an artifact can be forced to with `cargo rustc --crate-type`."""

    BIN = "bin"
    LIB = "lib"
    RLIB = "rlib"
    DYLIB = "dylib"
    CDYLIB = "cdylib"
    STATICLIB = "staticlib"


class Property(enum.StrEnum):
    """What a check looks at."""

    EXPORTS = "exports"
    IMPORTS = "imports"
    NEEDED = "needed"
    MEMBERS = "members"
    DEMANGLED = "demangled"
    DATA = "data"
    DIAGNOSTICS = "diagnostics"
    DIAGNOSTICS_TEXT = "diagnostics_text"
    STATIC = "static"
    BUILT = "built"
    FAILS_AT = "fails_at"


class Phase(enum.StrEnum):
    """Where an artifact's way from source to a running program first fails.

    compile: rustc refused the crate; link: the linker failed; load: a run's program never
    started (the loader, wine or the wasm host refused it); run: it started and exited non-zero
    (or was killed). Read from what the cell observed (judge.observed_phase).
    """

    COMPILE = "compile"
    LINK = "link"
    LOAD = "load"
    RUN = "run"


SET_PROPERTIES = (
    Property.EXPORTS,
    Property.IMPORTS,
    Property.NEEDED,
    Property.MEMBERS,
    Property.DEMANGLED,
    Property.DATA,
    Property.DIAGNOSTICS,
    Property.DIAGNOSTICS_TEXT,
)
MATCHERS = ("includes", "excludes", "includes_matching", "excludes_matching", "equals")


@dataclass(frozen=True, kw_only=True)
class Place:
    """Globs over a cell's coordinates, any of an axis's globs matching; an absent axis matches
    everything. `{ toolchain: [glibc, musl] }` says "either toolchain" without a list of places.
    """

    toolchain: tuple[str, ...] = ("*",)
    target: tuple[str, ...] = ("*",)
    release: tuple[str, ...] = ("*",)

    def matches(self, *, toolchain: str, target: str, release: str) -> bool:
        return (
            _any_glob(toolchain, self.toolchain)
            and _any_glob(target, self.target)
            and _any_glob(release, self.release)
        )


def _any_glob(value: str, globs: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(value, glob) for glob in globs)


@dataclass(frozen=True, kw_only=True)
class Selector:
    """`when:` / `unless:`: one place, or a list of places of which any may match."""

    places: tuple[Place, ...] = (Place(),)

    def matches(self, *, toolchain: str, target: str, release: str) -> bool:
        return any(
            place.matches(toolchain=toolchain, target=target, release=release)
            for place in self.places
        )


ANYWHERE = Selector()
AXES = ("toolchain", "target", "release")


@dataclass(frozen=True, kw_only=True)
class Coordinates:
    """(toolchain, target, release) of every cell the matrix has: what a `when:` can match."""

    cells: tuple[tuple[str, str, str], ...]
    # (toolchain, target, strategy) of each target whose std is built with a fixed panic
    # strategy (matrix.yaml `panic:`): what a scenario's `-C panic` must agree with
    std_panics: tuple[tuple[str, str, str], ...] = ()

    def axis(self, index: int) -> list[str]:
        """The distinct values of one axis (0: toolchains, 1: targets, 2: releases)."""
        return sorted({cell[index] for cell in self.cells})


@dataclass(frozen=True, kw_only=True)
class NotApplicable:
    """Where a scenario cannot apply, and why (shown as not-applicable, never dropped)."""

    when: Selector
    unless: Selector | None
    reason: str

    def matches(self, *, toolchain: str, target: str, release: str) -> bool:
        where = {"toolchain": toolchain, "target": target, "release": release}
        return self.when.matches(**where) and not (self.unless and self.unless.matches(**where))


@dataclass(frozen=True, kw_only=True)
class ArtifactSpec:
    """One `cargo rustc` invocation of the scenario's workspace."""

    name: str
    package: str
    target_kind: TargetKind
    bin_name: str
    crate_type: CrateType | None
    rustc_args: tuple[str, ...]
    when: Selector
    # `crate_types:` the library's crate types as its Cargo.toml declares them, built without a
    # `--crate-type` override (as the user's `cargo build` does: a type the target cannot have
    # is dropped by rustc with a warning, not refused by cargo); each has its own file and
    # `built`. Empty: one crate type (`crate_type`, or the package's default)
    crate_types: tuple[CrateType, ...] = ()
    # `rustflags:` (the scenario's, then the artifact's): flags for every crate of the build,
    # dependencies included (RUSTFLAGS), where `rustc_args` reach the artifact's crate only
    rustflags: tuple[str, ...] = ()
    # `bootstrap: { why: … }` (the artifact's or the scenario's): the crate itself is unstable
    # (a `#![feature]`), so its build needs RUSTC_BOOTSTRAP=1 as a stable user's would; nothing
    # in the command line says so. The why, as declared; None: not declared.
    bootstrap: str | None = None

    @property
    def z_flags(self) -> tuple[str, ...]:
        """The -Z flags of `rustc_args` and `rustflags`: each needs nightly or RUSTC_BOOTSTRAP=1."""
        return tuple(arg for arg in (*self.rustc_args, *self.rustflags) if arg.startswith("-Z"))

    @property
    def needs_bootstrap(self) -> bool:
        """A -Z rustc flag or a declared `#![feature]`: nightly only, or RUSTC_BOOTSTRAP=1."""
        return self.bootstrap is not None or bool(self.z_flags)


@dataclass(frozen=True, kw_only=True)
class SetMatcher:
    """Expectations on a set of names (exports, imports, needed, diagnostics)."""

    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    includes_matching: tuple[str, ...] = ()
    excludes_matching: tuple[str, ...] = ()
    equals: tuple[str, ...] | None = None

    def describe(self) -> list[str]:
        """Each given matcher as `name [values]` (an empty `equals` is shown too)."""
        return [
            f"{name} {list(values)}"
            for name in MATCHERS
            if (values := getattr(self, name)) or (name == "equals" and values is not None)
        ]


@dataclass(frozen=True, kw_only=True)
class XFail:
    """A known upstream failure: the check is expected to fail, for this reason."""

    reason: str
    link: str


@dataclass(frozen=True, kw_only=True)
class Check:
    """One expectation on one artifact.

    `expected_phase`: a `fails_at:` check's phase. `flaky`: the result varies (the reason or a
    link); such a check is judged and shown, but its outcome is `flaky`, never pass or fail.
    """

    artifact: str
    property: Property
    file: str | None
    matcher: SetMatcher | None
    expected_flag: bool | None
    when: Selector
    unless: Selector | None
    xfail: XFail | None
    why: str
    expected_phase: Phase | None = None
    flaky: str | None = None
    # `crate_type:` which of a several-crate-type artifact's files (and `built`) the check reads
    crate_type: CrateType | None = None

    def applies(self, *, toolchain: str, target: str, release: str) -> bool:
        """`when` matches and `unless` (if given) does not."""
        where = {"toolchain": toolchain, "target": target, "release": release}
        return self.when.matches(**where) and not (self.unless and self.unless.matches(**where))

    def describe(self) -> str:
        """The expectation in words, as the report prints it (`cdylib: built is false` for
        one crate type of an artifact).
        """
        of = f"{self.crate_type}: " if self.crate_type else ""
        if self.expected_phase is not None:
            return f"fails at {self.expected_phase}"
        if self.matcher is None:
            return f"{of}{self.property} is {str(self.expected_flag).lower()}"
        return f"{of}{self.property}: " + "; ".join(self.matcher.describe())


class RunPlace(enum.StrEnum):
    """Where a run happens: in the cell's container, or alone in an empty one."""

    CELL = "cell"  # the cell's container, with the target's runner
    SCRATCH = "scratch"  # a container made of nothing but the file (FROM scratch), no runner


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """Run a built artifact with the target's runner, and what it must do.

    In `args` and `env` values, `{artifact:NAME}` is the path of NAME's primary file and
    `{artifact_dir:NAME}` the folder of NAME's files (see run.artifact_arguments).
    """

    name: str
    artifact: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    container: RunPlace = RunPlace.CELL
    exit_code: int
    stdout: SetMatcher | None
    stderr: SetMatcher | None = None
    when: Selector
    unless: Selector | None
    why: str
    flaky: str | None = None  # the run's result varies: judged and shown, never pass or fail

    def applies(self, *, toolchain: str, target: str, release: str) -> bool:
        where = {"toolchain": toolchain, "target": target, "release": release}
        return self.when.matches(**where) and not (self.unless and self.unless.matches(**where))

    def describe(self) -> str:
        parts = [f"exit code {self.exit_code}"]
        if self.container is RunPlace.SCRATCH:
            parts.insert(0, "alone in an empty container")
        if self.stdout is not None:
            parts += [f"stdout {part}" for part in self.stdout.describe()]
        if self.stderr is not None:
            parts += [f"stderr {part}" for part in self.stderr.describe()]
        return "run: " + "; ".join(parts)


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A Cargo workspace plus what to build from it and what to expect."""

    name: str
    folder: Path
    description: str
    links: tuple[str, ...]
    prepare: tuple[str, ...]
    not_applicable: tuple[NotApplicable, ...]
    artifacts: tuple[ArtifactSpec, ...]
    checks: tuple[Check, ...]
    runs: tuple[RunSpec, ...]

    def inapplicable_reason(self, *, toolchain: str, target: str, release: str) -> str | None:
        for rule in self.not_applicable:
            if rule.matches(toolchain=toolchain, target=target, release=release):
                return rule.reason
        return None


SCENARIO_KEYS = (
    "description",
    "links",
    "bootstrap",
    "rustflags",
    "prepare",
    "not_applicable",
    "artifacts",
    "checks",
    "runs",
)
RUN_KEYS = (
    "name",
    "artifact",
    "args",
    "env",
    "container",
    "exit_code",
    "stdout",
    "stderr",
    "when",
    "unless",
    "why",
    "flaky",
)
ARTIFACT_KEYS = (
    "name",
    "package",
    "target_kind",
    "bin_name",
    "crate_type",
    "crate_types",
    "rustc_args",
    "rustflags",
    "bootstrap",
    "when",
)
CHECK_KEYS = (
    "artifact",
    "crate_type",
    "file",
    "when",
    "unless",
    "xfail",
    "flaky",
    "why",
    *(p.value for p in Property),
)


def load_scenario(folder: Path, coordinates: Coordinates, *, text: str | None = None) -> Scenario:
    """Read and validate `folder/scenario.yaml` (or `text` in its place); its globs must match
    cells of `coordinates`.
    """
    doc = load_yaml(folder / "scenario.yaml", text)
    keys = Node.root(doc).mapping(SCENARIO_KEYS)
    shared = Shared(
        folder=folder,
        bootstrap=_bootstrap(node) if (node := keys.get("bootstrap")) else None,
        rustflags=_rustflags(node) if (node := keys.get("rustflags")) else (),
    )
    if not (folder / "Cargo.toml").is_file():
        raise keys["artifacts"].fail(f"there is no {folder / 'Cargo.toml'} to build them from.")
    artifacts = tuple(_artifact(node, coordinates, shared) for node in keys["artifacts"].items())
    names = [artifact.name for artifact in artifacts]
    if len(set(names)) != len(names):
        raise keys["artifacts"].fail("artifact names must be unique within a scenario.")
    optional = {key: keys.get(key) for key in ("links", "prepare", "not_applicable")}
    return Scenario(
        name=folder.name,
        folder=folder,
        description=keys["description"].text(),
        links=optional["links"].texts() if optional["links"] else (),
        prepare=optional["prepare"].texts() if optional["prepare"] else (),
        not_applicable=tuple(
            _not_applicable(n, coordinates) for n in optional["not_applicable"].items()
        )
        if optional["not_applicable"]
        else (),
        artifacts=artifacts,
        checks=tuple(_check(node, artifacts, coordinates) for node in keys["checks"].items()),
        runs=tuple(_run(node, names, coordinates) for node in runs.items())
        if (runs := keys.get("runs"))
        else (),
    )


def _selector(node: Node | None, coordinates: Coordinates) -> Selector:
    """A `when:` / `unless:`: a glob that matches no toolchain, target or release is a typo."""
    if node is None:
        return ANYWHERE
    items = list(node.items()) if isinstance(node.value, list) else [node]
    if not items:
        meaning = "everywhere" if node.key_path[-1] == "when" else "nowhere"
        raise node.fail(
            f"an empty list matches no cell; leave `{node.key_path[-1]}` out to mean {meaning}."
        )
    return Selector(places=tuple(_place(item, coordinates) for item in items))


def _place(node: Node, coordinates: Coordinates) -> Place:
    """One place: per axis a glob or a list of globs (any of which may match)."""
    keys = node.mapping(AXES)
    globs = {
        axis: _axis_globs(axis_node, axis, coordinates.axis(index))
        for index, axis in enumerate(AXES)
        if (axis_node := keys.get(axis))
    }
    return Place(**globs)


def _axis_globs(node: Node, axis: str, values: list[str]) -> tuple[str, ...]:
    """An axis's glob or globs, each of which must match one of the matrix's `values`.

    Each glob alone, not the three axes together: a scenario may name a (target, release) pair
    that this matrix lacks but a fuller one has, so only a glob matching nothing at all is a typo.
    """
    parts = list(node.items()) if isinstance(node.value, list) else [node]
    if not parts:
        raise node.fail(f"an empty list matches no {axis}; leave `{axis}` out to mean any.")
    for part in parts:
        glob = part.text()
        if not any(fnmatch.fnmatchcase(value, glob) for value in values):
            raise part.fail(_no_match_message(glob, axis, values))
    return tuple(part.text() for part in parts)


def _no_match_message(glob: str, axis: str, values: list[str]) -> str:
    near = difflib.get_close_matches(glob, values, n=1)
    hint = f" Did you mean '{near[0]}'?" if near else ""
    listed = ", ".join(values)
    return (
        f"'{glob}' matches no {axis} of the matrix ({listed}), so it never applies.{hint} "
        f"Fix the glob, or drop the rule if the {axis} has left matrix.yaml."
    )


def _not_applicable(node: Node, coordinates: Coordinates) -> NotApplicable:
    keys = node.mapping(("when", "unless", "reason"))
    if not keys.has("when") and not keys.has("unless"):
        raise node.fail("say where the scenario does not apply: `when`, `unless` or both.")
    return NotApplicable(
        when=_selector(keys.get("when"), coordinates),
        unless=_selector(unless, coordinates) if (unless := keys.get("unless")) else None,
        reason=keys["reason"].text(),
    )


@dataclass(frozen=True, kw_only=True)
class FlagNode:
    """One build-wide flag with the node it came from (a refusal names its key and line)."""

    flag: str
    node: Node


@dataclass(frozen=True, kw_only=True)
class Shared:
    """What the scenario's top level says for each of its artifacts."""

    folder: Path  # the scenario's, holding the Cargo workspace
    bootstrap: str | None  # the declared why; an artifact's own wins
    rustflags: tuple[FlagNode, ...]  # before the artifact's own


def _artifact(node: Node, coordinates: Coordinates, shared: Shared) -> ArtifactSpec:
    """One artifact, with what the scenario's top level gives every artifact."""
    keys = node.mapping(ARTIFACT_KEYS)
    package = keys["package"].text()
    target_kind = TargetKind(keys["target_kind"].choice([k.value for k in TargetKind]))
    crate_type = keys.get("crate_type")
    rustc_args = keys.get("rustc_args")
    bin_name = keys.get("bin_name")
    own_bootstrap = keys.get("bootstrap")
    when = _selector(keys.get("when"), coordinates)
    flags = (*shared.rustflags, *(_rustflags(own) if (own := keys.get("rustflags")) else ()))
    _check_panic(flags, when, coordinates)
    declared = keys.get("crate_types")
    if declared and (crate_type or target_kind is not TargetKind.LIB):
        raise declared.fail(
            "crate_types builds a library's crate types as its Cargo.toml declares them; "
            "it goes with `target_kind: lib` and without `crate_type` (a --crate-type override)."
        )
    return ArtifactSpec(
        name=_artifact_name(keys["name"]),
        package=package,
        target_kind=target_kind,
        bin_name=bin_name.text() if bin_name else package,
        crate_type=CrateType(crate_type.choice([c.value for c in CrateType]))
        if crate_type
        else None,
        crate_types=_crate_types(declared, shared.folder, package) if declared else (),
        rustc_args=rustc_args.texts() if rustc_args else (),
        when=when,
        rustflags=tuple(flag.flag for flag in flags),
        bootstrap=_bootstrap(own_bootstrap) if own_bootstrap else shared.bootstrap,
    )


# The crate types a library can list and that each leave a file of their own; `lib` is
# whichever rustc picks, and cdylib and dylib write the same file name.
LISTED_CRATE_TYPES = (CrateType.RLIB, CrateType.DYLIB, CrateType.CDYLIB, CrateType.STATICLIB)


def _crate_types(node: Node, folder: Path, package: str) -> tuple[CrateType, ...]:
    """`crate_types:` the package's own list, as its Cargo.toml declares it (checked there)."""
    items = list(node.items()) if isinstance(node.value, list) else [node]
    listed = tuple(CrateType(item.choice([c.value for c in LISTED_CRATE_TYPES])) for item in items)
    if len(set(listed)) != len(listed):
        raise node.fail("a crate type is listed twice.")
    if {CrateType.CDYLIB, CrateType.DYLIB} <= set(listed):
        raise node.fail("cdylib and dylib write the same file; build them as two artifacts.")
    manifest = _declared_crate_types(folder, package, node)
    if set(manifest) != {c.value for c in listed}:
        raise node.fail(
            f"package '{package}' declares crate-type = {list(manifest)} in its Cargo.toml, "
            f"not {[c.value for c in listed]}: crate_types builds what the manifest declares "
            "(no --crate-type override), so list the same types in both."
        )
    return listed


def _declared_crate_types(folder: Path, package: str, node: Node) -> tuple[str, ...]:
    """The `[lib] crate-type` of `package` in the scenario's workspace (a ConfigError names
    the Cargo.toml that cannot be read).
    """
    packages = read_packages(folder, read_toml(folder / MANIFEST))
    found = next((p for p in packages if p.name == package), None)
    if found is None:
        raise node.fail(
            f"the workspace in {folder} has no package '{package}' to read crate types from."
        )
    return found.lib_crate_types


def _rustflags(node: Node) -> tuple[FlagNode, ...]:
    """`rustflags:` a list of flags, one rustc argument each: they travel in RUSTFLAGS, which
    cargo splits at spaces, so an item with a space would become two arguments unseen.
    """
    parts = list(node.items()) if isinstance(node.value, list) else [node]
    flags = tuple(FlagNode(flag=part.text(), node=part) for part in parts)
    for flag in flags:
        if any(char.isspace() for char in flag.flag):
            raise flag.node.fail(
                f"'{flag.flag}' holds a space: give one argument per item "
                "([-C, panic=abort] or -Cpanic=abort); RUSTFLAGS is split at spaces."
            )
    return flags


PANIC_STRATEGIES = ("abort", "unwind")


def _check_panic(flags: tuple[FlagNode, ...], when: Selector, coordinates: Coordinates) -> None:
    """Refuse a `-C panic=` that the prebuilt std of a target the artifact builds on cannot take.

    std is built once per target (cell/stdlib.py) with the target's panic strategy, and
    panic_abort beside it: an unwinding std takes `-C panic=abort`, but a std built with
    panic=abort has no unwinding to offer a crate built with `-C panic=unwind`.
    """
    for flag, value in _panic_flags(flags):
        if value not in PANIC_STRATEGIES:
            raise flag.node.fail(
                f"'{value}' is not a panic strategy; use one of {', '.join(PANIC_STRATEGIES)}."
            )
        if value != "unwind":
            continue
        clash = next(
            (
                f"{toolchain}/{target}"
                for toolchain, target, strategy in coordinates.std_panics
                if strategy == "abort"
                for cell in coordinates.cells
                if cell[:2] == (toolchain, target)
                and when.matches(toolchain=toolchain, target=target, release=cell[2])
            ),
            None,
        )
        if clash is not None:
            raise flag.node.fail(
                f"-C panic=unwind cannot build on {clash}: its std is built with panic=abort "
                "(matrix.yaml `panic:`), and a crate cannot unwind through it. Leave that "
                "target out with the artifact's `when:`, or drop the flag."
            )


def _panic_flags(flags: tuple[FlagNode, ...]) -> list[tuple[FlagNode, str]]:
    """Each `-C panic=X` among the flags (-Cpanic=X, -C panic=X, --codegen[=]panic=X)."""
    found = []
    for index, flag in enumerate(flags):
        option = None
        named = flag
        if flag.flag in ("-C", "--codegen") and index + 1 < len(flags):
            named = flags[index + 1]
            option = named.flag
        elif flag.flag.startswith("--codegen="):
            option = flag.flag.removeprefix("--codegen=")
        elif flag.flag.startswith("-C") and flag.flag != "-C":
            option = flag.flag.removeprefix("-C")
        if option is not None and option.startswith("panic="):
            found.append((named, option.removeprefix("panic=")))
    return found


def _bootstrap(node: Node) -> str:
    """`bootstrap: { why: … }`: RUSTC_BOOTSTRAP=1 is needed, and why (what is unstable).

    The why is required: RUSTC_BOOTSTRAP makes a stable compiler accept anything unstable, so
    the scenario says which `#![feature]` it is for, and results.json carries it.
    """
    if node.value is True:
        raise node.fail(
            'say why RUSTC_BOOTSTRAP=1 is needed: `bootstrap: { why: "#![feature(abi_ptx)]" }` '
            "(what in the crate is unstable)."
        )
    return node.mapping(("why",))["why"].text()


def _artifact_name(node: Node) -> str:
    """A name that `{artifact:NAME}` can refer to and that is safe as a folder of the cell
    (`artifacts/NAME`, `target/NAME`): a `+` or a `/` would load and then break both.
    """
    name = node.text()
    if not ARTIFACT_NAME.fullmatch(name):
        raise node.fail(
            f"'{name}' is not a usable artifact name: it starts with a letter or digit and holds "
            "only ASCII letters, digits, '-', '_' and '.' (runs refer to it as "
            "`{artifact:NAME}`, and the cell keeps its files in a folder of that name)."
        )
    return name


def _check(node: Node, artifacts: tuple[ArtifactSpec, ...], coordinates: Coordinates) -> Check:
    keys = node.mapping(CHECK_KEYS)
    artifact_names = [artifact.name for artifact in artifacts]
    present = [p for p in Property if keys.has(p.value)]
    if len(present) != 1:
        raise node.fail(
            f"a check looks at exactly one of {', '.join(p.value for p in Property)}; "
            f"this one names {len(present)}."
        )
    prop = present[0]
    value = keys[prop.value]
    xfail = keys.get("xfail")
    flaky = keys.get("flaky")
    why = keys.get("why")
    if xfail and flaky:
        raise flaky.fail(
            "a check is a known upstream failure (xfail) or a result that varies (flaky), "
            "not both; keep the one that says what you know."
        )
    phase = prop is Property.FAILS_AT
    artifact = keys["artifact"].choice(artifact_names)
    crate_type = keys.get("crate_type")
    return Check(
        artifact=artifact,
        property=prop,
        file=file_glob.text() if (file_glob := keys.get("file")) else None,
        matcher=_matcher(value) if prop in SET_PROPERTIES else None,
        expected_flag=None if prop in SET_PROPERTIES or phase else value.boolean(),
        when=_selector(keys.get("when"), coordinates),
        unless=_selector(unless, coordinates) if (unless := keys.get("unless")) else None,
        xfail=_xfail(xfail) if xfail else None,
        why=why.text() if why else "",
        expected_phase=Phase(value.choice([p.value for p in Phase])) if phase else None,
        flaky=flaky.text() if flaky else None,
        crate_type=_check_crate_type(
            crate_type, keys, prop, artifacts[artifact_names.index(artifact)]
        )
        if crate_type
        else None,
    )


# what reads one crate type's file or `built`; diagnostics and fails_at are the build's
CRATE_TYPE_PROPERTIES = tuple(
    p
    for p in Property
    if p not in (Property.DIAGNOSTICS, Property.DIAGNOSTICS_TEXT, Property.FAILS_AT)
)


def _check_crate_type(
    node: Node, keys: Mapping, prop: Property, artifact: ArtifactSpec
) -> CrateType:
    """A check's `crate_type:` one of its artifact's `crate_types`, read by a check that has one."""
    if not artifact.crate_types:
        raise node.fail(
            f"artifact '{artifact.name}' has one crate type; `crate_type:` picks one of an "
            "artifact's `crate_types`."
        )
    if prop not in CRATE_TYPE_PROPERTIES:
        raise node.fail(f"{prop} is the whole build's, not one crate type's; drop `crate_type:`.")
    if keys.has("file"):
        raise node.fail("`file:` and `crate_type:` both pick the file to read; keep one.")
    return CrateType(node.choice([c.value for c in artifact.crate_types]))


def _matcher(node: Node) -> SetMatcher:
    keys = node.mapping(MATCHERS)
    values = {name: keys[name].texts() for name in MATCHERS if keys.has(name)}
    if not values:
        raise node.fail(f"name at least one of {', '.join(MATCHERS)}.")
    for name in ("includes_matching", "excludes_matching"):
        for index, pattern in enumerate(values.get(name, ())):
            try:
                # "possible nested set" is a hint for Python code; under -W error it would escape
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)
                    re.compile(pattern)
            # sre's parser recurses per group and overflows on a{99999999999}
            except (re.error, RecursionError, OverflowError) as exc:
                raise node.fail(
                    f"not a valid regular expression: {exc}.", (*node.key_path, name, index)
                ) from exc
    equals = values.pop("equals", None)
    return SetMatcher(**values, equals=equals)


def _xfail(node: Node) -> XFail:
    keys = node.mapping(("reason", "link"))
    return XFail(reason=keys["reason"].text(), link=keys["link"].text())


def _run(node: Node, artifact_names: list[str], coordinates: Coordinates) -> RunSpec:
    keys = node.mapping(RUN_KEYS)
    args = keys.get("args")
    env = keys.get("env")
    place = keys.get("container")
    exit_code = keys.get("exit_code")
    stdout = keys.get("stdout")
    stderr = keys.get("stderr")
    why = keys.get("why")
    for texts in (args, env):
        if texts:
            _check_references(texts, artifact_names)
    return RunSpec(
        name=keys["name"].text(),
        artifact=keys["artifact"].choice(artifact_names),
        args=args.texts() if args else (),
        env=env.string_map() if env else (),
        container=RunPlace(place.choice([p.value for p in RunPlace])) if place else RunPlace.CELL,
        exit_code=exit_code.integer() if exit_code else 0,
        stdout=_matcher(stdout) if stdout else None,
        stderr=_matcher(stderr) if stderr else None,
        when=_selector(keys.get("when"), coordinates),
        unless=_selector(unless, coordinates) if (unless := keys.get("unless")) else None,
        why=why.text() if why else "",
        flaky=flaky.text() if (flaky := keys.get("flaky")) else None,
    )


# `{artifact:NAME}` / `{artifact_dir:NAME}` as cell/runner.py substitutes them; any `{word:...}`
# is looked at, so that a misspelt one is caught instead of reaching the program as text.
REFERENCE = re.compile(r"\{(\w+):([^{}]*)\}")
REFERENCE_KINDS = ("artifact", "artifact_dir")
# what an artifact may be called: `{artifact:NAME}` reads it back, and it names the cell's
# folders of the artifact (no `.`/`..`, no `/`, nothing a shell or a path would take apart)
ARTIFACT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*", re.ASCII)


def _check_references(node: Node, artifact_names: list[str]) -> None:
    """Each artifact reference in `node` (a string, list or mapping of them) names an artifact."""
    if isinstance(node.value, dict):
        parts = list(node.free_mapping().values())
    else:
        parts = list(node.items()) if isinstance(node.value, list) else [node]
    for part in parts:
        for match in REFERENCE.finditer(part.text()):
            kind, name = match[1], match[2]
            if kind not in REFERENCE_KINDS:
                near = difflib.get_close_matches(kind, REFERENCE_KINDS, n=1)
                if near:
                    raise part.fail(
                        f"'{match[0]}' is no reference: did you mean '{{{near[0]}:{name}}}'?"
                    )
                continue
            if name not in artifact_names or not ARTIFACT_NAME.fullmatch(name):
                near = difflib.get_close_matches(name.strip(), artifact_names, n=1)
                hint = f" Did you mean '{{{kind}:{near[0]}}}'?" if near else ""
                raise part.fail(
                    f"'{match[0]}' names no artifact of this scenario "
                    f"({', '.join(artifact_names)}).{hint}"
                )
