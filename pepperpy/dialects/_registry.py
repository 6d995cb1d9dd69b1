"""Which wire dialects exist: the ones pepperpy ships, the ones registered in code
(``pepperpy.register_dialect``), and the ones other packages declare under the entry-point group
``pepperpy.dialects``.

A separate package adds a wire format without a change to pepperpy: it declares

```toml
[project.entry-points."pepperpy.dialects"]
acme = "acme_pepperpy:DIALECT"      # a pepperpy.dialects.base.Dialect instance (or subclass)
```

and a catalog file may then say ``dialect: acme``. Installed packages' entry points are read only when a name is
neither shipped nor registered, that is only for a catalog that names such a dialect, and once per ``sys.path``:
never for the packaged catalog, never on a call's path (``get_dialect`` caches the object it finds).

This module stays light (the catalog's checks import it): it imports no dialect and no HTTP code.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

from .. import errors

__all__ = ["ENTRY_POINT_GROUP", "NAME", "SHIPPED", "declared", "is_known", "known_names", "register", "registered",
           "unknown_dialect"]

SHIPPED = ("openai", "anthropic", "gemini", "ollama", "stackspot")
ENTRY_POINT_GROUP = "pepperpy.dialects"
NAME = re.compile(r"^[a-z][a-z0-9_-]*$")  # the catalog schema's pattern for dialect names


class _Registry:
    """Registered dialects by name, and the entry points of the installed packages (scanned on demand)."""

    lock = threading.Lock()
    dialects: dict[str, Any] = {}  # name -> the Dialect object registered, or loaded from an entry point
    entry_points: dict[str, Any] | None = None  # name -> EntryPoint, for the sys.path below
    scanned_path: tuple[str, ...] = ()


def register(name: str, dialect: Any, *, replace: bool = False) -> None:
    """Make ``dialect`` the wire format of catalog files that say ``dialect: <name>`` (checked by the caller,
    ``pepperpy.dialects.base.register_dialect``)."""
    if not isinstance(name, str) or not NAME.match(name):
        raise errors.ConfigurationError(f"register_dialect takes a dialect name of lowercase letters, digits, '_' "
                                        f"and '-', starting with a letter (a catalog file's dialect:), not {name!r}")
    if name in SHIPPED:
        raise errors.ConfigurationError(f"{name!r} is a dialect pepperpy ships; register yours under another name and "
                                        f"name that in your catalog files")
    with _Registry.lock:
        current = _Registry.dialects.get(name)
        if current is not None and current is not dialect and not replace:
            raise errors.ConfigurationError(f"dialect {name!r} is already registered (to {current!r}); pass "
                                            f"replace=True to replace it")
        _Registry.dialects[name] = dialect


def unregister(name: str) -> None:
    """Forget a registered dialect (tests)."""
    with _Registry.lock:
        _Registry.dialects.pop(name, None)


def registered(name: str) -> Any:
    """The object registered under ``name``, else loaded from the entry point of that name (the entry points are
    read here, and only here, when the name is not registered); None when neither has it."""
    with _Registry.lock:
        found = _Registry.dialects.get(name)
    if found is not None:
        return found
    point = _entry_points().get(name)
    if point is None:
        return None
    try:
        loaded = point.load()
    except Exception as exc:  # a broken plugin: say which package, and why
        raise errors.ConfigurationError(f"dialect {name!r} comes from the entry point {point.value!r} (group "
                                        f"{ENTRY_POINT_GROUP!r}), which failed to load: {type(exc).__name__}: "
                                        f"{exc}") from exc
    with _Registry.lock:
        return _Registry.dialects.setdefault(name, loaded)


def is_known(name: str) -> bool:
    """Whether a catalog file may name this dialect: shipped, registered, or declared by an installed package
    (the entry points are only read for a name that is neither of the first two)."""
    if name in SHIPPED:
        return True
    with _Registry.lock:
        if name in _Registry.dialects:
            return True
    return name in _entry_points()


def declared() -> list[str]:
    """The names installed packages declare (reads the entry points)."""
    return sorted(_entry_points())


def known_names() -> list[str]:
    """Every dialect name a catalog file may use: shipped, then registered and declared ones, sorted."""
    with _Registry.lock:
        extra = set(_Registry.dialects)
    return [*SHIPPED, *sorted((extra | set(_entry_points())) - set(SHIPPED))]


def unknown_dialect(name: str) -> str:
    """The message for a dialect name nobody knows, with every known one."""
    return (f"unknown dialect {name!r}; known: {', '.join(known_names())} (a dialect of another package is known "
            f"once that package is installed, through its {ENTRY_POINT_GROUP!r} entry point, or registered with "
            f"pepperpy.register_dialect)")


def _entry_points() -> dict[str, Any]:
    path = tuple(sys.path)
    with _Registry.lock:
        if _Registry.entry_points is not None and _Registry.scanned_path == path:
            return _Registry.entry_points
    from importlib.metadata import entry_points

    found = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
    with _Registry.lock:
        _Registry.entry_points, _Registry.scanned_path = found, path
    return found
