"""What the pipeline reports about each call: the ledger (usage totals and the budget), hooks and OpenTelemetry.

The pipeline calls an ``Observer`` at fixed points of a call (a hop prepared, a request about to be sent, a
retry, a fallback, a cache hit, the end) with plain names and numbers. At the end the ledger books the call once
(``pepperpy.observe.ledger``), and the hooks, the span and the audit record read that one ``Entry``. Usage totals
are always kept (one short lock per call); everything else costs nothing unless it is in use: a hook list is an
empty tuple until ``client.on`` fills it, the budget and telemetry are None until the Client turns them on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._redact import safe_url
from ..config import telemetry_enabled
from ..errors import PepperpyError, ProviderError
from ..types import ModelSpec, Usage
from .hooks import Hooks, emit
from .ledger import Claim, Entry, Ledger, Worst

if TYPE_CHECKING:
    from ..resilience.breaker import ProviderBreaker
    from .budget import Budget, BudgetKeeper, MakeCounter, Reservation
    from .telemetry import Telemetry

__all__ = ["Observer"]


class CallTrace(Protocol):
    """The parts of the pipeline's per-call trace the observer uses."""

    op: str
    start: float
    attempts: int
    cached: bool
    saved: float | None
    day: str | None
    request_id: str | None
    span: Any
    attached: Any
    reservation: Reservation | None
    billed: float


