"""Read YAML while remembering the line of every key, so errors can name it.

Whatever the bytes, reading ends in data or in one ConfigError naming file, key path and line:
never another exception, never a hang. So the file is refused before parsing when it is not a
regular file, too large or not UTF-8, and the composed nodes are turned into data by one walk
that refuses what YAML allows but a hand-written matrix never needs: tags, merge keys, keys that
are not plain names, a key given twice, nesting deeper than any real file, and aliases that
expand into more values than any real file has ("billion laughs").
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import ConfigError

KeyPath = tuple[str | int, ...]

# The largest file read: the real ones are a few kB (matrix.yaml ~15 kB), so more is a mistake.
MAX_BYTES = 4 * 1024 * 1024
# Deepest nesting of mappings and lists: real files nest 7 levels (toolchains.X.targets.Y.runner.
# command[0]); the limit keeps the walk far below Python's recursion limit.
MAX_DEPTH = 32
# Values in a document after aliases are expanded: the largest real file has under 1,000; this
# caps what an alias bomb can cost (a 600-byte file otherwise expands past any memory).
MAX_VALUES = 20_000
# Whole numbers past ~1,000 digits: YAML's base-60 integers (1:2:3...) reach them from a short
# text, and printing one in a message would trip Python's 4,300-digit limit.
MAX_INT_BITS = 3_322

_YAML = "tag:yaml.org,2002:"
MAP_TAG = f"{_YAML}map"
SEQ_TAG = f"{_YAML}seq"
STR_TAG = f"{_YAML}str"
# The scalar kinds YAML's core schema resolves by itself, by the regular expression it uses, so
# that an explicit `!!bool maybe` is refused here instead of failing inside the constructor.
_IMPLICIT: dict[str, re.Pattern[str]] = {
    tag: regexp
    for resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.values()
    for tag, regexp in resolvers
}
SCALAR_KINDS = {
    STR_TAG: "a string",
    f"{_YAML}null": "nothing (null)",
    f"{_YAML}bool": "true or false",
    f"{_YAML}int": "a whole number",
    f"{_YAML}float": "a number",
    f"{_YAML}timestamp": "a date",
}
_UNSUPPORTED_KEYS = {
    f"{_YAML}merge": "merge keys (<<) are not supported: write the keys out in full",
    f"{_YAML}value": "value keys (=) are not supported: give the value itself",
}
_PLAIN_YAML = (
    "linkmatrix reads plain YAML (strings, numbers, true/false, lists, mappings): remove the tag"
)


@dataclass(frozen=True, kw_only=True)
class YamlDocument:
    """Plain data from a YAML file plus the 1-based line of each key path."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, key_path: KeyPath) -> int | None:
        """The line of `key_path`, or of its nearest ancestor that has one."""
        for cut in range(len(key_path), -1, -1):
            line = self.lines.get(key_path[:cut])
            if line is not None:
                return line
        return None


def format_key_path(key_path: KeyPath) -> str:
    """`toolchains.glibc.targets[0]` style text for a key path."""
    text = ""
    for part in key_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def located(path: Path, line: int | None, key_path: KeyPath | None, problem: str) -> ConfigError:
    """The one shape of a config error: `file:line: key.path: problem`."""
    where = f"{path}:{line}" if line is not None else str(path)
    what = f" {format_key_path(key_path)}:" if key_path is not None else ""
    return ConfigError(f"{where}:{what} {problem}")


# libyaml's parser where PyYAML was built with it (wheels are): the pure-Python one took over a
# second to compose the catalogue's scenario files, most of a warm re-run's start.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path, text: str | None = None) -> YamlDocument:
    """Parse `path` (or `text`, as `path` would hold it: what --bless is about to write);
    anything wrong with it becomes a ConfigError naming file and line.
    """
    if text is None:
        text = _decode(path, _read(path))
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise _syntax_error(path, text, exc) from exc
    builder = _Builder(path)
    data = builder.data(node, (), 0) if node is not None else None
    return YamlDocument(path=path, data=data, lines=builder.lines)


def _read(path: Path) -> bytes:
    # stat first: opening a FIFO would wait for a writer, a device could be endless.
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise ConfigError(f"{path}: {kind}; expected a YAML file.")
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        dangling = path.is_symlink() and not path.exists()
        reason = "a symbolic link to nothing" if dangling else exc.strerror
        raise ConfigError(f"{path}: cannot read it ({reason}).") from exc
    if len(raw) > MAX_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; linkmatrix's YAML files are "
            "a few kB, so this is not one: check the path."
        )
    return raw


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(
            f"{path}: this is UTF-16 text (it starts with a UTF-16 byte-order "
            "mark); save it as UTF-8."
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte offset "
            f"{exc.start}); save the file as UTF-8."
        ) from exc


