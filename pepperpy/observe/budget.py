"""Spending limits: ``Client(budget=5.00)`` refuses a call that could pass the budget, before sending it.

>>> client = pepperpy.Client(budget=5.00)                                        # doctest: +SKIP
>>> client = pepperpy.Client(budget=pepperpy.Budget(20.0, per="day", providers={"openai": 5.0},
...                                                 models={"gpt-4o": 2.0}))     # doctest: +SKIP

Before each request a call *reserves* its worst case, estimated in the unit the operation is sold in
(``pepperpy.observe.pricing``): for a chat call the estimated input tokens at the model's input price plus
``max_tokens`` (else the catalog's ``max_output_tokens``...) at its output price; for images, speech,
transcription, video and batches their own units. When that reservation would take any applicable limit (the
total, the provider's, the model's) past its amount, ``BudgetExceededError`` is raised and nothing is sent; its
message says what was estimated and which of the call's parameters would lower it. When the answer arrives the
reservation is *settled* with the real cost (``pepperpy.observe.ledger``); a request that failed gives its
reservation back; a stream left before its end keeps its worst case (what it cost is not known). Cache hits cost
nothing. Models without a catalog price (in the operation's unit) are not limited, unless
``Budget(..., strict=True)``, which refuses them.

A period (``per="hour" | "day" | "month"``, UTC calendar periods) starts every limit again from zero; without
one the limits last as long as the Client. With ``Client(shared_state=...)`` every worker draws on the same
amounts, kept in Redis (``pepperpy.shared.SharedCounter``: the check and the reservation are one atomic step,
so two workers can never both pass a limit only one of them fits under).
"""

from __future__ import annotations

import datetime
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import BudgetExceededError, ConfigurationError
from ..types import ModelSpec
from .pricing import WORST_OUTPUT_TOKENS, Estimate, chat_worst, embed_worst, usd, worst_case_tokens

__all__ = ["PERIODS", "WORST_OUTPUT_TOKENS", "Budget", "BudgetKeeper", "Counter", "LocalCounter", "Reservation",
           "usd", "worst_case_tokens"]

PERIODS = {"hour": 3600, "day": 86400, "month": 31 * 86400}  # seconds, for shared keys' expiry
_PERIOD_FORMATS = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "month": "%Y-%m"}
_WHAT = {"complete": "call", "embed": "embedding call", "generate_image": "image request", "synthesize": "speech",
         "synthesize_stream": "speech stream", "transcribe": "transcription",
         "transcribe_stream": "transcription stream"}  # an operation as a refusal names it


def _empty() -> Mapping[str, float]:
    return {}


@dataclass(frozen=True)
class Budget:
    """USD limits: ``limit`` for every call, ``providers`` / ``models`` for some, each ``per`` period.

    ``models`` keys are any model name the catalog resolves (``"gpt-4o"``, ``"openai/gpt-4o"``).
    ``Client(budget=5.0)`` is ``Budget(5.0)``; ``Client(budget={"limit": 5.0, "per": "day"})`` works too.
    A model without a catalog price is not limited (its cost is unknown); ``strict=True`` refuses its calls.
    """

    limit: float | None = None
    per: str | None = None
    providers: Mapping[str, float] = field(default_factory=_empty)
    models: Mapping[str, float] = field(default_factory=_empty)
    strict: bool = False

    def __post_init__(self) -> None:
        if self.per is not None and self.per not in PERIODS:
            raise ConfigurationError(f"budget per={self.per!r}: use one of {', '.join(PERIODS)}, or None for the "
                                     f"Client's lifetime")
        for name, amount in (("limit", self.limit), *self.providers.items(), *self.models.items()):
            if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float))
                                       or not amount >= 0 or math.isinf(amount)):
                raise ConfigurationError(f"budget {name}: {amount!r} is not an amount of USD (a number >= 0)")
        if self.limit is None and not self.providers and not self.models:
            raise ConfigurationError("a Budget needs a limit, providers={...} or models={...}")

    @classmethod
    def of(cls, option: Any) -> Budget | None:
        """``Client(budget=...)``: None, a number of USD, a mapping of Budget's fields, or a Budget."""
        if option is None or option is False:
            return None
        if isinstance(option, Budget):
            return option
        if isinstance(option, (int, float)) and not isinstance(option, bool):
            return cls(float(option))
        if isinstance(option, Mapping):
            unknown = set(option) - {"limit", "per", "providers", "models", "strict"}
            if unknown:
                raise ConfigurationError(f"budget= takes limit, per, providers, models and strict, not "
                                         f"{sorted(unknown)[0]!r}; e.g. budget={{'limit': 5.0, 'per': 'day'}}")
            return cls(**option)
        raise ConfigurationError(f"budget= takes USD (e.g. 5.00), a pepperpy.Budget or a mapping of its fields, "
                                 f"not {type(option).__name__}")


