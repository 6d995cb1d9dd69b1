"""``evolve``: ``dataclasses.replace`` for the frozen, slotted values pepperpy hands out, at half its cost.

``replace`` walks the dataclass's fields and calls its ``__init__`` with every value; pricing a Completion that
way was two hundredths of an async call's CPU. ``evolve`` copies each slot and sets the changed ones, which is what
``replace`` does for a class whose ``__init__`` only stores its arguments (every field in ``__init__``, no
``__post_init__``, no init-only variables); any other class, or an unknown field, goes to ``replace`` itself.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, TypeVar

__all__ = ["evolve"]

T = TypeVar("T")


@functools.cache
def _slots(cls: type) -> tuple[tuple[str, ...], frozenset[str]] | None:
    """The fields ``evolve`` copies for ``cls`` (in order, and as a set), or None when only ``replace`` does it
    right."""
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        return None
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__) or not all(f.init for f in fields):  # InitVar / ClassVar
        return None
    return tuple(f.name for f in fields), frozenset(f.name for f in fields)


def evolve(obj: T, **changes: Any) -> T:
    """``dataclasses.replace(obj, **changes)``: a copy of ``obj`` with ``changes``."""
    found = _slots(type(obj))  # type: ignore[arg-type]  # a class is hashable
    if found is None or not changes.keys() <= found[1]:
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    names = found[0]
    new = object.__new__(type(obj))
    for name in names:  # object.__setattr__, as a frozen dataclass's own __init__ sets its fields
        object.__setattr__(new, name, changes[name] if name in changes else getattr(obj, name))
    return new