class Observer:
    """One Client's ledger (usage totals and budget), hooks and telemetry."""

    __slots__ = ("hooks", "ledger", "telemetry")

    def __init__(self, *, budget: BudgetKeeper | None = None, telemetry: Telemetry | None = None,
                 ledger: Ledger | None = None) -> None:
        self.hooks = Hooks()
        self.ledger = ledger if ledger is not None else Ledger(budget)
        self.telemetry = telemetry

    @property
    def budget(self) -> BudgetKeeper | None:
        """The budget keeper, None without a budget (``Client(budget=...)``)."""
        return self.ledger.budget

    @classmethod
    def build(cls, *, budget: Budget | None, resolve: Any, telemetry: bool | None, telemetry_env: str | None,
              log_content: bool, make_counter: MakeCounter | None = None, claim: Claim | None = None,
              shared: str | None = None) -> Observer:
        """A Client's observer: its ledger and budget keeper (``resolve`` gives a model name's spec;
        ``make_counter`` the shared counters of a budget kept in Redis, ``claim`` the marks of jobs booked there,
        ``shared`` where it is, for messages) and its OpenTelemetry instruments, imported only when
        ``telemetry`` (or, left unset, ``PEPPERPY_TELEMETRY``'s value ``telemetry_env``) turns them on."""
        instruments = None
        if telemetry_enabled(telemetry, telemetry_env):  # the telemetry module loads only when it is on
            from .telemetry import Telemetry

            instruments = Telemetry(log_content)
        keeper = None
        if budget is not None:  # the budget's module is imported only by a Client that has one
            from .budget import BudgetKeeper

            keeper = BudgetKeeper(budget, resolve, make_counter=make_counter, shared=shared)
        return cls(telemetry=instruments, ledger=Ledger(keeper, claim=claim))

    # ------------------------------------------------------------------ a call's hops

    def begin(self, trace: CallTrace, provider: str, spec: ModelSpec, base_url: str,
              params: Mapping[str, Any] | None, messages: Sequence[Mapping[str, Any]] | None) -> None:
        """The call's first hop is prepared: its span starts (with telemetry)."""
        if self.telemetry is not None and trace.span is None:
            trace.span = trace.attached = self.telemetry.start(trace.op, provider, spec.wire_name, base_url, params,
                                                               messages)

    def detach(self, trace: CallTrace) -> None:
        """The call's span stops being the current one (kept apart from ``span``, which ``ended`` clears: a call
        that failed has ended its span before it returns, and its context must still be restored)."""
        if trace.attached is not None and self.telemetry is not None:
            self.telemetry.detach(trace.attached)
            trace.attached = None

    def reserve(self, trace: CallTrace, spec: ModelSpec, params: Mapping[str, Any] | None,
                messages: Sequence[Mapping[str, Any]] | None, texts: Sequence[str] | None,
                worst: Worst | None = None) -> None:
        """Hold the hop's worst-case cost on the budget (BudgetExceededError: nothing is sent); ``worst``
        estimates a media call's, in its own unit."""
        if self.ledger.budget is not None:
            trace.reservation = self.ledger.reserve(
                trace.op, spec, worst, day=trace.day, messages=messages, texts=texts,
                max_tokens=(params or {}).get("max_tokens"), tools=(params or {}).get("tools"))

    def settle(self, trace: CallTrace, cost: float | None) -> None:
        """The hop's hold on the budget replaced by what it cost: ``cost`` (None: nothing) plus what its broken
        attempts were billed (``booked``)."""
        billed, trace.billed = trace.billed, 0.0
        if trace.reservation is not None:
            self.ledger.settle(trace.reservation, (cost or 0.0) + billed if cost is not None or billed else None)
            trace.reservation = None

    def booked(self, trace: CallTrace, provider: str, model: ModelSpec, usage: Usage) -> None:
        """An attempt that broke after its provider stated its usage (a stream cut before its first chunk): its
        tokens and cost (the ledger's, at the call's day) in the totals now, its cost on the budget when the hop
        settles."""
        cost = self.ledger.bill(provider, model, usage, day=trace.day)
        trace.billed += cost or 0.0

    def request(self, trace: CallTrace, provider: str, model: str, url: str) -> None:
        from .events import RequestEvent  # an event object is made only when a hook listens (here: request)

        emit(self.hooks.request, RequestEvent(trace.op, provider, model, trace.attempts, safe_url(url)))

    def retry(self, trace: CallTrace, provider: str, model: str, error: ProviderError, wait: float,
              attempt: int) -> None:
        if self.hooks.retry:
            from .events import RetryEvent

            emit(self.hooks.retry, RetryEvent(trace.op, provider, model, attempt, wait, error))
        if trace.span is not None and self.telemetry is not None:
            from .telemetry import error_type

            self.telemetry.event(trace.span, "pepperpy.retry", {"pepperpy.attempt": attempt,
                                                                "pepperpy.retry.wait": wait,
                                                                "error.type": error_type(error)})

    def fallback(self, trace: CallTrace, from_model: str, to_model: str, error: PepperpyError) -> None:
        if self.hooks.fallback:
            from .events import FallbackEvent

            emit(self.hooks.fallback, FallbackEvent(trace.op, from_model, to_model, error))
        if trace.span is not None and self.telemetry is not None:
            from .telemetry import error_type

            self.telemetry.event(trace.span, "pepperpy.fallback", {"pepperpy.fallback.from": from_model,
                                                                   "pepperpy.fallback.to": to_model,
                                                                   "error.type": error_type(error)})

    def cache_hit(self, trace: CallTrace, provider: str, model: str) -> None:
        if self.hooks.cache_hit:
            from .events import CacheHitEvent

            emit(self.hooks.cache_hit, CacheHitEvent(trace.op, provider, model))
        if trace.span is not None and self.telemetry is not None:
            self.telemetry.event(trace.span, "pepperpy.cache_hit", {})

    def hop_failed(self, trace: CallTrace, provider: str, model: str) -> None:
        """A hop that reached its provider (or its breaker) failed: a call and an error in the totals, its
        reservation given back (but what its broken attempts were billed)."""
        self.settle(trace, None)
        self.ledger.book(Entry(trace.op, provider, model, error=True))

    def ended(self, trace: CallTrace, provider: str, model: str, hop: int, *,
              result: Any = None, error: BaseException | None = None, record: bool = True) -> Entry | None:
        """The call is over: the ledger books it once (an answer, or a stream left before its end; a failed hop
        was booked by ``hop_failed``), then the ``response`` hooks, the span and metrics read that entry.
        ``result`` is a priced Completion, Embeddings or media result (Images, Speech, Transcription).
        ``record=False``: the caller has no use for the entry (no audit record of it is logged): an answer
        nothing else reads (no hook, no span, no hold on the budget) goes into the totals without one."""
        entry = None
        if result is not None:
            if not record and not self.hooks.response and trace.span is None and trace.reservation is None \
                    and not trace.billed:  # what book() does with this entry, without making it
                self.ledger.totals.record(provider, model, result.usage, result.cost, cached=trace.cached,
                                          saved=trace.saved)
                return None
            self.settle(trace, result.cost)
            entry = self.ledger.book(Entry(trace.op, provider, model, result.usage, result.cost, trace.cached,
                                           trace.saved))
        elif error is None:  # a stream left before its end: a call whose tokens are unknown keeps its worst case
            entry = self.ledger.book(Entry(trace.op, provider, model))
            trace.reservation = None
        if self.hooks.response:
            from .events import ResponseEvent

            status = "ok" if error is None else type(error).__name__
            emit(self.hooks.response, ResponseEvent(
                trace.op, provider, model, status, time.perf_counter() - trace.start,
                entry.usage if entry is not None else None, entry.cost if entry is not None else None,
                trace.cached, trace.attempts, hop, getattr(result, "request_id", None) or trace.request_id,
                error if isinstance(error, PepperpyError) else None))
        if trace.span is not None and self.telemetry is not None:
            span, trace.span = trace.span, None
            self.telemetry.end(span, time.perf_counter() - trace.start, provider=provider, model=model,
                               result=result, error=error, cached=trace.cached, entry=entry)
        return entry

    def abandoned(self, trace: CallTrace, error: BaseException) -> None:
        """The call failed before any hop was counted (prepared, budget refused, interrupted): end its span."""
        if trace.span is not None and self.telemetry is not None:
            span, trace.span = trace.span, None
            self.telemetry.end(span, time.perf_counter() - trace.start, provider=_provider_of(span), model="",
                               error=error)

    # ------------------------------------------------------------------ breakers

    def watch(self, breaker: ProviderBreaker) -> None:
        """Send ``breaker``'s state changes to the ``breaker`` hooks."""
        hooks = self.hooks

        def changed(old: str, new: str) -> None:
            if hooks.breaker:
                from .events import BreakerEvent

                emit(hooks.breaker, BreakerEvent(breaker.provider, old, new, breaker.fail_counter))

        breaker.on_change = changed

    def after_fork(self) -> None:
        self.hooks.after_fork()
        self.ledger.after_fork()


def _provider_of(handle: Any) -> str:
    attributes = handle[2]
    return str(attributes.get("gen_ai.provider.name", ""))

