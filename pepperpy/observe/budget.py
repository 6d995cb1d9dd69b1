"""Spending limits: ``Client(budget=5.00)`` refuses a call that could pass the budget, before sending it.

>>> client = pepperpy.Client(budget=5.00)                                        # doctest: +SKIP
>>> client = pepperpy.Client(budget=pepperpy.Budget(20.0, per="day", providers={"openai": 5.0},
...                                                 models={"gpt-4o": 2.0}))     # doctest: +SKIP

Before each request a call *reserves* its worst case: the estimated input tokens (``pepperpy.tokens``'
estimate of the messages) at the model's input price plus ``max_tokens`` (else the catalog's
``max_output_tokens``, else ``WORST_OUTPUT_TOKENS``) at its output price. When that reservation would take
any applicable limit (the total, the provider's, the model's) past its amount, ``BudgetExceededError`` is
raised and nothing is sent. When the answer arrives the reservation is *settled* with the real cost; a
request that failed gives its reservation back; a stream left before its end keeps its worst case (what it
cost is not known). Cache hits cost nothing. Models without a catalog price are not limited.

A period (``per="hour" | "day" | "month"``, UTC calendar periods) starts every limit again from zero; without
one the limits last as long as the Client. With ``Client(shared_state=...)`` every worker draws on the same
amounts, kept in Redis (``pepperpy.shared.SharedCounter``: the check and the reservation are one atomic step,
so two workers can never both pass a limit only one of them fits under).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..catalog.tokens import estimate_tokens
from ..errors import BudgetExceededError, ConfigurationError
from ..types import ModelSpec

__all__ = ["PERIODS", "WORST_OUTPUT_TOKENS", "Budget", "BudgetKeeper", "Counter", "LocalCounter", "Reservation"]

PERIODS = {"hour": 3600, "day": 86400, "month": 31 * 86400}  # seconds, for shared keys' expiry
WORST_OUTPUT_TOKENS = 4096  # output tokens counted when neither max_tokens nor the catalog bounds them


def _empty() -> Mapping[str, float]:
    return {}


@dataclass(frozen=True)
class Budget:
    """USD limits: ``limit`` for every call, ``providers`` / ``models`` for some, each ``per`` period.

    ``models`` keys are any model name the catalog resolves (``"gpt-4o"``, ``"openai/gpt-4o"``).
    ``Client(budget=5.0)`` is ``Budget(5.0)``; ``Client(budget={"limit": 5.0, "per": "day"})`` works too.
    """

    limit: float | None = None
    per: str | None = None
    providers: Mapping[str, float] = field(default_factory=_empty)
    models: Mapping[str, float] = field(default_factory=_empty)

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
            unknown = set(option) - {"limit", "per", "providers", "models"}
            if unknown:
                raise ConfigurationError(f"budget= takes limit, per, providers and models, not "
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


@dataclass(slots=True)
class Reservation:
    """One call's worst case, held on each limit it falls under until ``BudgetKeeper.settle``."""

    amount: float
    counters: Sequence[Counter]
    settled: bool = False


MakeCounter = Callable[[str, float | None], Counter]


