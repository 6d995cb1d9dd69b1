"""Names a package re-exports from its modules, loaded when first read: ``import pepperpy.media`` (or a module of
an area, which runs its package first) costs nothing until a name is used.

>>> __getattr__, __dir__ = lazy(__name__, {"Image": "_values", "AudioStream": "_streams"})   # doctest: +SKIP

A package writes the same names under ``if TYPE_CHECKING:`` for type checkers and IDEs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy"]


def lazy(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name in ``names`` comes from the module it maps to (relative
    to the package, e.g. ``"_values"``, or a whole ``pepperpy.`` name), imported on first use and then kept in
    the package's namespace. A plain module may use it too, its names then mapped to whole module names."""
    def attribute(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = module if module.startswith("pepperpy.") else f"{package}.{module}"
        value = getattr(importlib.import_module(target), name)
        setattr(sys.modules[package], name, value)
        return value

    def listing() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return attribute, listing
