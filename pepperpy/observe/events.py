"""Hooks on what a Client does: ``client.on(event, fn)`` calls ``fn`` with a small typed event object.

>>> client.on("response", lambda e: print(e.provider, e.model, e.status, e.cost))   # doctest: +SKIP

======================  ====================  ==========================================================
event                   object                when
======================  ====================  ==========================================================
``"request"``           ``RequestEvent``      an HTTP request is about to be sent (every attempt)
``"response"``          ``ResponseEvent``     a call ended: answered, from the cache, or failed
``"retry"``             ``RetryEvent``        an attempt failed and the same request is sent again
``"fallback"``          ``FallbackEvent``     a model failed and the call moves to the next fallback
``"breaker"``           ``BreakerEvent``      a provider's circuit breaker changed state
``"cache_hit"``         ``CacheHitEvent``     the answer came from the response cache
======================  ====================  ==========================================================

Events carry names, numbers and pepperpy errors (whose texts are scrubbed of credentials), never a key or
a header. Hooks run in the thread that makes the call, synchronously, in the order they were added: keep
them short (hand slow work to a queue). A hook that raises is logged (``pepperpy.events``, with its
traceback) and the call goes on as if it had returned. With no hook for an event, nothing is built for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ConfigurationError, PepperpyError
from ..types import Usage
from .audit import get_logger

__all__ = [
    "EVENTS", "BreakerEvent", "CacheHitEvent", "Event", "EventName", "FallbackEvent", "Hooks", "RequestEvent",
    "ResponseEvent", "RetryEvent",
]

EventName = Literal["request", "response", "retry", "fallback", "breaker", "cache_hit"]
EVENTS: tuple[str, ...] = ("request", "response", "retry", "fallback", "breaker", "cache_hit")

log = get_logger("pepperpy.events")


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """An HTTP request about to be sent. ``attempt`` counts from 1 (retries are 2, 3...); ``url`` has no
    query string and no user info."""

    op: str
    provider: str
    model: str
    attempt: int
    url: str


@dataclass(frozen=True, slots=True)
class ResponseEvent:
    """A call that ended. ``status`` is ``"ok"`` or the error's class name (then ``error`` is the error);
    ``latency`` is seconds from the call's start; ``hop`` is 0, or which fallback answered; ``cached`` when
    the cache answered (no request was sent)."""

    op: str
    provider: str
    model: str
    status: str
    latency: float
    usage: Usage | None = None
    cost: float | None = None
    cached: bool = False
    attempts: int = 0
    hop: int = 0
    request_id: str | None = None
    error: PepperpyError | None = None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Attempt number ``attempt`` failed with ``error``; the request is sent again after ``wait`` seconds."""

    op: str
    provider: str
    model: str
    attempt: int
    wait: float
    error: PepperpyError


@dataclass(frozen=True, slots=True)
class FallbackEvent:
    """``from_model`` failed with ``error`` (or could not be prepared); the call goes on with ``to_model``."""

    op: str
    from_model: str
    to_model: str
    error: PepperpyError


@dataclass(frozen=True, slots=True)
class BreakerEvent:
    """``provider``'s circuit went from ``old_state`` to ``new_state`` (``closed``, ``open``, ``half-open``)."""

    provider: str
    old_state: str
    new_state: str
    failures: int


@dataclass(frozen=True, slots=True)
class CacheHitEvent:
    """The response cache answered a call; nothing was sent."""

    op: str
    provider: str
    model: str


Event = RequestEvent | ResponseEvent | RetryEvent | FallbackEvent | BreakerEvent | CacheHitEvent
Hook = Callable[[Any], object]


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


def emit(fns: tuple[Hook, ...], event: Event) -> None:
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
