"""Old import paths of modules that moved into the area packages, kept working.

Round 3 arranged the package by area (docs/architecture.md): ``pepperpy.budget`` became
``pepperpy.observe.budget``, ``pepperpy.transport`` became ``pepperpy.http.transport``, and so on. A program
written against an old path goes on working: ``import pepperpy.budget`` gives the very module object of its new
home (one module, so ``isinstance`` checks and monkeypatching agree). ``import pepperpy`` installs the finder;
nothing is imported until an old path is.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, cast

__all__ = ["MOVED", "install"]

MOVED = {  # old module -> where it lives now (docs and examples name the new paths)
    "pepperpy.audit": "pepperpy.observe.audit",
    "pepperpy.budget": "pepperpy.observe.budget",
    "pepperpy.cache": "pepperpy.resilience.cache",
    "pepperpy.catalog_files": "pepperpy.catalog._files",
    "pepperpy.catalog_sync": "pepperpy.client._catalog_sync",
    "pepperpy.events": "pepperpy.observe.events",
    "pepperpy.ratelimit": "pepperpy.resilience.limiter",
    "pepperpy.schema": "pepperpy.tools.schema",
    "pepperpy.structured": "pepperpy.tools.structured",
    "pepperpy.telemetry": "pepperpy.observe.telemetry",
    "pepperpy.tokens": "pepperpy.catalog.tokens",
    "pepperpy.transport": "pepperpy.http.transport",
    "pepperpy.usage": "pepperpy.observe.usage",
    "pepperpy.validation": "pepperpy.catalog.validation",
}


class _Alias:  # an importlib loader (the protocol only: importlib.abc costs ~8 ms to import)
    """Loads an old path as the module at its new one."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        return None  # already executed under its own name


class _MovedFinder:  # a meta path finder
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, cast(Any, _Alias(new)))


def install() -> None:
    """Put the finder on ``sys.meta_path`` once per process (``import pepperpy`` calls it)."""
    if not any(isinstance(finder, _MovedFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
