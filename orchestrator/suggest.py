"""The smallest expectation that would have matched what a cell observed, as scenario.yaml. Pure.

When a check fails, the report shows it beside the failure, ready to paste under `checks:` (or
`runs:`), narrowed to the cell by a `when:`. It keeps every part of the failed expectation that
held and turns each part that did not into what was seen: a name `includes` missed becomes an
`excludes`, an `excludes` that matched an `includes`, `equals` the names seen, a flag its
observed value, `fails_at` the phase where the artifact failed (`built: true` when it did not),
a run's exit code the one it exited with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence

from orchestrator.cell.observation import BuildRecord, RunRecord
from orchestrator.config.scenario import (
    MATCHERS,
    Check,
    Phase,
    Property,
    RunPlace,
    RunSpec,
    SetMatcher,
)

# YAML words that a plain scalar would turn into something else than a string
_YAML_WORDS = re.compile(r"(?i)(y|n|yes|no|on|off|true|false|null|~)")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def observed_matcher(matcher: SetMatcher, names: Sequence[str], *, substring: bool) -> SetMatcher:
    """`matcher` with every part that failed on `names` turned into what they show."""

    def present(wanted: str) -> bool:
        return any(wanted in name for name in names) if substring else wanted in names

    def found(pattern: str) -> bool:
        return any(re.search(pattern, name) for name in names)

    equals = matcher.equals
    if equals is not None and sorted(set(names)) != sorted(set(equals)):
        equals = tuple(sorted(set(names)))
    return SetMatcher(
        includes=_kept(matcher.includes, present) + _kept(matcher.excludes, present),
        excludes=_dropped(matcher.excludes, present) + _dropped(matcher.includes, present),
        includes_matching=_kept(matcher.includes_matching, found)
        + _kept(matcher.excludes_matching, found),
        excludes_matching=_dropped(matcher.excludes_matching, found)
        + _dropped(matcher.includes_matching, found),
        equals=equals,
    )


def check_suggestion(
    check: Check,
    *,
    names: Sequence[str] | None,
    substring: bool,
    build: BuildRecord,
    phase: Phase | None,
    flag: bool | None,
    where: tuple[str, str, str],
) -> str | None:
    """The check as it would have held; `names`: what a set check read, `flag`: the observed
    value of a flag check, `phase`: where the artifact failed (observed_phase). None when
    nothing was observed to suggest from.
    """
    lines = [f"- artifact: {_scalar(check.artifact)}"]
    if check.crate_type is not None:
        lines.append(f"  crate_type: {check.crate_type}")
    if check.property is Property.BUILT and check.crate_type is not None:
        # one crate type: built or not, whatever became of the others
        if flag is None:
            return None
        lines.append(f"  built: {str(flag).lower()}")
    elif check.property in (Property.FAILS_AT, Property.BUILT):
        # a failure says where it happened; a success is just "it built"
        failed = phase if check.property is Property.FAILS_AT or not build.built else None
        lines.append(f"  fails_at: {failed}" if failed else "  built: true")
    elif check.matcher is not None:
        if names is None:
            return None
        lines.append(
            f"  {check.property}: "
            + _flow_matcher(observed_matcher(check.matcher, names, substring=substring))
        )
    elif flag is not None:
        lines.append(f"  {check.property}: {str(flag).lower()}")
    else:
        return None
    if check.file is not None and build.built:
        lines.append(f"  file: {_scalar(check.file)}")
    lines.append(_when(where))
    return "\n".join(lines) + "\n"


def run_suggestion(
    spec: RunSpec, record: RunRecord | None, where: tuple[str, str, str]
) -> str | None:
    """The run as it would have held: its exit code, its output matchers turned observed."""
    if record is None or record.not_run is not None or record.exit_code is None:
        return None
    lines = [f"- name: {_scalar(spec.name)}", f"  artifact: {_scalar(spec.artifact)}"]
    if spec.args:
        lines.append(f"  args: {_flow_list(spec.args)}")
    if spec.env:
        pairs = ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in spec.env)
        lines.append(f"  env: {{ {pairs} }}")
    if spec.container is not RunPlace.CELL:
        lines.append(f"  container: {spec.container}")
    lines.append(f"  exit_code: {record.exit_code}")
    for stream, matcher, text in (
        ("stdout", spec.stdout, record.stdout),
        ("stderr", spec.stderr, record.stderr),
    ):
        if matcher is not None:
            seen = observed_matcher(matcher, [text], substring=True)
            lines.append(f"  {stream}: {_flow_matcher(seen)}")
    lines.append(_when(where))
    return "\n".join(lines) + "\n"


def _kept(values: tuple[str, ...], test: Callable[[str], bool]) -> tuple[str, ...]:
    return tuple(v for v in values if test(v))


def _dropped(values: tuple[str, ...], test: Callable[[str], bool]) -> tuple[str, ...]:
    return tuple(v for v in values if not test(v))


def _when(where: tuple[str, str, str]) -> str:
    return f"  when: {place_text(where)}"


def place_text(where: tuple[str, str, str]) -> str:
    """One cell's place as a flow mapping: what a `when:` or `unless:` names it by."""
    toolchain, target, release = where
    return (
        f"{{ toolchain: {_scalar(toolchain)}, target: {_scalar(target)}, "
        f"release: {json.dumps(release)} }}"
    )


def _flow_matcher(matcher: SetMatcher) -> str:
    parts = [
        f"{name}: {_flow_list(values)}"
        for name in MATCHERS
        if (values := getattr(matcher, name)) or (name == "equals" and values is not None)
    ]
    return "{ " + ", ".join(parts) + " }" if parts else "{ equals: [] }"


def _flow_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_scalar(v) for v in values) + "]"


def _scalar(text: str) -> str:
    """A YAML scalar: plain where that reads back as the same string, else double-quoted."""
    if _PLAIN.fullmatch(text) and not _YAML_WORDS.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)
