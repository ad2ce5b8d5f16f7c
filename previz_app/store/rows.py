"""Row <-> dataclass conversion shared by the aggregate modules."""

from __future__ import annotations

import json
from dataclasses import fields
from enum import Enum
from functools import cache
from typing import Any, Callable, TypeVar, get_type_hints

T = TypeVar("T")


@cache
def _readers(cls: type) -> dict[str, Callable[[Any], Any]]:
    """For each field of `cls`, how to turn its column value back into the field's type."""
    readers: dict[str, Callable[[Any], Any]] = {}
    for name, hint in get_type_hints(cls).items():
        if isinstance(hint, type) and issubclass(hint, Enum):
            readers[name] = hint
        elif hint is bool:
            readers[name] = bool
        elif getattr(hint, "__origin__", None) is tuple:
            readers[name] = lambda text: tuple(json.loads(text))
        else:
            readers[name] = lambda item: item
    return readers


def to_column(item: Any) -> Any:
    """A field value as a column value: tuples become JSON lists, flags 0/1."""
    if isinstance(item, tuple):
        return json.dumps(list(item))
    if isinstance(item, bool):
        return int(item)
    return item


def to_columns(values: dict[str, Any]) -> dict[str, Any]:
    return {name: to_column(item) for name, item in values.items()}


def to_row(value: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dataclass as a row dict; a None id and the fields in `skip` are left out."""
    return {
        f.name: to_column(getattr(value, f.name))
        for f in fields(value)
        if f.name not in skip and not (f.name == "id" and value.id is None)
    }


def from_row(cls: type[T], row: dict[str, Any], **extra: Any) -> T:
    """Build `cls` from a row dict; `extra` supplies fields that are not columns."""
    readers = _readers(cls)
    values = {name: read(row[name]) for name, read in readers.items() if name in row}
    values.update(extra)
    return cls(**values)