class Counter(Protocol):
    """An amount many calls add to (``LocalCounter``, or ``pepperpy.shared.SharedCounter`` across workers)."""

    def try_add(self, amount: float, limit: float | None = None) -> tuple[bool, float] | None: ...

    def add(self, delta: float) -> float | None: ...


class LocalCounter:
    """A Counter in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0.0

    def try_add(self, amount: float, limit: float | None = None) -> tuple[bool, float]:
        with self._lock:
            if limit is not None and self.total + amount > limit + 1e-12:
                return False, self.total
            self.total += amount
            return True, self.total

    def add(self, delta: float) -> float:
        with self._lock:
            self.total += delta
            return self.total


@dataclass(slots=True, eq=False)
class Reservation:
    """One call's worst case, held on each limit it falls under (in ``period``) until ``BudgetKeeper.settle``."""

    amount: float
    counters: Sequence[Counter]
    settled: bool = False
    period: str = "all"


MakeCounter = Callable[[str, float | None], Counter]


class BudgetKeeper:
    """A Client's budget at run time: its counters per scope and period, and the reservations of calls.
    ``shared``: where the counters are kept when they are shared (for messages: ``"Redis namespace 'app'"``)."""

    def __init__(self, budget: Budget, resolve: Callable[[str], ModelSpec], *,
                 make_counter: MakeCounter | None = None, clock: Callable[[], float] = time.time,
                 shared: str | None = None) -> None:
        self.budget = budget
        self.models = {resolve(name).name: amount for name, amount in budget.models.items()}
        self.make_counter = make_counter
        self.clock = clock
        self.shared = shared
        self._counters: dict[tuple[str, str], tuple[Counter, LocalCounter]] = {}
        self._lock = threading.Lock()

    def limited(self, spec: ModelSpec) -> bool:
        """Whether any limit applies to calls of ``spec``."""
        return bool(self._limits(spec))

    def reserve(self, spec: ModelSpec, estimate: Estimate | None = None, *,
                messages: Sequence[Mapping[str, Any]] | None = None, texts: Sequence[str] | None = None,
                max_tokens: Any = None, tools: Any = None, op: str = "call") -> Reservation | None:
        """Hold this call's worst case (``estimate``; a chat or embedding call's from its messages or texts when
        None) on every limit it falls under; BudgetExceededError when one would pass. None when no limit
        applies, or the model has no price (then refused with ``strict``)."""
        limits = self._limits(spec)
        if not limits:
            return None
        price = spec.price_on(self.clock())
        if estimate is None and price is not None:
            estimate = (embed_worst(spec, price, texts) if texts is not None else
                        chat_worst(spec, price, messages=messages, max_tokens=max_tokens, tools=tools))
        if estimate is None:
            if self.budget.strict:
                raise self._unpriced(spec, limits[0], op)
            return None
        amount, period = estimate.amount, self.period()
        held: list[Counter] = []
        for scope, limit in limits:
            counter, local = self._counter(scope, period)
            answer = counter.try_add(amount, limit)
            if answer is None:  # the shared store does not answer: this process keeps count meanwhile
                counter, answer = local, local.try_add(amount, limit)
            ok, spent = answer
            if not ok:
                for other in held:
                    other.add(-amount)
                raise self._refusal(spec, scope, limit, spent, estimate, op)
            held.append(counter)
        return Reservation(amount, held, period=period)

    def hold(self, spec: ModelSpec, estimate: Estimate) -> Reservation | None:
        """Hold a worst case the caller worked out with ``pepperpy.observe.pricing`` (a realtime turn: audio prices,
        the conversation the provider bills again), as ``reserve`` does for the calls it estimates itself."""
        if spec.price_on(self.clock()) is None and not self.budget.strict:
            return None
        return self.reserve(spec, estimate if spec.price_on(self.clock()) is not None else None, op="realtime turn")

    def settle(self, reservation: Reservation | None, cost: float | None) -> None:
        """Replace the reservation by what the call cost (``None``: it failed, give it all back)."""
        if reservation is None or reservation.settled:
            return
        reservation.settled = True
        delta = (cost or 0.0) - reservation.amount
        if delta:
            for counter in reservation.counters:
                counter.add(delta)

    def add(self, spec: ModelSpec, amount: float, period: str | None = None) -> None:
        """Add ``amount`` to every limit of ``spec`` in ``period`` (None: the current one), without a check: what
        a job cost once its results were read, or a reservation made in another process given back (negative).
        A period already over is left alone: its limits no longer count."""
        current = self.period()
        if not amount or (period is not None and period != current):
            return
        for scope, _ in self._limits(spec):
            counter, local = self._counter(scope, current)
            if counter.add(amount) is None:
                local.add(amount)

    def spent(self, scope: str = "total") -> float:
        """USD spent (and reserved) in the current period under ``scope``: every worker's, when shared."""
        counter, local = self._counter(scope, self.period())
        total = counter.add(0.0)
        return total if total is not None else local.total

    def _limits(self, spec: ModelSpec) -> list[tuple[str, float]]:
        budget, limits = self.budget, []
        if budget.limit is not None:
            limits.append(("total", budget.limit))
        if spec.provider in budget.providers:
            limits.append((spec.provider, budget.providers[spec.provider]))
        if spec.name in self.models:
            limits.append((spec.name, self.models[spec.name]))
        return limits

    def period(self) -> str:
        """The current period's name (``2026-12-07`` for a daily budget), or ``all`` without a period."""
        per = self.budget.per
        if per is None:
            return "all"
        return time.strftime(_PERIOD_FORMATS[per], time.gmtime(self.clock()))

    _period = period

    def _counter(self, scope: str, period: str) -> tuple[Counter, LocalCounter]:
        """The counter of a scope in a period, and the local one that stands in while a shared one is down."""
        key = (scope, period)
        counters = self._counters.get(key)
        if counters is None:
            with self._lock:
                counters = self._counters.get(key)
                if counters is None:
                    for old in [k for k in self._counters if k[0] == scope]:  # a past period is over
                        del self._counters[old]
                    ttl = PERIODS.get(self.budget.per or "")
                    local = LocalCounter()
                    counter = (self.make_counter(f"budget:{scope}:{period}", ttl + 3600 if ttl else None)
                               if self.make_counter is not None else local)
                    counters = self._counters[key] = (counter, local)
        return counters

    def _refusal(self, spec: ModelSpec, scope: str, limit: float, spent: float, estimate: Estimate,
                 op: str) -> BudgetExceededError:
        per = self.budget.per
        what = "the budget" if scope == "total" else f"the budget of {scope}"
        return BudgetExceededError(
            f"{spec.name} could cost up to {usd(estimate.amount)} for this {_WHAT.get(op, op)}: {estimate.basis}, "
            f"at its catalog prices; {what} has {usd(max(limit - spent, 0.0))} left of {usd(limit)}"
            f"{f' per {per}' if per else ''}, so no request was sent. To fit: {estimate.knobs}; or raise budget=. "
            f"{self._when(scope)}", scope=scope, limit=limit, spent=spent, needed=estimate.amount, period=per,
            model=spec.name)

    def _unpriced(self, spec: ModelSpec, limit: tuple[str, float], op: str) -> BudgetExceededError:
        scope, amount = limit
        return BudgetExceededError(
            f"{spec.name} has no catalog price for this {_WHAT.get(op, op)}, so its cost cannot be counted, and the "
            f"budget is strict (Budget(..., strict=True)); no request was sent. Give the model a price in a catalog "
            f"file (docs/catalog.md), or use strict=False, which lets unpriced models through unlimited",
            scope=scope, limit=amount, spent=self.spent(scope), needed=0.0, period=self.budget.per, model=spec.name)

    def _when(self, scope: str) -> str:
        """When the limit starts again, and where it is kept when it is shared."""
        per = self.budget.per
        key = f"budget:{scope}:{self.period()}"
        if per is not None:
            when = f"It starts again at {_next_period(per, self.clock())} (every {per}, UTC)"
        elif self.shared is not None:
            when = ("It has no period, so it never starts again: give it one (Budget(limit, per='day')), or delete "
                    "its counter to start from zero")
        else:
            when = "It has no period: it lasts as long as this Client (Budget(limit, per='day') starts it daily)"
        if self.shared is not None:
            when += f"; it is shared by every worker on {self.shared} (counter {key!r})"
        return f"{when}. Models without a catalog price are not limited (Budget(..., strict=True) refuses them)."

    def after_fork(self) -> None:
        self._lock = threading.Lock()


def _next_period(per: str, now: float) -> str:
    """When the period after the one ``now`` is in starts, in UTC, as a message says it."""
    stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    if per == "hour":
        start = stamp.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)
        return start.strftime("%Y-%m-%d %H:00")
    if per == "day":
        return (stamp.date() + datetime.timedelta(days=1)).isoformat() + " 00:00"
    month = (stamp.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return month.date().isoformat() + " 00:00"
