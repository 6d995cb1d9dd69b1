"""Validated JSON back into the user's type: a dataclass (nested ones too), a TypedDict, a pydantic model.

The JSON has already passed the schema made from the same type, so this only builds: dataclasses from
objects, Enum members from values, datetimes and UUIDs from strings, tuples and sets from arrays. A pydantic
model builds itself (``model_validate``).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import typing
import uuid
from typing import Any, Literal, get_args, get_origin

from .schema import _ARRAYS, _OBJECTS, _SETS, _UNION_TYPES, _WRAPPERS, is_pydantic_model, is_typeddict

__all__ = ["to_target"]


def to_target(target: Any, data: Any) -> Any:
    """``data`` as an instance of ``target`` (None: ``data`` unchanged)."""
    return data if target is None else _build(target, data)


def _build(tp: Any, value: Any) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Annotated or (origin is not None and getattr(origin, "_name", None) in _WRAPPERS):
        return _build(args[0], value)
    if tp is Any or tp is object or origin is Literal:
        return value
    if origin in _UNION_TYPES:
        return _union(args, value)
    if isinstance(tp, type):
        if is_pydantic_model(tp):
            return tp.model_validate(value)  # type: ignore[attr-defined]
        if dataclasses.is_dataclass(tp) and isinstance(value, dict):
            return _dataclass(tp, value)
        if is_typeddict(tp) and isinstance(value, dict):
            hints = typing.get_type_hints(tp, include_extras=True)
            return {key: _build(hints[key], item) if key in hints else item for key, item in value.items()}
        if issubclass(tp, enum.Enum):
            return tp(value)
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)  # JSON has one number type; 3 is a valid float answer
        if tp is datetime.datetime and isinstance(value, str):
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if tp in (datetime.date, datetime.time) and isinstance(value, str):
            return tp.fromisoformat(value)
        if tp is uuid.UUID and isinstance(value, str):
            return uuid.UUID(value)
    container = origin or tp
    if container in _ARRAYS and isinstance(value, list):
        if container in (tuple, typing.Tuple):  # noqa: UP006
            if args and not (len(args) == 2 and args[1] is Ellipsis):
                return tuple(_build(a, v) for a, v in zip(args, value, strict=False))
            return tuple(_build(args[0], v) for v in value) if args else tuple(value)
        items = [_build(args[0], v) for v in value] if args else list(value)
        return (frozenset(items) if container is frozenset else set(items)) if container in _SETS else items
    if container in _OBJECTS and isinstance(value, dict) and len(args) == 2:
        return {key: _build(args[1], item) for key, item in value.items()}
    if isinstance(tp, typing.NewType):
        return _build(tp.__supertype__, value)
    return value


def _union(args: tuple[Any, ...], value: Any) -> Any:
    if value is None and type(None) in args:
        return None
    errors: list[Exception] = []
    for member in (a for a in args if a is not type(None)):
        if not _fits(member, value):
            continue
        try:
            return _build(member, value)
        except (TypeError, ValueError) as exc:  # the next member may be the one
            errors.append(exc)
    if errors:
        raise errors[0]
    return value


def _fits(tp: Any, value: Any) -> bool:
    """A cheap check that ``value``'s JSON kind can be ``tp`` (for picking a union member)."""
    tp = get_args(tp)[0] if get_origin(tp) is typing.Annotated else tp
    base = get_origin(tp) or tp
    if isinstance(value, dict):
        return base in _OBJECTS or (isinstance(base, type) and (
            dataclasses.is_dataclass(base) or is_typeddict(base) or is_pydantic_model(base)))
    if isinstance(value, list):
        return base in _ARRAYS
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return value in {m.value for m in base}
    if base is bool:
        return isinstance(value, bool)
    if base in (int, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base in (str, datetime.datetime, datetime.date, datetime.time, uuid.UUID):
        return isinstance(value, str)
    return True


def _dataclass(cls: type, value: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.name not in value:
            continue
        kwargs[f.name] = _build(hints.get(f.name, Any), value[f.name])
    return cls(**kwargs)
