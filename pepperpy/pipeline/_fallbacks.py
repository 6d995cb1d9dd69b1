"""A call's walk along its models, the one asked for then its fallbacks, and every decision on the way.

A hop that fails with an unavailable / timeout / connection / circuit-open / rate-limit error
(``FALLBACK_ERRORS``), or a stream that broke before its first chunk with content (``_stream_start``), passes the
call to the next hop; any other error (validation, authentication, other 4xx)
is raised at once. A fallback model that cannot be prepared (missing key, params out of its range, wrong mode)
is skipped. No fallback hop starts once ``total_timeout`` has passed. When every hop failed, the last provider
error is raised. No I/O: the blocking pipeline (``pipeline``) and its event-loop twin (``_apipeline``) drive it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import (
    CircuitOpenError,
    PepperpyError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
)
from ._call import Prepared, Trace

if TYPE_CHECKING:
    from ..observe._observer import Observer
    from ..resilience.retry import RetryPolicy

__all__ = ["FALLBACK_ERRORS", "Hops"]

FALLBACK_ERRORS = (ProviderUnavailableError, ProviderTimeoutError, ProviderConnectionError, CircuitOpenError,
                   RateLimitError)


class Walked(Protocol):
    """What Hops needs of the pipeline it walks for (``Pipeline``): its clock, its observer, its end of a call."""

    policy: RetryPolicy
    observer: Observer

    def _ended(self, p: Prepared, hop: int, names: Sequence[str], trace: Trace, *, result: Any = None,
               error: BaseException | None = None, status: str | None = None) -> None: ...


class Hops:
    """A call's walk along its models (the one asked for, then its fallbacks), and every decision on the way:
    which hops start (none once ``total_timeout`` is spent), what a hop that cannot be prepared or fails at its
    provider leads to, and which error ends the call. No I/O: ``Pipeline._run`` and the event loop's twin
    (``_apipeline``) drive it, each preparing and sending in its own way::

        for hop, name in hops:
            try: p = prepare(name)
            except PepperpyError as exc: hops.unprepared(name, exc); continue
            hops.began(p)
            try: return p, hop, attempt(p)
            except ProviderError as exc: hops.failed(exc)            # raises, unless a fallback follows
            except BaseException as exc: hops.interrupted(exc); raise
        raise hops.exhausted()
    """

    __slots__ = ("hop", "last", "names", "p", "pipe", "trace")

    def __init__(self, pipe: Walked, names: Sequence[str], trace: Trace) -> None:
        self.pipe, self.names, self.trace = pipe, names, trace
        self.hop = -1
        self.p: Prepared | None = None
        self.last: tuple[Prepared, int, ProviderError] | None = None  # the failure a fallback hop follows

    def __iter__(self) -> Iterator[tuple[int, str]]:
        trace, clock = self.trace, self.pipe.policy.clock
        for hop, name in enumerate(self.names):
            if self.last is not None and trace.deadline is not None and clock() >= trace.deadline:
                return  # total_timeout is spent: no fallback hop starts, the last error is raised
            self.hop = hop
            yield hop, name

    def unprepared(self, name: str, exc: PepperpyError) -> None:
        """The hop's model cannot be called (a missing key, params out of its range): a fallback is skipped,
        the model asked for raises."""
        if self.hop == 0:
            raise exc
        self.trace.failed(name, exc)
        if self.hop + 1 < len(self.names):
            self.pipe.observer.fallback(self.trace, name, self.names[self.hop + 1], exc)

    def began(self, p: Prepared) -> None:
        self.p = p
        observer = self.pipe.observer
        if self.hop == 0 and observer.telemetry is not None:
            observer.begin(self.trace, p.runtime.spec.name, p.model, p.runtime.transport.base_url, p.params,
                           p.messages)

    def failed(self, exc: ProviderError) -> None:
        """The hop failed at its provider (or its breaker): on to the next hop, or ``exc`` is raised."""
        p, hop, names, trace, observer = self.p, self.hop, self.names, self.trace, self.pipe.observer
        assert p is not None
        observer.hop_failed(trace, p.runtime.spec.name, p.model.id)
        from ._stream_start import is_unstarted  # a failure's path: loaded when a hop first fails

        if hop + 1 < len(names) and (isinstance(exc, FALLBACK_ERRORS) or is_unstarted(exc)):
            trace.failed(p.model.name, exc)
            observer.fallback(trace, p.model.name, names[hop + 1], exc)
            self.last = (p, hop, exc)
            return
        self.pipe._ended(p, hop, names, trace, error=exc)
        raise exc

    def interrupted(self, exc: BaseException) -> None:
        """Cancelled, refused by the budget, or a bad input: nothing is counted, the hold is given back."""
        self.pipe.observer.settle(self.trace, None)
        self.pipe.observer.abandoned(self.trace, exc)

    def exhausted(self) -> ProviderError:
        """Every hop failed (or the deadline passed): the last provider error, to raise."""
        assert self.last is not None  # hop 0 either returned, raised, or fell back
        p, hop, error = self.last
        self.pipe._ended(p, hop, self.names, self.trace, error=error)
        return error
