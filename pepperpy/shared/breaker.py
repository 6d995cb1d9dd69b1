"""One provider's circuit breaker, shared by every worker through Redis.

The semantics are those of ``ProviderBreaker`` (resilience.py), across processes and hosts instead of threads:
``fail_max`` consecutive failed calls open the circuit for ``reset_timeout`` seconds; then exactly one trial call
is admitted, across all workers, and only its outcome closes or reopens the circuit; outcomes of calls admitted
before the last opening (their ``generation``), or while the circuit was not closed, are ignored.

Each step is one Lua script run atomically by Redis (``scripts.py``), so no lock is held anywhere while a
request is in flight: ``admit()`` before the request, ``record_*()`` after it. The trial holds a lease of
``reset_timeout`` seconds: a worker killed during its trial (gunicorn's timeout) cannot hold the circuit
half-open forever, and a trial slower than that lets at most one more trial in per ``reset_timeout``.

Round trips: ``admit()`` is one. A success costs none when its ``admit()`` saw no failure counted (the
common case), one otherwise; a failure costs one. Why not pybreaker's ``CircuitRedisStorage``: it reads and
writes the state, counters and opening time as separate commands (several round trips per call, and a
read-then-write that two workers can interleave: each of them half-opens the circuit and sends its own trial),
stores the opening time in whole seconds, and logs a traceback per call while Redis is down.

When Redis does not answer, a process-local ``ProviderBreaker`` takes over (see ``store.py``); a ``Ticket``
remembers which breaker admitted a call, so its outcome goes back to the same one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import CircuitOpenError
from ..resilience.breaker import HALF_OPEN_RETRY_AFTER, OPEN, BreakerConfig, BreakerStats, ProviderBreaker, log
from ..resilience.retry import is_server_failure
from .scripts import BREAKER_ADMIT, BREAKER_PEEK, BREAKER_RECORD
from .store import UNAVAILABLE, SharedState, as_text


@dataclass(frozen=True, slots=True)
class Ticket:
    """What ``admit()`` gave a call, handed back with its outcome."""

    shared: bool        # admitted by the shared breaker (else by the local one, Redis being down)
    trial: int          # the trial's id (shared) or 1 (local) when the call is the half-open trial, else 0
    generation: int     # how many times the circuit had opened when the call was admitted
    failures: int = 0   # failures counted when it was admitted (a success after none has nothing to reset)


class SharedBreaker:
    """A provider's breaker in Redis, with a local ``ProviderBreaker`` for when Redis is down."""

    def __init__(self, state: SharedState, provider: str, config: BreakerConfig,
                 clock: Callable[[], float] = time.monotonic, *, scope: str = "") -> None:
        self.shared = state
        self.provider = provider
        self.config = config
        self.local = ProviderBreaker(provider, config, clock)
        # ``scope``: the endpoint (``Guards``), so that one provider name at two addresses is two circuits
        self.key = state.key("breaker", f"{provider}@{scope}" if scope else provider)
        # (old state, new state) of the changes this process makes (the hooks); the local breaker has its own
        self.on_change: Callable[[str, str], None] | None = None

    def admit(self, model: str | None = None) -> Ticket:
        """Let a call through (its ticket) or raise CircuitOpenError without sending anything."""
        reply = self.shared.run(BREAKER_ADMIT, (self.key,), (self.shared.now_arg(), self.config.reset_timeout))
        if reply is UNAVAILABLE:
            return self.admit_locally(model)
        return self.verdict(reply, model)

    def admit_locally(self, model: str | None) -> Ticket:
        """``admit`` on the process-local breaker (Redis is down)."""
        generation = self.local.generation
        return Ticket(False, int(self.local.admit(model)), generation)

    def verdict(self, reply: Any, model: str | None) -> Ticket:
        """The ticket of a ``breaker_admit`` reply, or the CircuitOpenError it stands for."""
        kind, seconds = as_text(reply[0]), float(reply[4])
        generation, failures, trial = int(reply[1]), int(reply[2]), int(reply[3])
        if kind == "open":
            raise self._rejection(model, seconds, f"after {self.config.fail_max} failed calls")
        if kind == "busy":
            raise self._rejection(model, min(HALF_OPEN_RETRY_AFTER, seconds), "and its trial call is in flight")
        if kind == "trial":
            log.info("circuit for %s is half-open: one trial call, shared by every worker", self.provider,
                     extra={"provider": self.provider, "breaker_state": "half-open"})
            if self.on_change is not None:
                self.on_change(OPEN, "half-open")
        return Ticket(True, trial, generation, failures)

    def record_success(self, ticket: Ticket) -> None:
        """Report a call that succeeded."""
        if not ticket.shared:
            self.local.record_success(bool(ticket.trial), ticket.generation)
        elif ticket.trial or ticket.failures:  # a success after no failure has nothing to reset: no round trip
            self._record("success", ticket)

    def record_failure(self, exc: BaseException, ticket: Ticket) -> None:
        """Report a call that failed; only server-side failures count (4xx answers do not)."""
        if not ticket.shared:
            self.local.record_failure(exc, bool(ticket.trial), ticket.generation)
        elif is_server_failure(exc):
            self._record("failure", ticket, exc)
        elif ticket.trial:
            self._record("release", ticket)

    def release(self, ticket: Ticket) -> None:
        """End a trial call that gave no verdict: the next call is a trial."""
        if not ticket.shared:
            if ticket.trial:
                self.local.release()
        elif ticket.trial:
            self._record("release", ticket)

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``, as every worker sees it (the local state while Redis is down)."""
        reply = self.shared.run(BREAKER_PEEK, (self.key,), (self.shared.now_arg(), self.config.reset_timeout))
        return self.local.state if reply is UNAVAILABLE else as_text(reply[0])

    @property
    def fail_counter(self) -> int:
        reply = self.shared.run(BREAKER_PEEK, (self.key,), (self.shared.now_arg(), self.config.reset_timeout))
        return self.local.fail_counter if reply is UNAVAILABLE else int(reply[1])

    def stats(self) -> BreakerStats:
        """What every worker's calls did to the breaker (``client.breaker_stats``): the state, the failures counted,
        the last server-side failure and when, when it last opened and how many times; the local breaker's while
        Redis is down."""
        reply = self.shared.run(BREAKER_PEEK, (self.key,), (self.shared.now_arg(), self.config.reset_timeout))
        if reply is UNAVAILABLE:
            return self.local.stats()
        failed_at, opened_at = _seconds(reply[3]), _seconds(reply[4])
        return BreakerStats(self.provider, as_text(reply[0]), int(reply[1]), as_text(reply[2]) or None, failed_at,
                            opened_at, int(reply[5]))

    def _record(self, outcome: str, ticket: Ticket, failure: BaseException | None = None) -> None:
        what = f"{type(failure).__name__}: {failure}" if failure is not None else ""
        reply = self.shared.run(BREAKER_RECORD, (self.key,), (self.shared.now_arg(), outcome, ticket.trial,
                                                              ticket.generation, self.config.fail_max,
                                                              what[:500], repr(time.time())))
        if reply is UNAVAILABLE:
            return  # the outcome of a call admitted by a store that is gone now is dropped, as a stale one
        change = as_text(reply)
        if change == OPEN:
            log.warning("circuit for %s opened for every worker: calls fail fast for %g s", self.provider,
                        self.config.reset_timeout, extra={"provider": self.provider, "breaker_state": OPEN})
        elif change and change != "stale":
            log.info("circuit for %s is %s", self.provider, change,
                     extra={"provider": self.provider, "breaker_state": change})
        if change in (OPEN, "closed") and self.on_change is not None:
            self.on_change("half-open" if ticket.trial else "closed", change)

    def _rejection(self, model: str | None, retry_after: float, why: str) -> CircuitOpenError:
        return CircuitOpenError(
            f"the circuit breaker for {self.provider} (shared by every worker) is open {why}; no request was sent. "
            f"Retry in {retry_after:.1f} s, or pass fallbacks=[...]", provider=self.provider, model=model,
            retry_after=retry_after)

    def __repr__(self) -> str:
        return f"<SharedBreaker {self.provider} in {self.shared.location}>"


def _seconds(value: Any) -> float | None:
    text = as_text(value)
    try:
        return float(text) if text else None
    except ValueError:  # a garbled field in a shared Redis reads as unknown
        return None
