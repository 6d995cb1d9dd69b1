"""``evolve`` and ``builder``: ``dataclasses.replace`` and a class's own call, for the frozen, slotted values
pepperpy hands out, at a quarter and a half of their cost.

``replace`` walks the dataclass's fields and calls its ``__init__`` with every value; pricing a Completion that
way was two hundredths of an async call's CPU. ``evolve`` copies each slot and sets the changed ones, which is what
``replace`` does for a class whose ``__init__`` only stores its arguments (every field in ``__init__``, no
``__post_init__``, no init-only variables); any other class, or an unknown field, goes to the Value's own
``__replace__`` (``dataclasses.replace`` for a dataclass).

The copy is a function written once per class and set of changed fields, as ``dataclasses`` writes a class's
``__init__``: it reads each field as an attribute and stores it through the field's slot, where a loop over the
names (``getattr``, ``object.__setattr__``) cost twice as much, as much as the rest of pricing. ``builder(cls)``
is written the same way: ``cls(*values)`` with every field given in order, stored through the slots (a cache hit
makes its copy of the stored answer with it); ``builder(cls, *names)`` takes those fields only, the others at
their defaults (each text piece of a stream is a ``builder(Chunk, "text", "raw")``).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any, TypeVar

from ._value import MISSING

__all__ = ["builder", "evolve", "field_names"]

T = TypeVar("T")


def _fields(cls: type) -> list[tuple[str, Any]] | None:
    """Each field of a Value class or a dataclass as (name, default or MISSING), when every one is an ``__init__``
    argument kept as it is (no init-only variables, no ``__post_init__``); None otherwise."""
    if hasattr(cls, "__post_init__"):
        return None
    fields = getattr(cls, "__value_fields__", None)
    if fields is not None:
        if not all(f.init and not f.init_only for f in fields):
            return None
        return [(f.name, f.default) for f in fields]
    import dataclasses

    if not dataclasses.is_dataclass(cls):
        return None
    found = dataclasses.fields(cls)
    if len(found) != len(cls.__dataclass_fields__) or not all(f.init for f in found):  # InitVar / ClassVar
        return None
    return [(f.name, MISSING if f.default is dataclasses.MISSING else f.default) for f in found]


def field_names(value: Any) -> list[str]:
    """The names of the fields a Value or dataclass instance keeps, in order."""
    fields = getattr(value, "__value_fields__", None)
    if fields is not None:
        return [f.name for f in fields if not f.init_only]
    import dataclasses

    return [f.name for f in dataclasses.fields(value)]


@functools.cache
def _slots(cls: type) -> dict[str, Any] | None:
    """Each field's slot of ``cls`` by name, in order, when its ``__init__`` only stores its arguments in them;
    None when only the class does it right."""
    fields = _fields(cls) if "__slots__" in cls.__dict__ else None
    if fields is None:
        return None
    slots: dict[str, Any] = {name: getattr(cls, name, None) for name, _ in fields}
    if not all(name.isidentifier() and isinstance(slot, types.MemberDescriptorType) for name, slot in slots.items()):
        return None
    return slots


def builder(cls: type[T], *given: str) -> Callable[..., T]:
    """``cls(*values)`` with every field's value given in order, without its ``__init__`` when that only stores
    them (the class itself otherwise). With ``given`` field names, a function of those fields' values only, the
    others taking their defaults: ``builder(Chunk, "text", "raw")("hi", raw)``."""
    made = _builder(cls, given)  # type: ignore[arg-type]  # a class is hashable
    if made is not None:
        return made
    if not given:
        return cls
    return lambda *values: cls(**dict(zip(given, values, strict=True)))


@functools.cache
def _builder(cls: type, given: tuple[str, ...]) -> Callable[..., Any] | None:
    slots = _slots(cls)
    if slots is None or not set(given) <= set(slots):
        return None
    given = given or tuple(slots)
    defaults: dict[str, Any] = {}
    for name, default in _fields(cls) or ():
        if name not in given:
            if default is MISSING:  # no default, or a default_factory (a fresh value per instance)
                return None
            defaults[f"_d_{name}"] = default
    values = {name: f"_{given.index(name)}" if name in given else f"_d_{name}" for name in slots}
    return _written(cls, slots, [f"_{i}" for i in range(len(given))], values, defaults)


@functools.cache
def _copier(cls: type, changed: tuple[str, ...]) -> Callable[..., Any] | None:
    """The copy of a ``cls`` value with the fields ``changed``: a function of (the value, the new values in
    ``changed``'s order); None when only ``replace`` does it right."""
    slots = _slots(cls)
    if slots is None or not set(changed) <= set(slots):
        return None
    values = {name: f"_{changed.index(name)}" if name in changed else f"obj.{name}" for name in slots}
    return _written(cls, slots, ["obj", *(f"_{i}" for i in range(len(changed)))], values, {})


def _written(cls: type, slots: dict[str, Any], params: list[str], values: dict[str, str],
             constants: dict[str, Any]) -> Callable[..., Any]:
    """A function of ``params`` making a ``cls`` value whose every field is stored through its slot, as a frozen
    dataclass's own ``__init__`` stores it (``object.__setattr__``), from the expression ``values`` gives it (a
    parameter, a ``constants`` name or ``obj.field``). Parameters are ``obj`` and ``_0``, ``_1``...: no field name
    can clash with them or with the function's own names; field names are identifiers (checked by ``_slots``)."""
    lines = "".join(f"    _set_{name}(new, {values[name]})\n" for name in slots)
    source = f"def _make({', '.join(params)}):\n    new = _new(_cls)\n{lines}    return new\n"
    scope: dict[str, Any] = {"_cls": cls, "_new": object.__new__, **constants}
    scope.update({f"_set_{name}": slot.__set__ for name, slot in slots.items()})
    exec(source, scope)  # values come in as arguments or constants, never as source text
    made: Callable[..., Any] = scope["_make"]
    return made


def evolve(obj: T, /, **changes: Any) -> T:
    """``dataclasses.replace(obj, **changes)``: a copy of ``obj`` with ``changes``."""
    copy = _copier(type(obj), tuple(changes))  # type: ignore[arg-type]  # a class is hashable
    if copy is None:
        if hasattr(obj, "__value_fields__"):
            return obj.__replace__(**changes)  # type: ignore[attr-defined, no-any-return]
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    return copy(obj, *changes.values())  # type: ignore[no-any-return]
