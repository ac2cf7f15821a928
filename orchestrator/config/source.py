"""Read YAML while remembering the line of every key, so errors can name it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import ConfigError

KeyPath = tuple[str | int, ...]


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


# libyaml's parser where PyYAML was built with it (wheels are): the pure-Python one took over a
# second to compose the catalogue's scenario files, most of a warm re-run's start.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> YamlDocument:
    """Parse `path`; a syntax error becomes a ConfigError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}).") from exc
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}.") from exc
    lines: dict[KeyPath, int] = {}
    data = _to_data(node, (), lines) if node is not None else None
    return YamlDocument(path=path, data=data, lines=lines)


def _to_data(node: yaml.Node, key_path: KeyPath, lines: dict[KeyPath, int]) -> Any:
    lines.setdefault(key_path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_scalar(key_node))
            lines[(*key_path, key)] = key_node.start_mark.line + 1
            mapping[key] = _to_data(value_node, (*key_path, key), lines)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(item, (*key_path, index), lines) for index, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
