"""``evolve`` and ``builder``: ``dataclasses.replace`` and a class's own call, for the frozen, slotted values
pepperpy hands out, at half their cost.

A frozen dataclass's ``__init__`` stores each argument through ``object.__setattr__`` (looked up per field); pricing
a Completion through ``replace`` was two hundredths of an async call's CPU, and building the copy a cache hit hands
out a tenth of the hit. ``builder(cls)`` is a function of the same arguments, in field order, that makes the
instance and sets each slot through its descriptor, which is what ``__init__`` does for a class whose ``__init__``
only stores its arguments (every field in ``__init__``, no ``__post_init__``, no init-only variables); for any
other class it is the class itself. ``evolve`` copies each slot and sets the changed ones the same way; an unknown
field goes to ``replace`` itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

__all__ = ["builder", "evolve"]

T = TypeVar("T")


class _Made(NamedTuple):
    build: Callable[..., Any]               # the class's builder (the class itself when none is made)
    names: tuple[str, ...] | None = None    # its fields in order, for ``evolve`` (None: only ``replace`` will do)
    known: frozenset[str] = frozenset()


_MADE: dict[type, _Made] = {}  # per class: what was made for it


def _made(cls: type) -> _Made:
    made = _MADE.get(cls)
    if made is None:
        made = _MADE[cls] = _make(cls)
    return made


def _make(cls: type) -> _Made:
    """A builder of ``cls`` when its ``__init__`` only stores its arguments in its slots."""
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        return _Made(cls)
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__) or not all(f.init for f in fields):  # InitVar / ClassVar
        return _Made(cls)
    names = tuple(f.name for f in fields)
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    for i, name in enumerate(names):
        scope[f"set{i}"] = cls.__dict__[name].__set__  # the slot's member descriptor
    args = ", ".join(f"v{i}" for i in range(len(names)))
    lines = "".join(f"    set{i}(o, v{i})\n" for i in range(len(names)))
    exec(f"def build({args}):\n    o = new(cls)\n{lines}    return o\n", scope)  # as dataclasses writes __init__
    scope["build"].__qualname__ = f"builder({cls.__qualname__})"
    return _Made(scope["build"], names, frozenset(names))


def builder(cls: type[T]) -> Callable[..., T]:
    """``cls(*values)`` with every field's value given in order, without its ``__init__`` when that only stores
    them (the class itself otherwise)."""
    return _made(cls).build


def evolve(obj: T, **changes: Any) -> T:
    """``dataclasses.replace(obj, **changes)``: a copy of ``obj`` with ``changes``."""
    made = _made(type(obj))
    if made.names is None or not changes.keys() <= made.known:
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    new: T = made.build(*[changes[name] if name in changes else getattr(obj, name) for name in made.names])
    return new
