"""Compare two results.json files of the same matrix: verdicts first, then every recorded fact.

For a change that must not change output (a refactor, a new cache), run the whole matrix before
and after and compare:

    python tools/compare_runs.py BEFORE/results.json AFTER/results.json
    python tools/compare_runs.py --common BEFORE/results.json AFTER/results.json  # a subset run

`--common` compares only the cells both files hold (an `--only` run against a whole matrix).

Timings, the cached flag, run ids and the log tails' "in N s" figures differ between any two
runs and are left out; everything else (status, reason, detail, tool versions, every artifact's
exports/imports/needed/data/members/demangled names, sha256, build commands, diagnostics, checks,
run outputs) is compared. Exit 0 when nothing but those differs, 1 otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from orchestrator.results.codec import expand

VOLATILE_KEYS = {"duration_s", "cached"}
TIMING = re.compile(r"\b(in|after) \d+(\.\d+)? s\b")


def normalized(value: Any) -> Any:
    """The value without what differs between any two runs of the same inputs."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [normalized(item) for item in value]
    if isinstance(value, str):
        return TIMING.sub(r"\1 N s", value)
    return value


def differences(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, before, after) for every leaf that differs; list items by position or name."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in dict.fromkeys([*before, *after]):
            found += differences(before.get(key), after.get(key), f"{path}.{key}")
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            label = old.get("name", index) if isinstance(old, dict) else index
            found += differences(old, new, f"{path}[{label}]")
        return found
    return [] if before == after else [(path, before, after)]


def read_cells(path: str) -> list[Any]:
    """The file's cells with every name spelled out (a version-2 file stores symbol indices,
    which differ between any two runs' files; the names they stand for are the facts).
    """
    data = json.loads(Path(path).read_text())
    if data.get("schema_version") != 1:
        data = expand(data)
    cells: list[Any] = data["cells"]
    return cells


def main(before_path: str, after_path: str, *, common: bool = False) -> int:
    before = {c["id"]: c for c in read_cells(before_path)}
    after = {c["id"]: c for c in read_cells(after_path)}
    if common:
        before = {i: c for i, c in before.items() if i in after}
        after = {i: c for i, c in after.items() if i in before}
    print(f"cells: {len(before)} before, {len(after)} after")
    only = sorted(set(before) ^ set(after))
    for cell_id in only:
        print(f"  only {'before' if cell_id in before else 'after'}: {cell_id}")
    verdicts = Counter(c["status"] for c in after.values())
    print("verdicts after: " + ", ".join(f"{n} {s}" for s, n in sorted(verdicts.items())))
    moved = [
        (i, before[i]["status"], after[i]["status"])
        for i in sorted(set(before) & set(after))
        if (before[i]["status"], before[i]["reason"]) != (after[i]["status"], after[i]["reason"])
    ]
    print(f"verdicts changed: {len(moved)}")
    for cell_id, old, new in moved:
        print(f"  {cell_id}: {old} -> {new}")
    by_field: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for cell_id in sorted(set(before) & set(after)):
        for path, old, new in differences(normalized(before[cell_id]), normalized(after[cell_id])):
            field = re.sub(r"\[[^\]]*\]", "[]", path)
            by_field[field] += 1
            examples.setdefault(field, f"{cell_id}{path}: {str(old)[:150]!r} -> {str(new)[:150]!r}")
    print(f"facts changed: {sum(by_field.values())} in {len(by_field)} fields")
    for field, count in by_field.most_common():
        print(f"  {count:5d} {field}\n        e.g. {examples[field]}")
    return 0 if not (only or moved or by_field) else 1


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--common"]
    sys.exit(main(*arguments[:2], common="--common" in sys.argv[1:]))
