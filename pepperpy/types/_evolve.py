"""``evolve`` and ``builder``: ``dataclasses.replace`` and a class's own call, for the frozen, slotted values
pepperpy hands out, at a quarter and a half of their cost.

``replace`` walks the dataclass's fields and calls its ``__init__`` with every value; pricing a Completion that
way was two hundredths of an async call's CPU. ``evolve`` copies each slot and sets the changed ones, which is what
``replace`` does for a class whose ``__init__`` only stores its arguments (every field in ``__init__``, no
``__post_init__``, no init-only variables); any other class, or an unknown field, goes to ``replace`` itself.

The copy is a function written once per class and set of changed fields, as ``dataclasses`` writes a class's
``__init__``: it reads each field as an attribute and stores it through the field's slot, where a loop over the
names (``getattr``, ``object.__setattr__``) cost twice as much, as much as the rest of pricing. ``builder(cls)``
is written the same way: ``cls(*values)`` with every field given in order, stored through the slots (a cache hit
makes its copy of the stored answer with it).
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["builder", "evolve"]

T = TypeVar("T")


@functools.cache
def _slots(cls: type) -> dict[str, Any] | None:
    """Each field's slot of ``cls`` by name, in order, when its ``__init__`` only stores its arguments in them (every
    field in ``__init__``, no ``__post_init__``, no init-only variables); None when only the class does it right."""
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        return None
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__) or not all(f.init for f in fields):  # InitVar / ClassVar
        return None
    slots: dict[str, Any] = {f.name: getattr(cls, f.name, None) for f in fields}
    if not all(name.isidentifier() and isinstance(slot, types.MemberDescriptorType) for name, slot in slots.items()):
        return None
    return slots


def builder(cls: type[T]) -> Callable[..., T]:
    """``cls(*values)`` with every field's value given in order, without its ``__init__`` when that only stores
    them (the class itself otherwise)."""
    return _builder(cls)  # type: ignore[arg-type]  # a class is hashable


@functools.cache
def _builder(cls: type) -> Callable[..., Any]:
    slots = _slots(cls)
    if slots is None:
        return cls
    lines = "".join(f"    _set_{name}(new, _{i})\n" for i, name in enumerate(slots))
    source = "def _build({}):\n    new = _new(_cls)\n{}    return new\n".format(
        ", ".join(f"_{i}" for i in range(len(slots))), lines)
    scope: dict[str, Any] = {"_cls": cls, "_new": object.__new__}
    scope.update({f"_set_{name}": slot.__set__ for name, slot in slots.items()})
    exec(source, scope)  # field names are identifiers (checked by _slots); values come in as arguments
    build: Callable[..., Any] = scope["_build"]
    return build


@functools.cache
def _copier(cls: type, changed: tuple[str, ...]) -> Callable[..., Any] | None:
    """The copy of a ``cls`` value with the fields ``changed``: a function of (the value, the new values in
    ``changed``'s order); None when only ``replace`` does it right."""
    slots = _slots(cls)
    if slots is None or not set(changed) <= set(slots):
        return None
    names = list(slots)
    # a field's slot stores its value as a frozen dataclass's own __init__ does (object.__setattr__); the new
    # values are parameters _0, _1...: no field name can clash with them or with the function's own names
    lines = [f"    _set_{name}(copy, _{changed.index(name)})" if name in changed else
             f"    _set_{name}(copy, obj.{name})" for name in names]
    source = "def _copy(obj, {}):\n    copy = _new(_cls)\n{}\n    return copy\n".format(
        ", ".join(f"_{i}" for i in range(len(changed))), "\n".join(lines))
    scope: dict[str, Any] = {"_cls": cls, "_new": object.__new__}
    scope.update({f"_set_{name}": slot.__set__ for name, slot in slots.items()})
    exec(source, scope)  # field names are identifiers (checked above); values come in as arguments
    copy: Callable[..., Any] = scope["_copy"]
    return copy


def evolve(obj: T, /, **changes: Any) -> T:
    """``dataclasses.replace(obj, **changes)``: a copy of ``obj`` with ``changes``."""
    copy = _copier(type(obj), tuple(changes))  # type: ignore[arg-type]  # a class is hashable
    if copy is None:
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    return copy(obj, *changes.values())  # type: ignore[no-any-return]
