"""Mutation fuzz of both loaders: whatever the bytes, data or one ConfigError, quickly (issue 12).

Seeds are the repository's own matrix.yaml and scenarios/*/scenario.yaml. Each example applies
one to three mutations: byte flips, truncations, an encoding change, lines deleted or duplicated
(a key given twice), and YAML constructs inserted or put in place of a value (tags, merge keys,
aliases and alias bombs, deep nesting, scalars that cannot be built, bad limits and globs), and
any characters inserted anywhere.

The default run is short; `LINKMATRIX_FUZZ_EXAMPLES=2000 pytest tests/unit/test_loader_fuzz.py`
runs longer, and `--hypothesis-show-statistics` shows how many loaded and how many were refused.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orchestrator.config.matrix import load_matrix
from orchestrator.config.scenario import Coordinates, load_scenario
from orchestrator.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("LINKMATRIX_FUZZ_EXAMPLES", "100"))
# Per input: the slowest refusal (an alias bomb) takes ~0.15 s; the rest is room for a busy host.
BUDGET_S = 5.0

MATRIX_SEED = (REPO / "matrix.yaml").read_bytes()
SCENARIO_SEEDS = tuple(path.read_bytes() for path in sorted(REPO.glob("scenarios/*/scenario.yaml")))
# the "billion laughs": ~500 bytes that would expand to 10⁹ strings
LAUGHS = b"\n".join(
    [b'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]".encode() for i in range(1, 10)]
)
SNIPPETS: tuple[bytes, ...] = (
    b"<<: *a0",
    b"<<: {a: 1}",
    b"=: 1",
    b"!foo bar",
    b"!!python/object:os.system {}",
    b"!!python/name:os.system",
    b"!!binary aGk=",
    b"!!set {a}",
    b"!!omap [a: 1]",
    b"? [a, b]\n: c",
    b"{a: 1}: b",
    b"[" * 300 + b"]" * 300,
    b"{a: " * 120 + b"1" + b"}" * 120,
    b"&r [*r]",
    b"&m {k: *m}",
    b"*undefined",
    b"&a0 x",
    b"2024-02-30",
    b"!!bool maybe",
    b"!!int ten",
    b"!!float x",
    b"!!timestamp soon",
    b"9" * 5000,
    b":".join([b"1"] * 3000),
    b"9" * 401,
    b".nan",
    b".inf",
    b"-.inf",
    b"0.5",
    b"0",
    b"-1",
    b"true",
    b"[]",
    b"{}",
    b"~",
    b'""',
    b'"{artifact:nope}"',
    b'["{artifact_dir:x}"]',
    b"'(' ",
    b"'a{99999999999}'",
    b"'" + b"(" * 600 + b")" * 600 + b"'",
    b"{toolchain: nope}",
    b"[{target: 'x*'}]",
    b"when: []",
    b"unless: []",
    b"cpus: .nan",
    b"pids: 0.5",
    b"memory: lots",
    b"caf\xe9",
    b"\xff\xfe",
    b"\x00",
    b"\x07",
    b"\t",
    b"---",
    b"...",
    b"%YAML 1.1",
    b"\xef\xbb\xbf",
    LAUGHS,
)

Mutation = Callable[[st.DrawFn, bytes], bytes]


def _flip(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]


def _truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _encode(draw: st.DrawFn, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    return text.encode(draw(st.sampled_from(["utf-16", "utf-16-be", "latin-1"])), "replace")


def _line_and_block(draw: st.DrawFn, lines: list[bytes]) -> tuple[int, int]:
    """A line and the end of the block under it (its more-indented lines)."""
    first = draw(st.integers(0, max(len(lines) - 1, 0)))
    indent = _indent(lines[first]) if lines else b""
    end = first + 1
    while end < len(lines) and (not lines[end].strip() or len(_indent(lines[end])) > len(indent)):
        end += 1
    return first, end


def _delete(draw: st.DrawFn, data: bytes) -> bytes:
    lines = data.split(b"\n")
    first, end = _line_and_block(draw, lines)
    return b"\n".join(lines[:first] + lines[end:])


def _duplicate(draw: st.DrawFn, data: bytes) -> bytes:
    lines = data.split(b"\n")
    first, end = _line_and_block(draw, lines)
    return b"\n".join(lines[:end] + lines[first:end] + lines[end:])


def _insert(draw: st.DrawFn, data: bytes) -> bytes:
    lines = data.split(b"\n")
    at = draw(st.integers(0, len(lines)))
    indent = _indent(lines[at]) if at < len(lines) else b""
    lines.insert(at, indent + draw(st.sampled_from(SNIPPETS)))
    return b"\n".join(lines)


def _replace_value(draw: st.DrawFn, data: bytes) -> bytes:
    lines = data.split(b"\n")
    keyed = [i for i, line in enumerate(lines) if b": " in line]
    if not keyed:
        return data
    at = draw(st.sampled_from(keyed))
    key = lines[at][: lines[at].index(b": ") + 2]
    lines[at] = key + draw(st.sampled_from(SNIPPETS))
    return b"\n".join(lines)


def _insert_text(draw: st.DrawFn, data: bytes) -> bytes:
    """Any characters at any offset: quotes, brackets, colons, non-ASCII, surrogates escaped."""
    at = draw(st.integers(0, len(data)))
    text = draw(st.text(max_size=12)).encode("utf-8", "backslashreplace")
    return data[:at] + text + data[at:]


def _prefix(draw: st.DrawFn, data: bytes) -> bytes:
    return draw(st.sampled_from(SNIPPETS)) + b"\n" + data


def _indent(line: bytes) -> bytes:
    return line[: len(line) - len(line.lstrip(b" -"))]


MUTATIONS: tuple[Mutation, ...] = (
    _flip,
    _truncate,
    _encode,
    _delete,
    _duplicate,
    _insert,
    _insert_text,
    _replace_value,
    _replace_value,  # the likeliest to reach the validators: twice the weight
    _prefix,
)


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[bytes, ...]) -> bytes:
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(MUTATIONS))(draw, data)
    return data


class Hang(Exception):
    """A load ran past the per-input budget."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Hang in the main thread after `seconds` (a loop in Python code is interrupted)."""

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"a load took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def loads_or_refuses(load: Callable[[], object]) -> None:
    """`load` returns, or raises ConfigError, within the budget; any other exception fails."""
    start = time.monotonic()
    with time_limit(BUDGET_S):
        try:
            load()
        except ConfigError:
            event("refused with a ConfigError")
        else:
            event("loaded")
    assert time.monotonic() - start < BUDGET_S


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the budget above is the limit; Hypothesis's 200 ms would flake when busy
    database=None,  # nothing written into the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """matrix.yaml's images as empty Dockerfiles, one real scenario, and `fuzzed/` for the
    scenario loader's inputs (outside scenarios/, so the matrix loader never reads them).
    """
    root = tmp_path_factory.mktemp("fuzz")
    for folder in (REPO / "images").iterdir():
        if (folder / "Dockerfile").is_file():
            (root / "images" / folder.name).mkdir(parents=True)
            (root / "images" / folder.name / "Dockerfile").write_text("FROM scratch\n")
    for scenario in (root / "scenarios" / "cdylib-exports", root / "fuzzed"):
        scenario.mkdir(parents=True)
        for name in ("scenario.yaml", "Cargo.toml"):
            shutil.copy(REPO / "scenarios/cdylib-exports" / name, scenario / name)
    return root


@pytest.fixture(scope="module")
def coordinates() -> Coordinates:
    matrix = load_matrix(REPO / "matrix.yaml")
    return Coordinates(
        cells=tuple(
            (toolchain.name, target.triple, release)
            for toolchain in matrix.toolchains
            for target in toolchain.targets
            for release in toolchain.releases
        )
    )


def test_seeds_load(project: Path, coordinates: Coordinates) -> None:
    """The mutations start from files that load: a refusal is the mutation's doing."""
    (project / "matrix.yaml").write_bytes(MATRIX_SEED)
    assert load_matrix(project / "matrix.yaml").scenarios
    # each in its own folder: a `crate_types:` artifact is checked against its Cargo.toml
    for scenario in sorted(REPO.glob("scenarios/*/scenario.yaml")):
        load_scenario(scenario.parent, coordinates)


@FUZZ
@given(data=mutated((MATRIX_SEED,)))
def test_matrix_loader_never_crashes_or_hangs(project: Path, data: bytes) -> None:
    path = project / "matrix.yaml"
    path.write_bytes(data)
    loads_or_refuses(lambda: load_matrix(path))


@FUZZ
@given(data=mutated(SCENARIO_SEEDS))
def test_scenario_loader_never_crashes_or_hangs(
    project: Path, coordinates: Coordinates, data: bytes
) -> None:
    folder = project / "fuzzed"
    (folder / "scenario.yaml").write_bytes(data)
    loads_or_refuses(lambda: load_scenario(folder, coordinates))
