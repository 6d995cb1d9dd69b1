"""``Value``: equality and hashing by field, written once for every frozen dataclass of pepperpy's results.

A dataclass compiles its ``__eq__`` and ``__hash__`` from source when its class is made, as it does its
``__init__``: about a millisecond a class, paid by every program at import, most of which never compares two
results. These classes say ``eq=False`` and take both from here instead, with the dataclass semantics: equal
when of the same class and equal in every field that compares (``field(compare=False)`` is left out), hashed on
the same fields.
"""

from __future__ import annotations

from dataclasses import fields

__all__ = ["Value"]

_COMPARED: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # per class: (compared, hashed) field names


def _names(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names = _COMPARED.get(cls)
    if names is None:
        found = fields(cls)
        names = _COMPARED[cls] = (tuple(f.name for f in found if f.compare),
                                  tuple(f.name for f in found if (f.compare if f.hash is None else f.hash)))
    return names


class Value:
    """Base of the frozen result and spec dataclasses (``@dataclass(frozen=True, eq=False)``): ``==`` and
    ``hash`` over their fields, exactly as ``eq=True`` would generate them."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = _names(self.__class__)[0]  # tuples, as dataclass compares (a NaN equals itself as the same object)
        return tuple(getattr(self, name) for name in compared) == tuple(getattr(other, name) for name in compared)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in _names(self.__class__)[1]))
