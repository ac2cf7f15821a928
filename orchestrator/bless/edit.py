"""scenario.yaml with blessed expectations written in, as a text edit. Pure.

A blessing is one failed check (or run) of one cell and its suggestion (suggest.py): what would
have matched there, narrowed to the cell by `when:`. For each blessed entry the edit

- writes each suggestion right after the entry, as a new item of the same list;
- narrows the entry away from those cells with `unless:` (a new key after its `when:`, or the
  cells' places added to the `unless:` it has), so that it still says what it said everywhere
  else, and the cell is judged by its new entry alone;
- replaces, instead, an entry that is already narrowed to exactly that one cell (an earlier
  blessing: `when:` naming its toolchain, target and release, no `unless:`), which would
  otherwise be left applying nowhere.

Every other byte of the file stays as it was (comments, order, quoting, blank lines): the user
reviews the diff. The positions come from PyYAML's composed nodes; the edits are insertions, and
the one replacement, at those positions. What cannot be edited that way (a flow-style `checks:`
list, an entry written through a YAML alias) is refused, naming the line.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import yaml

from orchestrator.errors import UsageError
from orchestrator.suggest import place_text

Where = tuple[str, str, str]  # a cell's (toolchain, target, release)

# keys that an entry's own `unless:` goes before when it has no `when:` to follow: what the
# entry is and checks stays first, its markers and reasons after
_TRAILING_KEYS = ("xfail", "flaky", "why")
_BLANK = " \t\r\n"


class Section(enum.StrEnum):
    """The list of scenario.yaml a blessed entry is an item of."""

    CHECKS = "checks"
    RUNS = "runs"


@dataclass(frozen=True, kw_only=True)
class Blessing:
    """One entry's suggestion for one cell.

    `index`: the entry's position in its list (Scenario.checks / .runs keep the file's order).
    `suggestion`: suggest.py's block (`- ...` then lines indented by two), narrowed to `where`.
    `replace`: the entry is narrowed to exactly this cell already: the suggestion replaces it.
    """

    section: Section
    index: int
    where: Where
    suggestion: str
    replace: bool = False


class UneditableError(UsageError):
    """scenario.yaml is written in a way --bless cannot edit by text (exit 2, as UsageError)."""


@dataclass(frozen=True, kw_only=True)
class _Edit:
    """Replace text[start:end] with `text` (an insertion where they are equal)."""

    start: int
    end: int
    text: str


def blessed_text(text: str, blessings: Sequence[Blessing], *, source: str = "scenario.yaml") -> str:
    """`text` with every blessing written in; `source` names the file in a refusal."""
    if not blessings:
        return text
    newline = _newline(text)
    # a last line without a line break gets one while lines are added after it
    padded = text if not text or text.endswith("\n") else text + newline
    try:
        # the pure-Python composer, whose marks are positions in the very string it read
        root = yaml.compose(padded, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise UneditableError(f"{source}: --bless cannot read it as YAML ({exc}).") from exc
    document = _Document(text=padded, source=source, root=root, newline=newline)
    edits: list[_Edit] = []
    for (section, index), group in _by_entry(blessings).items():
        edits += document.entry_edits(section, index, group)
    blessed = _applied(padded, edits)
    if padded is not text and all(edit.end < len(padded) for edit in edits):
        return blessed.removesuffix(newline)  # nothing came after the last line
    return blessed


def _by_entry(blessings: Sequence[Blessing]) -> dict[tuple[Section, int], list[Blessing]]:
    """The blessings of each entry in the order given, each cell once."""
    entries: dict[tuple[Section, int], list[Blessing]] = {}
    for blessing in blessings:
        group = entries.setdefault((blessing.section, blessing.index), [])
        if all(b.where != blessing.where for b in group):
            group.append(blessing)
    return entries


def _applied(text: str, edits: list[_Edit]) -> str:
    """`text` with the edits made; those at one position in the order they were made."""
    parts = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: e.start):  # a stable sort keeps that order
        assert edit.start >= cursor, "blessing edits overlap"
        parts += [text[cursor : edit.start], edit.text]
        cursor = edit.end
    return "".join([*parts, text[cursor:]])


def _newline(text: str) -> str:
    """The file's line break: CRLF if its first line ends so."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


