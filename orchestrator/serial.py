"""Frozen dataclasses to JSON-ready data and back, driven by their type hints."""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import os
import tempfile
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

# Field metadata: leave the key out of the data while the value is None (an optional key that
# only some documents carry), rather than writing null.
OMIT_WHEN_NONE: Mapping[str, bool] = {"omit_when_none": True}


def to_data(value: Any) -> Any:
    """Dataclasses become dicts (keys in field order), enums their values, tuples lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_data(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get("omit_when_none") and getattr(value, f.name) is None)
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_data(item) for item in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def from_data(cls: type[T], data: Any) -> T:
    """The inverse of `to_data` for a dataclass type `cls`."""
    return typing.cast("T", _build(cls, data))


def _build(hint: Any, data: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return None if data is None else _build(options[0], data)
    if origin is tuple:
        return _build_tuple(typing.get_args(hint), data)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = _type_hints(hint)  # resolving the hints is most of a small record's cost
        fields = {
            f.name: _build(hints[f.name], data[f.name])
            for f in dataclasses.fields(hint)
            if f.name in data
        }
        return hint(**fields)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data)
    return data


def _build_tuple(args: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    if len(args) == 2 and args[1] is Ellipsis:
        if args[0] is str:  # symbol lists hold up to millions of names: no call per name
            return tuple(data)
        if args[0] == tuple[str, str]:  # and (mangled, demangled) pairs as many
            return tuple(map(tuple, data))
        return tuple(_build(args[0], item) for item in data)
    return tuple(_build(arg, item) for arg, item in zip(args, data, strict=True))


class DataError(ValueError):
    """Data that does not have the shape or types a dataclass declares; says where."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where or 'the document'}: {problem}")
        self.where = where
        self.problem = problem


def decode(cls: type[T], data: object) -> T:
    """`from_data`, checking every value against the type hints; raises DataError.

    A dataclass takes a mapping with exactly its fields (those with defaults may be absent),
    a tuple a list (`tuple[X, Y]`: of exactly that many items), a mapping an object, an enum
    one of its values, str/int/float/bool a value of that JSON type (an int is a float too; a
    bool is neither).
    """
    return typing.cast("T", _decode(cls, data, ""))


def _decode(hint: Any, data: object, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _decode_optional(hint, data, where)
    if origin is tuple:
        return _decode_tuple(hint, data, where)
    if origin in (dict, Mapping):
        return _decode_mapping(hint, data, where)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, data, where)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        known = [member.value for member in hint]
        if data not in known:
            raise DataError(where, f"{data!r} is not one of {', '.join(map(str, known))}")
        return hint(data)
    return _decode_scalar(hint, data, where)


def _decode_optional(hint: Any, data: object, where: str) -> Any:
    options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if len(options) != 1:
        raise TypeError(f"decode handles `X | None` only, not {hint}")
    return None if data is None else _decode(options[0], data, where)


def _decode_tuple(hint: Any, data: object, where: str) -> tuple[Any, ...]:
    args = typing.get_args(hint)
    if not isinstance(data, list):
        raise DataError(where, f"expected a list, found {_json_type(data)}")
    if Ellipsis not in args:  # `tuple[X, Y]`: exactly one item of each
        if len(data) != len(args):
            raise DataError(where, f"expected a list of {len(args)} items, found {len(data)}")
        return tuple(
            _decode(arg, item, f"{where}[{index}]")
            for index, (arg, item) in enumerate(zip(args, data, strict=True))
        )
    if len(args) != 2:
        raise TypeError(f"decode handles `tuple[X, ...]` and `tuple[X, Y]` only, not {hint}")
    if args[0] is str and all(type(item) is str for item in data):
        return tuple(data)  # symbol lists hold up to millions of names: the quick way first
    return tuple(_decode(args[0], item, f"{where}[{index}]") for index, item in enumerate(data))


def _decode_mapping(hint: Any, data: object, where: str) -> dict[Any, Any]:
    key_type, value_type = typing.get_args(hint)
    if not isinstance(data, dict):
        raise DataError(where, f"expected an object, found {_json_type(data)}")
    if (
        key_type is str
        and value_type is str
        and all(type(k) is str and type(v) is str for k, v in data.items())
    ):
        return dict(data)  # demangled-name maps hold thousands of pairs: the quick way first
    return {
        _decode(key_type, key, where): _decode(value_type, value, _at(where, str(key)))
        for key, value in data.items()
    }


def _decode_dataclass(hint: Any, data: object, where: str) -> Any:
    if not isinstance(data, dict):
        raise DataError(where, f"expected an object, found {_json_type(data)}")
    fields = {f.name: f for f in dataclasses.fields(hint)}
    if unknown := [key for key in data if key not in fields]:
        raise DataError(where, f"unknown key {unknown[0]!r}")
    hints = _type_hints(hint)
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = _decode(hints[name], data[name], _at(where, name))
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise DataError(where, f"missing key {name!r}")
    return hint(**values)


@functools.cache
def _type_hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# The Python types a JSON value of each annotated scalar type may have.
SCALARS: dict[type, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (int, float),
    bool: (bool,),
}


def _decode_scalar(hint: Any, data: object, where: str) -> Any:
    accepted = SCALARS.get(hint)
    if accepted is None:
        raise TypeError(f"decode does not handle {hint}")
    if (isinstance(data, bool) and hint is not bool) or not isinstance(data, accepted):
        raise DataError(where, f"expected {hint.__name__}, found {_json_type(data)}")
    return data


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _json_type(data: object) -> str:
    """The JSON name of a parsed value's type: what a message about it should say."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    names |= {int: "an integer", float: "a number", type(None): "null"}
    return names.get(type(data), type(data).__name__)


def write_json_atomic(path: Path, document: Any) -> None:
    """Write to a temporary file beside `path`, then rename over it: never a torn file.

    A write that fails (the disk full) raises an OSError naming `path`, as opening it would.
    """

    def dump(stream: TextIO) -> None:
        json.dump(document, stream, indent=2, sort_keys=False)
        stream.write("\n")

    _write_atomic(path, dump)


def write_text_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """`text` into `path` as write_json_atomic writes a document: whole or not at all.

    `mode`: the file's permission bits (the temporary file's are 0600): a file of the user's
    that is rewritten keeps its own.
    """
    _write_atomic(path, lambda stream: stream.write(text), mode=mode)


def _write_atomic(
    path: Path, write: Callable[[TextIO], object], *, mode: int | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            write(stream)
        Path(temp).replace(path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        if exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
