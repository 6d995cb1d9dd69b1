"""The hooks of one Client (``client.on(event, fn)``), by event, and how they are called (``emit``).

Apart from the event objects (``events``), so that a Client keeps its (empty) hooks without building the event
classes: an event object is made only when a hook listens for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal

from .._redact import get_logger
from ..errors import ConfigurationError

__all__ = ["EVENTS", "EventName", "Hook", "Hooks", "emit"]

EventName = Literal["request", "response", "retry", "fallback", "breaker", "cache_hit"]
EVENTS: tuple[str, ...] = ("request", "response", "retry", "fallback", "breaker", "cache_hit")
Hook = Callable[[Any], object]

log = get_logger("pepperpy.events")


class Hooks:
    """The hooks of one Client, by event. Each attribute is a tuple (empty: nobody listens), replaced whole
    under a lock when a hook is added or removed, so the hot path reads it without locking."""

    __slots__ = ("_lock", "breaker", "cache_hit", "fallback", "request", "response", "retry")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.request: tuple[Hook, ...] = ()
        self.response: tuple[Hook, ...] = ()
        self.retry: tuple[Hook, ...] = ()
        self.fallback: tuple[Hook, ...] = ()
        self.breaker: tuple[Hook, ...] = ()
        self.cache_hit: tuple[Hook, ...] = ()

    def add(self, event: str, fn: Hook) -> None:
        name = _check(event)
        if not callable(fn):
            raise ConfigurationError(f"client.on({event!r}, fn): fn must be callable (it gets the event object), "
                                     f"not {type(fn).__name__}")
        with self._lock:
            setattr(self, name, (*getattr(self, name), fn))

    def remove(self, event: str, fn: Hook) -> bool:
        """Remove one registration of ``fn``; False when it was not registered for ``event``."""
        name = _check(event)
        with self._lock:
            fns = list(getattr(self, name))
            if fn not in fns:
                return False
            fns.remove(fn)
            setattr(self, name, tuple(fns))
        return True

    def after_fork(self) -> None:
        self._lock = threading.Lock()


def emit(fns: tuple[Hook, ...], event: Any) -> None:
    """Call each hook with ``event``; one that raises is logged with its traceback and skipped."""
    for fn in fns:
        try:
            fn(event)
        except Exception:
            log.exception("a %s hook raised (the call goes on): %r", type(event).__name__, fn)


def _check(event: str) -> str:
    if event not in EVENTS:
        import difflib

        close = difflib.get_close_matches(str(event), EVENTS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigurationError(f"unknown event {event!r}{hint}; the events are {', '.join(EVENTS)}")
    return event