@dataclass(frozen=True, kw_only=True)
class _Document:
    """The text and its composed nodes, with where things are in it."""

    text: str
    source: str
    root: yaml.Node | None
    newline: str

    def refuse(self, node: yaml.Node | None, problem: str) -> UneditableError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return UneditableError(
            f"{self.source}{line}: --bless cannot edit this file: {problem}; paste the "
            "suggestion from the report (results.json or the cell's detail) by hand."
        )

    # -- finding the entry -------------------------------------------------------------------

    def entry(self, section: Section, index: int) -> tuple[yaml.SequenceNode, yaml.MappingNode]:
        """The list `section` and its item `index`, both written out where they stand."""
        if not isinstance(self.root, yaml.MappingNode):
            raise self.refuse(self.root, "its top level is not a mapping")
        found = _value(self.root, section)
        if not isinstance(found, yaml.SequenceNode) or index >= len(found.value):
            raise self.refuse(found, f"`{section}:` has no entry {index} (was it edited?)")
        if found.flow_style:
            raise self.refuse(
                found, f"`{section}:` is a flow list ([...]); write it as a block list"
            )
        item = found.value[index]
        if not isinstance(item, yaml.MappingNode):
            raise self.refuse(item, f"{section}[{index}] is not a mapping")
        shared = _shared(self.root)
        if id(found) in shared or any(id(node) in shared for node in _subtree(item)):
            raise self.refuse(
                item, f"{section}[{index}] is written with a YAML alias (*name) or its anchor"
            )
        return found, item

    # -- the edits of one entry --------------------------------------------------------------

    def entry_edits(self, section: Section, index: int, blessings: list[Blessing]) -> list[_Edit]:
        """The edits that bless one entry for each of its cells (made in this order)."""
        sequence, item = self.entry(section, index)
        after_item = self.line_end(self.content_end(item))
        if len(blessings) == 1 and blessings[0].replace:
            replacement = self.reindented(blessings[0].suggestion, item.start_mark.column)
            return [_Edit(start=item.start_mark.index, end=after_item, text=replacement)]
        edits = self.unless_edits(item, [b.where for b in blessings])
        dash = " " * sequence.start_mark.column
        blocks = "".join(
            self.lines([dash + line for line in b.suggestion.splitlines()]) for b in blessings
        )
        edits.append(self.insertion(after_item, blocks))
        return edits

    def unless_edits(self, item: yaml.MappingNode, cells: list[Where]) -> list[_Edit]:
        """The entry narrowed away from `cells`: a new `unless:`, or them added to its own."""
        places = [place_text(where) for where in cells]
        pair = next(((k, v) for k, v in item.value if k.value == "unless"), None)
        if pair is None:
            return [self.new_unless(item, places)]
        key, found = pair
        if isinstance(found, yaml.MappingNode | yaml.SequenceNode) and found.flow_style:
            if found.start_mark.line == found.end_mark.line and not item.flow_style:
                return [self.flow_listed(key, found, places)]
            if isinstance(found, yaml.MappingNode):  # `{ ... }` over lines: `[{ ... }, ...]`
                start, end = found.start_mark.index, found.end_mark.index
                listed = "[" + ", ".join([self.text[start:end], *places]) + "]"
                return [_Edit(start=start, end=end, text=listed)]
            if found.value:
                end = self.content_end(found.value[-1])
                return [self.insertion(end, "".join(f", {p}" for p in places))]
        if isinstance(found, yaml.SequenceNode) and not found.flow_style:
            dash = " " * found.start_mark.column
            lines = self.lines([f"{dash}- {place}" for place in places])
            return [self.insertion(self.line_end(self.content_end(found)), lines)]
        if isinstance(found, yaml.MappingNode) and not found.flow_style:
            return self.block_place_listed(found, places)
        raise self.refuse(found, "its `unless:` is neither a place nor a list of places")

    def flow_listed(self, key: yaml.Node, found: yaml.Node, places: list[str]) -> _Edit:
        """A one-line `unless: { ... }` or `unless: [...]` as a block list, one place a line,
        the places it had first as they were written: the diff shows each cell blessed.
        """
        items = [found] if isinstance(found, yaml.MappingNode) else list(found.value)
        written = [self.text[n.start_mark.index : n.end_mark.index] for n in items]
        colon = self.text.index(":", key.end_mark.index)
        dash = " " * (key.start_mark.column + 2)
        listed = "".join(f"{self.newline}{dash}- {place}" for place in [*written, *places])
        return _Edit(start=colon + 1, end=found.end_mark.index, text=listed)

    def new_unless(self, item: yaml.MappingNode, places: list[str]) -> _Edit:
        """`unless:` after the entry's `when:`, else before its markers and why, else last."""
        if item.flow_style:
            value = places[0] if len(places) == 1 else "[" + ", ".join(places) + "]"
            last_value = item.value[-1][1]
            return self.insertion(self.content_end(last_value), f", unless: {value}")
        column = " " * item.start_mark.column
        if len(places) == 1:
            lines = self.lines([f"{column}unless: {places[0]}"])
        else:
            lines = self.lines([f"{column}unless:", *(f"{column}  - {p}" for p in places)])
        when = _value(item, "when")
        if when is not None:
            return self.insertion(self.line_end(self.content_end(when)), lines)
        trailing = next((key for key, _ in item.value if key.value in _TRAILING_KEYS), None)
        if trailing is not None:
            return self.insertion(self.line_start(trailing.start_mark.index), lines)
        return self.insertion(self.line_end(self.content_end(item)), lines)

    def block_place_listed(self, place: yaml.MappingNode, places: list[str]) -> list[_Edit]:
        """A block `unless:` mapping (one place) made the first item of a block list, then
        the new places after it: `- ` before its first key, its other lines two further in.
        """
        start, end = place.start_mark.index, self.content_end(place)
        edits = [self.insertion(start, "- ")]
        line = self.line_end(start)
        while line < end:
            if self.text[line : self.line_end(line)].strip():
                edits.append(self.insertion(line, "  "))
            line = self.line_end(line)
        dash = " " * place.start_mark.column
        lines = self.lines([f"{dash}- {p}" for p in places])
        edits.append(self.insertion(self.line_end(end), lines))
        return edits

    # -- positions and text ------------------------------------------------------------------

    def content_end(self, node: yaml.Node) -> int:
        """Just past the last character of `node` that is not blank: a block collection ends
        where its last value does; a block scalar's end mark lies past its line breaks.
        """
        while (
            isinstance(node, yaml.MappingNode | yaml.SequenceNode)
            and not node.flow_style
            and node.value
        ):
            last = node.value[-1]
            node = last[1] if isinstance(node, yaml.MappingNode) else last
        end = node.end_mark.index
        while end > node.start_mark.index and self.text[end - 1] in _BLANK:
            end -= 1
        return end

    def line_start(self, position: int) -> int:
        return self.text.rfind("\n", 0, position) + 1

    def line_end(self, position: int) -> int:
        """Just past the line break of the line `position` is on (a comment after it too)."""
        found = self.text.find("\n", position)
        return len(self.text) if found < 0 else found + 1

    def lines(self, lines: Sequence[str]) -> str:
        return "".join(line + self.newline for line in lines)

    def insertion(self, position: int, text: str) -> _Edit:
        return _Edit(start=position, end=position, text=text)

    def reindented(self, suggestion: str, column: int) -> str:
        """The suggestion's keys at `column`, its first key where the replaced entry's was."""
        first, *rest = suggestion.splitlines()
        indent = " " * column
        return self.lines([first.removeprefix("- "), *(indent + line[2:] for line in rest)])


def _value(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    return next((value for name, value in mapping.value if name.value == key), None)


def _subtree(node: yaml.Node) -> Iterator[yaml.Node]:
    """`node` and every node under it, each once."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack += _children(current)


def _shared(root: yaml.Node) -> set[int]:
    """The nodes reached twice: an anchor's node and the aliases that name it are one node,
    whose text stands at the anchor alone; editing it there would edit every alias too.
    """
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [root]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            shared.add(id(current))
            continue
        seen.add(id(current))
        stack += _children(current)
    return shared


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
