"""A validating walk over YAML data: every complaint names file, key path and line."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any

from orchestrator.config.source import KeyPath, YamlDocument, located
from orchestrator.errors import ConfigError

_MISSING = object()


class Node:
    """One value of a YAML document at a key path, read through typed accessors."""

    def __init__(self, doc: YamlDocument, key_path: KeyPath, value: Any) -> None:
        self.doc = doc
        self.key_path = key_path
        self.value = value

    @classmethod
    def root(cls, doc: YamlDocument) -> Node:
        return cls(doc, (), doc.data if doc.data is not None else {})

    def fail(self, problem: str, key_path: KeyPath | None = None) -> ConfigError:
        """A ConfigError for `problem` at this node (or at `key_path`)."""
        where = self.key_path if key_path is None else key_path
        return located(self.doc.path, self.doc.line_of(where), where, problem)

    # -- mappings -------------------------------------------------------------------------
    def mapping(self, allowed: Sequence[str]) -> Mapping:
        """This node as a mapping whose keys must come from `allowed`."""
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping, got {_kind(self.value)}.")
        for key in self.value:
            if key not in allowed:
                raise self.fail(_unknown_key_message(key, allowed), (*self.key_path, key))
        return Mapping(self)

    def free_mapping(self) -> dict[str, Node]:
        """This node as a mapping with user-chosen keys (names of things)."""
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping, got {_kind(self.value)}.")
        return {str(k): Node(self.doc, (*self.key_path, str(k)), v) for k, v in self.value.items()}

    def items(self) -> Iterator[Node]:
        """This node as a list of nodes."""
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {_kind(self.value)}.")
        for index, value in enumerate(self.value):
            yield Node(self.doc, (*self.key_path, index), value)

    # -- scalars ---------------------------------------------------------------------------
    def text(self) -> str:
        """A non-empty string, without the trailing newline of YAML's folded blocks."""
        if not isinstance(self.value, str) or not self.value.strip():
            hint = (
                " (quote it: YAML reads 1.90 as the number 1.9)" if _is_number(self.value) else ""
            )
            raise self.fail(f"expected a non-empty string, got {_kind(self.value)}{hint}.")
        return self.value.strip()

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"expected true or false, got {_kind(self.value)}.")
        return self.value

    def number(self, *, at_most: float, at_least: float = 0.0, unit: str = "") -> float:
        """A finite number above 0 (and at least `at_least`) and at most `at_most`.

        Compared before any conversion: .nan and .inf fail the range, and a 401-digit integer
        fails it too instead of overflowing float().
        """
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.fail(f"expected a number{unit}, got {_kind(self.value)}.")
        if not (self.value > 0 and at_least <= self.value <= at_most):
            low = f"at least {at_least:g}" if at_least > 0 else "above 0"
            raise self.fail(
                f"expected a number{unit} {low} and at most {at_most:g}, got {_kind(self.value)}."
            )
        return float(self.value)

    def whole(self, *, at_most: int) -> int:
        """A whole number from 1 to `at_most` (0.5 is refused, not rounded)."""
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"expected a whole number, got {_kind(self.value)}.")
        if not 0 < self.value <= at_most:
            raise self.fail(
                f"expected a whole number from 1 to {at_most}, got {_kind(self.value)}."
            )
        return self.value

    def integer(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"expected a whole number, got {_kind(self.value)}.")
        return self.value

    def texts(self) -> tuple[str, ...]:
        """A list of strings; a single string is accepted as a list of one."""
        if isinstance(self.value, str):
            return (self.text(),)
        return tuple(item.text() for item in self.items())

    def choice(self, choices: Sequence[str]) -> str:
        value = self.text()
        if value not in choices:
            raise self.fail(_unknown_value_message(value, choices))
        return value

    def string_map(self) -> tuple[tuple[str, str], ...]:
        """A mapping of strings to strings, as sorted pairs (hashable, frozen)."""
        return tuple(sorted((key, node.text()) for key, node in self.free_mapping().items()))


class Mapping:
    """A validated mapping node; get children by key with or without defaults."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def has(self, key: str) -> bool:
        return key in self.node.value

    def __getitem__(self, key: str) -> Node:
        if key not in self.node.value:
            raise self.node.fail(f"missing required key '{key}'.")
        return Node(self.node.doc, (*self.node.key_path, key), self.node.value[key])

    def get(self, key: str) -> Node | None:
        if key not in self.node.value or self.node.value[key] is None:
            return None
        return self[key]


def _unknown_key_message(key: str, allowed: Sequence[str]) -> str:
    near = difflib.get_close_matches(key, allowed, n=1)
    hint = f" Did you mean '{near[0]}'?" if near else ""
    return f"unknown key '{key}'.{hint} Valid keys: {', '.join(sorted(allowed))}."


def _unknown_value_message(value: str, choices: Sequence[str]) -> str:
    near = difflib.get_close_matches(value, choices, n=1)
    hint = f" Did you mean '{near[0]}'?" if near else ""
    return f"'{value}' is not one of {', '.join(choices)}.{hint}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    shown = repr(value)
    return f"{type(value).__name__} {shown if len(shown) <= 40 else shown[:37] + '...'}"