class BudgetKeeper:
    """A Client's budget at run time: its counters per scope and period, and the reservations of calls."""

    def __init__(self, budget: Budget, resolve: Callable[[str], ModelSpec], *,
                 make_counter: MakeCounter | None = None, clock: Callable[[], float] = time.time) -> None:
        self.budget = budget
        self.models = {resolve(name).name: amount for name, amount in budget.models.items()}
        self.make_counter = make_counter
        self.clock = clock
        self._counters: dict[tuple[str, str], tuple[Counter, LocalCounter]] = {}
        self._lock = threading.Lock()

    def reserve(self, spec: ModelSpec, *, messages: Sequence[Mapping[str, Any]] | None = None,
                texts: Sequence[str] | None = None, max_tokens: Any = None, tools: Any = None) -> Reservation | None:
        """Hold this call's worst case on every limit it falls under; BudgetExceededError when one would pass."""
        if spec.pricing is None or not self._limits(spec):
            return None
        input_tokens, output_tokens = worst_case_tokens(spec, messages=messages, texts=texts, max_tokens=max_tokens,
                                                        tools=tools)
        price = spec.pricing
        amount = (input_tokens * price.input + output_tokens * price.output) / 1_000_000
        return self.hold(spec, amount, input_tokens, output_tokens)

    def hold(self, spec: ModelSpec, amount: float, input_tokens: int, output_tokens: int) -> Reservation | None:
        """Hold ``amount`` USD, a worst case the caller worked out (``input_tokens`` / ``output_tokens`` say of
        what, for the refusal's message), on every limit ``spec`` falls under; BudgetExceededError when one would
        pass. ``reserve`` holds a chat call's; a realtime turn holds its own (audio prices, the history)."""
        limits = self._limits(spec)
        if not limits or spec.pricing is None:
            return None
        period = self._period()
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
                raise self._refusal(spec, scope, limit, spent, amount, input_tokens, output_tokens)
            held.append(counter)
        return Reservation(amount, held)

    def settle(self, reservation: Reservation | None, cost: float | None) -> None:
        """Replace the reservation by what the call cost (``None``: it failed, give it all back)."""
        if reservation is None or reservation.settled:
            return
        reservation.settled = True
        delta = (cost or 0.0) - reservation.amount
        if delta:
            for counter in reservation.counters:
                counter.add(delta)

    def spent(self, scope: str = "total") -> float:
        """USD spent (and reserved) in the current period under ``scope``."""
        with self._lock:
            counters = self._counters.get((scope, self._period()))
        if counters is None:
            return 0.0
        total = counters[0].add(0.0)
        return total if total is not None else counters[1].total

    def _limits(self, spec: ModelSpec) -> list[tuple[str, float]]:
        budget, limits = self.budget, []
        if budget.limit is not None:
            limits.append(("total", budget.limit))
        if spec.provider in budget.providers:
            limits.append((spec.provider, budget.providers[spec.provider]))
        if spec.name in self.models:
            limits.append((spec.name, self.models[spec.name]))
        return limits

    def _period(self) -> str:
        per = self.budget.per
        if per is None:
            return "all"
        stamp = time.gmtime(self.clock())
        return time.strftime({"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "month": "%Y-%m"}[per], stamp)

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

    def _refusal(self, spec: ModelSpec, scope: str, limit: float, spent: float, amount: float, input_tokens: int,
                 output_tokens: int) -> BudgetExceededError:
        per = self.budget.per
        what = "the budget" if scope == "total" else f"the budget of {scope}"
        later = f"wait for the next {per}" if per else "use a new Client"
        return BudgetExceededError(
            f"{spec.name} could cost up to {usd(amount)} for this call ({input_tokens} input tokens estimated + "
            f"{output_tokens} output tokens at its prices) and {what} has {usd(max(limit - spent, 0.0))} left of "
            f"{usd(limit)}{f' per {per}' if per else ''}; no request was sent. Lower max_tokens, raise budget=, "
            f"or {later}", scope=scope, limit=limit, spent=spent, needed=amount, period=per, model=spec.name)

    def after_fork(self) -> None:
        self._lock = threading.Lock()


def usd(amount: float) -> str:
    """``$5.00``, or enough digits to show a small amount (``$0.000123``)."""
    return f"${amount:.2f}" if amount >= 1 or amount == 0 else f"${amount:.6f}".rstrip("0")


def worst_case_tokens(spec: ModelSpec, *, messages: Sequence[Mapping[str, Any]] | None = None,
                      texts: Sequence[str] | None = None, max_tokens: Any = None, tools: Any = None) -> tuple[int, int]:
    """(input tokens estimated, output tokens at most) of one call."""
    if texts is not None:
        return sum(math.ceil(len(t.encode("utf-8")) / 4) for t in texts), 0
    input_tokens = estimate_tokens(messages or (), tools=tools)
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0:
        return input_tokens, max_tokens
    if spec.max_output_tokens:
        return input_tokens, spec.max_output_tokens
    if spec.context_window:
        return input_tokens, max(spec.context_window - input_tokens, 0)
    return input_tokens, WORST_OUTPUT_TOKENS
