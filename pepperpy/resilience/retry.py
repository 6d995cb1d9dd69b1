"""The retry policy: how often, after how long, and which failures a call repeats.

``pipeline.py`` runs them, per provider hop, in this order::

    cache lookup -> RateLimiter.acquire (ratelimit.py) -> ProviderBreaker.admit
    -> RetryPolicy.call(transport.send) -> parse -> ProviderBreaker.record_* -> cache store -> audit record

Retries. ``RetryPolicy`` is an immutable settings object with named defaults, after urllib3's ``Retry``
(0.5 s doubling, capped at 8 s, up to 25 % jitter: the official SDKs' numbers). urllib3's ``Retry`` itself
does not fit: it retries inside the connection pool, so it cannot read Gemini's ``RetryInfo`` from the
error body, cannot raise at once when a provider asks for a wait longer than ``max_retry_wait``, and hides
the attempts from the breaker (one logical call must be one outcome) and from the audit log.

The circuit breaker is in ``breaker.py``, the client-side rate limiter in ``limiter.py``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from .._redact import get_logger
from ..errors import (
    ConfigurationError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    StreamError,
)
from ..http import _cancel
from ..http._deadline import Clipped
from ..types._value import Value, field

__all__ = [
    "DEFAULT_BACKOFF_BASE", "DEFAULT_BACKOFF_MAX", "DEFAULT_JITTER", "DEFAULT_MAX_RETRIES", "DEFAULT_MAX_RETRY_WAIT",
    "RETRY_STATUSES", "RetryPolicy", "Timeout", "is_server_failure",
]

T = TypeVar("T")
Timeout = tuple[float, float]

DEFAULT_MAX_RETRIES = 2
DEFAULT_BACKOFF_BASE = 0.5          # seconds before the first retry
DEFAULT_BACKOFF_MAX = 8.0           # cap of one backoff wait
DEFAULT_JITTER = 0.25               # each backoff wait is shortened by up to this fraction
DEFAULT_MAX_RETRY_WAIT = 60.0       # longest Retry-After honoured; a longer one raises at once
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

log = get_logger("pepperpy.resilience")

_SERVER_FAILURES = (ProviderUnavailableError, ProviderTimeoutError, ProviderConnectionError, StreamError)


def is_server_failure(exc: BaseException) -> bool:
    """Whether a failure says the provider is unwell (counts for its breaker); 4xx answers do not."""
    return isinstance(exc, _SERVER_FAILURES)


class Attempts(Protocol):
    attempts: int


# --------------------------------------------------------------------------- retries

class RetryPolicy(Value):
    """When and how long to wait before sending a failed request again.

    Retried: connection errors, timeouts, and HTTP ``retry_statuses``; never another 4xx. The wait is the
    provider's ``Retry-After`` / ``retry-after-ms`` / Gemini ``RetryInfo.retryDelay`` when it gave one (a
    wait above ``max_retry_wait`` raises at once, ``.retry_after`` set), else ``backoff_base * 2**n``
    capped at ``backoff_max`` and shortened by up to ``jitter``. ``total_timeout`` (None: unbounded) is a
    deadline for the whole call, fallback hops and rate-limiter waits included: attempts' timeouts are
    clipped to it, and no retry, fallback hop or limiter wait reaches past it.
    ``sleep``, ``clock`` and ``random`` are injectable for tests; the breaker, limiter and cache of a
    Client use the same ``clock``.

    >>> RetryPolicy(max_retries=4, backoff_max=2.0)   # doctest: +ELLIPSIS
    RetryPolicy(max_retries=4, ...)
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_max: float = DEFAULT_BACKOFF_MAX
    jitter: float = DEFAULT_JITTER
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT
    total_timeout: float | None = None
    retry_statuses: frozenset[int] = RETRY_STATUSES
    sleep: Callable[[float], None] = field(default=_cancel.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ConfigurationError(f"max_retries must be a whole number of 0 or more, not {self.max_retries!r}")
        for name, what in (("backoff_base", "seconds"), ("backoff_max", "seconds"), ("jitter", "between 0 and 1"),
                           ("max_retry_wait", "seconds"), ("total_timeout", "seconds, or None")):
            value = getattr(self, name)
            if (value is not None or name != "total_timeout") and (
                    isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ConfigurationError(f"{name} must be a number ({what}), not {value!r}")
        if self.backoff_base < 0 or self.backoff_max < 0 or self.max_retry_wait < 0:
            raise ConfigurationError("backoff_base, backoff_max and max_retry_wait must be 0 or more seconds")
        if not 0 <= self.jitter <= 1:
            raise ConfigurationError("jitter must be between 0 and 1")
        if self.total_timeout is not None and self.total_timeout <= 0:
            raise ConfigurationError("total_timeout must be more than 0 seconds, or None")

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0-based) when the provider named none."""
        return min(self.backoff_max, self.backoff_base * 2.0 ** retry) * (1.0 - self.jitter * self.random())

    def should_retry(self, exc: ProviderError) -> bool:
        """Whether the failure is worth another attempt (ignoring how many were made)."""
        if not exc.retryable:
            return False
        if exc.should_retry:
            return True
        if exc.status_code is not None:
            return exc.status_code in self.retry_statuses
        # a StreamError is retryable only when nothing had reached the caller (pipeline._stream_start says so)
        return isinstance(exc, (ProviderTimeoutError, ProviderConnectionError, StreamError))

    def wait_before_retry(self, exc: ProviderError, retry: int) -> float | None:
        """Seconds to wait before retry number ``retry``, or None to give up and raise ``exc``."""
        if retry >= self.max_retries or not self.should_retry(exc):
            return None
        asked = getattr(exc, "retry_after", None)
        if asked is None:
            return self.backoff(retry)
        return asked if asked <= self.max_retry_wait else None

    def deadline(self) -> float | None:
        """When a call starting now must end (on ``clock``), or None without ``total_timeout``."""
        return None if self.total_timeout is None else self.clock() + self.total_timeout

    def attempt_timeout(self, timeout: Timeout, deadline: float | None) -> Timeout:
        """``(connect, read)`` for the next attempt: ``timeout``, clipped to what is left before ``deadline``;
        with a deadline, a ``Clipped`` pair that also tells the transport the time left, which bounds the whole
        attempt, a body already flowing included."""
        if deadline is None:
            return timeout
        left = max(deadline - self.clock(), 0.01)
        return Clipped(min(timeout[0], left), min(timeout[1], left), left, self.total_timeout or left)

    def retry_wait(self, exc: ProviderError, retry: int, deadline: float | None) -> float | None:
        """``wait_before_retry``, or None too when that wait would reach past ``deadline``."""
        wait = self.wait_before_retry(exc, retry)
        if wait is None or (deadline is not None and self.clock() + wait >= deadline):
            return None
        return wait

    def call(self, send: Callable[[Timeout], T], timeout: Timeout, trace: Attempts,
             deadline: float | None = None,
             on_retry: Callable[[ProviderError, float, int], None] | None = None) -> T:
        """``send(timeout)`` until it succeeds or the policy gives up; counts attempts on ``trace``.

        ``deadline`` is the call's, started once by the pipeline and shared by its limiter wait and every
        fallback hop; without one, a deadline of ``total_timeout`` starts here. ``on_retry(error, wait,
        attempt)`` is told of each failed attempt that will be sent again, before the wait.
        """
        if deadline is None:
            deadline = self.deadline()
        retry = 0
        while True:
            trace.attempts += 1
            try:
                return send(self.attempt_timeout(timeout, deadline))
            except ProviderError as exc:
                wait = self.retry_wait(exc, retry, deadline)
                if wait is None:
                    raise
                if on_retry is not None:
                    on_retry(exc, wait, trace.attempts)
            self.sleep(wait)
            retry += 1
