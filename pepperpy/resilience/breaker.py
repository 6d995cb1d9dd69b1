"""The circuit breaker of one provider: ``ProviderBreaker`` over pybreaker, and its settings and statistics.

Breakers that never serialise threads. pybreaker's ``CircuitBreaker.call()`` holds the breaker's lock for
the whole guarded call: guarding an HTTP request with it makes every thread of a web app that calls one
provider queue behind the previous request (16 calls of 0.25 s take 4 s, not 0.25 s). ``calling()`` escapes
the lock in pybreaker 1.4 only by way of its generator path, and neither fails the other calls fast while a
half-open breaker's trial call is in flight (``call()`` queues them, ``calling()`` lets them all through).
``ProviderBreaker`` splits the guarded call in two short steps around the request, which runs unlocked:

1. ``admit()`` before the request. Closed: one plain read of the stored state, no lock at all. Open:
   ``CircuitOpenError`` with ``retry_after`` until ``reset_timeout`` has passed; then, under a small gate
   lock, the breaker goes half-open and exactly one trial call is admitted; other calls are rejected until
   the trial reports.
2. ``record_success()`` / ``record_failure()`` after the logical call (after its retries). The outcome is
   replayed through pybreaker's own state machine with a trivial function (``breaker.call(_succeed)`` or
   ``breaker.call(_fail)``), so pybreaker keeps counting, opening, closing, notifying listeners and owning
   the storage, and its lock is held for microseconds. A success in the closed state with no failure
   counted skips even that. Only the trial's outcome decides a half-open circuit: outcomes of other calls
   that arrive while it is open or half-open are dropped (they were admitted before it opened and say
   nothing about the provider now), and so are those of calls admitted before the last opening, by
   their ``generation`` (read before ``admit()``; it counts the openings).

Only server-side failures are replayed as failures (5xx, 529, timeouts, connection errors, broken bodies).
Other outcomes (4xx answers, client-side limits) are not replayed at all: replaying them as successes would
reset the failure count and hide a provider that fails every other call.

The client-side rate limiter is in ``ratelimit.py``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from .._lazy import lazy
from .._redact import get_logger
from ..errors import CircuitOpenError, ConfigurationError
from ..types._value import Value

if TYPE_CHECKING:
    from ._breaker_stats import BreakerStats
from .retry import is_server_failure

__all__ = ["DEFAULT_FAIL_MAX", "DEFAULT_RESET_TIMEOUT", "HALF_OPEN_RETRY_AFTER", "BreakerConfig", "BreakerStats",
           "ProviderBreaker"]

DEFAULT_FAIL_MAX = 5                # consecutive failed calls that open a circuit
DEFAULT_RESET_TIMEOUT = 30.0        # seconds a circuit stays open before one trial call
HALF_OPEN_RETRY_AFTER = 1.0         # retry_after while a half-open circuit's trial call is in flight

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"
log = get_logger("pepperpy.resilience")

# what client.breaker_stats() answers: its class is made when first asked for
__getattr__, __dir__ = lazy(__name__, {"BreakerStats": "pepperpy.resilience._breaker_stats"})

class BreakerConfig(Value):
    """``fail_max`` consecutive failed calls open the circuit for ``reset_timeout`` seconds."""

    fail_max: int = DEFAULT_FAIL_MAX
    reset_timeout: float = DEFAULT_RESET_TIMEOUT

    def __post_init__(self) -> None:
        if self.fail_max < 1 or self.reset_timeout <= 0:
            raise ConfigurationError("breaker fail_max must be 1 or more and reset_timeout more than 0 seconds")

    def merged(self, values: Mapping[str, Any]) -> BreakerConfig:
        """A copy with the keys of a catalog ``breaker:`` mapping applied."""
        unknown = set(values) - {"fail_max", "reset_timeout"}
        if unknown:
            raise ConfigurationError(f"unknown breaker setting {sorted(unknown)[0]!r} (use fail_max, reset_timeout)")
        return BreakerConfig(int(values.get("fail_max", self.fail_max)),
                             float(values.get("reset_timeout", self.reset_timeout)))


class _ReplayedError(Exception):
    """What a failed call is replayed as inside pybreaker (never leaves this module)."""


def _succeed() -> None:
    return None


def _fail() -> None:
    raise _ReplayedError


class _StateListener:
    """pybreaker listener: stamps when the circuit opened (on our clock) and logs every state change."""

    def __init__(self, owner: ProviderBreaker) -> None:
        self.owner = owner

    def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        pass

    def success(self, cb: Any) -> None:
        pass

    def failure(self, cb: Any, exc: BaseException) -> None:
        pass

    def state_change(self, cb: Any, old: Any, new: Any) -> None:
        owner = self.owner
        name = new.name
        if name == OPEN:
            owner.opened_at = owner.clock()
            owner.opened_wall = time.time()
            owner.generation += 1  # under pybreaker's lock, inside a replay that holds the gate
            log.warning("circuit for %s opened: calls fail fast for %g s", owner.provider,
                        owner.config.reset_timeout, extra={"provider": owner.provider, "breaker_state": name})
        else:
            log.info("circuit for %s is %s", owner.provider, name,
                     extra={"provider": owner.provider, "breaker_state": name})
        if owner.on_change is not None:
            owner.on_change(old.name if old is not None else CLOSED, name)


class ProviderBreaker:
    """One provider's circuit breaker (pybreaker underneath); see the module docstring for the design."""

    def __init__(self, provider: str, config: BreakerConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.provider = provider
        self.config = config
        self.clock = clock
        self.opened_at = -math.inf
        self.generation = 0  # how many times the circuit opened; outcomes of calls admitted earlier are stale
        self.opened_wall: float | None = None
        self.last_failure: tuple[str, float] | None = None  # (what, Unix time) of the last server-side failure
        self.on_change: Callable[[str, str], None] | None = None  # (old state, new state), e.g. the hooks
        self._trial = False
        self._gate = threading.Lock()
        # pybreaker's breaker, made at the first failure: until then the circuit is closed with nothing counted,
        # and a program whose calls all succeed never imports pybreaker (nor redis, which it imports when present)
        self._cb: Any = None
        self._tripped: type[Exception] = _ReplayedError

    def _pybreaker(self) -> Any:
        """pybreaker's CircuitBreaker for this provider (under the gate), made on first use."""
        if self._cb is None:
            import pybreaker

            self._tripped = pybreaker.CircuitBreakerError
            self._cb = pybreaker.CircuitBreaker(fail_max=self.config.fail_max, reset_timeout=self.config.reset_timeout,
                                                name=self.provider, listeners=[cast(Any, _StateListener(self))])
        return self._cb

    @property
    def state(self) -> str:
        """``closed``, ``open``, or ``half-open`` (also once ``reset_timeout`` has passed: the next call is a trial)."""
        if self._cb is None:
            return CLOSED
        state: str = self._cb.current_state
        return HALF_OPEN if state == OPEN and self._remaining() <= 0 else state

    @property
    def fail_counter(self) -> int:
        return int(self._cb.fail_counter) if self._cb is not None else 0

    def stats(self) -> BreakerStats:
        """State, counted failures, the last failure, when it last opened and how many times (no lock)."""
        from ._breaker_stats import BreakerStats
        last = self.last_failure
        return BreakerStats(self.provider, self.state, self.fail_counter, last[0] if last else None,
                            last[1] if last else None, self.opened_wall, self.generation)

    def _remaining(self) -> float:
        return self.opened_at + self.config.reset_timeout - self.clock()

    def admit(self, model: str | None = None) -> bool:
        """Let a call through or raise CircuitOpenError; True when the call is the half-open trial."""
        cb = self._cb
        if cb is None or cb.current_state == CLOSED:
            return False
        with self._gate:
            state = self._cb.current_state
            if state == CLOSED:
                return False
            if state == OPEN:
                remaining = self._remaining()
                if remaining > 0:
                    raise self._rejection(model, remaining, f"after {self.config.fail_max} failed calls")
                self._cb.half_open()
            if self._trial:
                raise self._rejection(model, HALF_OPEN_RETRY_AFTER, "and its trial call is in flight")
            self._trial = True
            return True

    def _rejection(self, model: str | None, retry_after: float, why: str) -> CircuitOpenError:
        return CircuitOpenError(
            f"the circuit breaker for {self.provider} is open {why}; no request was sent. Retry in "
            f"{retry_after:.1f} s, or pass fallbacks=[...]", provider=self.provider, model=model,
            retry_after=retry_after)

    def record_success(self, trial: bool, generation: int | None = None) -> None:
        """Report a call that succeeded; ``generation`` is ``self.generation`` read before its ``admit()``."""
        cb = self._cb
        if not trial and (cb is None or (cb.current_state == CLOSED and cb.fail_counter == 0)):
            return
        self._replay(_succeed, trial, generation)

    def record_failure(self, exc: BaseException, trial: bool, generation: int | None = None) -> None:
        """Report a call that failed; only server-side failures count (see ``is_server_failure``)."""
        if is_server_failure(exc):
            self.last_failure = (f"{type(exc).__name__}: {exc}", time.time())
            self._replay(_fail, trial, generation)
        elif trial:
            self.release()

    def release(self) -> None:
        """End a trial call that gave no verdict (a 4xx answer, an interrupted call): the next call is one."""
        with self._gate:
            self._trial = False

    def _replay(self, outcome: Callable[[], None], trial: bool, generation: int | None) -> None:
        # Under the gate, so that the state checked is the state the outcome is replayed in (admit() cannot
        # half-open the circuit in between). Never around a request: held for microseconds (plus the log
        # record of a state change, as pybreaker's own lock is).
        with self._gate:
            try:
                cb = self._pybreaker()
                state = cb.current_state
                if trial:
                    counts = state != OPEN
                else:  # a late outcome of a call admitted before the circuit opened says nothing of now
                    counts = state == CLOSED and (generation is None or generation == self.generation)
                if counts:
                    cb.call(outcome)
            except (_ReplayedError, self._tripped):
                pass
            finally:
                if trial:
                    self._trial = False

    def __repr__(self) -> str:
        return f"<ProviderBreaker {self.provider} {self.state} failures={self.fail_counter}>"
