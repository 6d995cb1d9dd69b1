"""``Value``: equality, hashing and repr by field, written once for every frozen dataclass of pepperpy's results.

A dataclass compiles its ``__eq__``, ``__hash__`` and ``__repr__`` from source when its class is made, as it does
its ``__init__``: about a millisecond a class, paid by every program at import, most of which never compares or
prints two results. These classes say ``eq=False, repr=False`` and take them from here instead, with the dataclass
semantics: equal when of the same class and equal in every field that compares (``field(compare=False)`` is left
out), hashed on the same fields, shown as ``Name(field=value, ...)`` with the fields that show
(``field(repr=False)`` is left out). Classes with a repr of their own keep it.
"""

from __future__ import annotations

from dataclasses import fields

__all__ = ["Value"]

# per class: the names of the fields that compare, that hash, and that show in a repr
_NAMES: dict[type, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}


def _names(cls: type) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    names = _NAMES.get(cls)
    if names is None:
        found = fields(cls)
        names = _NAMES[cls] = (tuple(f.name for f in found if f.compare),
                               tuple(f.name for f in found if (f.compare if f.hash is None else f.hash)),
                               tuple(f.name for f in found if f.repr))
    return names


class Value:
    """Base of the frozen result and spec dataclasses (``@dataclass(frozen=True, eq=False, repr=False)``): ``==``,
    ``hash`` and ``repr`` over their fields, exactly as ``eq=True`` and ``repr=True`` would generate them."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = _names(self.__class__)[0]  # tuples, as dataclass compares (a NaN equals itself as the same object)
        return tuple(getattr(self, name) for name in compared) == tuple(getattr(other, name) for name in compared)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in _names(self.__class__)[1]))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _names(self.__class__)[2])
        return f"{self.__class__.__qualname__}({shown})"
