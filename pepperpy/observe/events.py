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

from dataclasses import dataclass

from ..errors import PepperpyError
from ..types import Usage
from .hooks import EVENTS, EventName, Hook, Hooks, emit

__all__ = [
    "EVENTS", "BreakerEvent", "CacheHitEvent", "Event", "EventName", "FallbackEvent", "Hook", "Hooks", "RequestEvent",
    "ResponseEvent", "RetryEvent", "emit",
]



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