def _syntax_error(path: Path, text: str, exc: yaml.YAMLError) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, yaml.reader.ReaderError):
        # libyaml's reader gives a byte offset into the UTF-8 text, not a line
        line = text.encode("utf-8").count(b"\n", 0, exc.position) + 1
        problem = f"character #x{exc.character:04x}: {exc.reason}"
    return located(path, line, None, f"not valid YAML: {problem}.")


class _Builder:
    """Composed nodes to plain data, recording the line of each key path as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[KeyPath, int] = {}
        self.values = 0
        # ids of the collections being built: meeting one again is an alias to an ancestor
        self.open: set[int] = set()
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, key_path: KeyPath, problem: str) -> ConfigError:
        return located(self.path, node.start_mark.line + 1, key_path, problem)

    def data(self, node: yaml.Node, key_path: KeyPath, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.fail(
                node,
                key_path,
                f"the document holds more than {MAX_VALUES:,} values once its aliases (*name) "
                "are expanded; write the values out instead of nesting aliases.",
            )
        if depth > MAX_DEPTH:
            raise self.fail(
                node,
                key_path,
                f"nested more than {MAX_DEPTH} levels deep; linkmatrix files need fewer than 10: "
                "look for an unclosed bracket or a stray indent.",
            )
        self.lines.setdefault(key_path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, key_path)
        if id(node) in self.open:
            raise self.fail(
                node, key_path, "an alias (*name) refers to a mapping or list that contains it."
            )
        expected = MAP_TAG if isinstance(node, yaml.MappingNode) else SEQ_TAG
        if node.tag != expected:
            raise self.fail(
                node, key_path, f"the tag {_tag(node.tag)} is not supported; {_PLAIN_YAML}."
            )
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, key_path, depth)
            return [
                self.data(item, (*key_path, index), depth + 1)
                for index, item in enumerate(node.value)
            ]
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, key_path: KeyPath, depth: int) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, key_path)
            line = key_node.start_mark.line + 1
            if key in mapping:
                first = self.lines[(*key_path, key)]
                raise self.fail(
                    key_node,
                    (*key_path, key),
                    f"given twice, on lines {first} and {line} (YAML would silently keep the "
                    "last); remove or rename one.",
                )
            self.lines[(*key_path, key)] = line
            mapping[key] = self.data(value_node, (*key_path, key), depth + 1)
        return mapping

    def key(self, node: yaml.Node, key_path: KeyPath) -> str:
        """A key as written: `1.90:` names "1.90", not the number 1.9."""
        if node.tag in _UNSUPPORTED_KEYS:
            raise self.fail(node, key_path, f"{_UNSUPPORTED_KEYS[node.tag]}.")
        if not isinstance(node, yaml.ScalarNode):
            kind = "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
            raise self.fail(node, key_path, f"a key must be a plain name, not {kind}.")
        self.scalar(node, key_path)
        if not node.value.strip():
            raise self.fail(node, key_path, "a key is empty; give it a name.")
        return str(node.value)

    def scalar(self, node: yaml.ScalarNode, key_path: KeyPath) -> Any:
        kind = SCALAR_KINDS.get(node.tag)
        if kind is None:
            raise self.fail(
                node, key_path, f"the tag {_tag(node.tag)} is not supported; {_PLAIN_YAML}."
            )
        pattern = _IMPLICIT.get(node.tag)
        if pattern is not None and not pattern.match(node.value):
            raise self.fail(
                node, key_path, f"{_shown(node.value)} is not {kind} as YAML spells it."
            )
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            # a date that does not exist (2024-02-30), a number of thousands of digits
            reason = str(exc).split(";")[0]
            raise self.fail(
                node,
                key_path,
                f"cannot read {_shown(node.value)} as {kind} ({reason}); quote it if it is text.",
            ) from exc
        if isinstance(value, int) and abs(value).bit_length() > MAX_INT_BITS:
            raise self.fail(
                node, key_path, f"{_shown(node.value)} is a whole number of over 1,000 digits."
            )
        return value


def _tag(tag: str) -> str:
    """A tag as it is written: `!!python/object`, not `tag:yaml.org,2002:python/object`."""
    return f"'!!{tag.removeprefix(_YAML)}'" if tag.startswith(_YAML) else f"'{tag}'"


def _shown(value: str) -> str:
    """A scalar for a message: quoted, and cut short when long."""
    return repr(value if len(value) <= 40 else f"{value[:37]}...")
