"""One Client's ledger: every billable operation is checked against the budget before anything is sent and
booked once after, and ``usage()``, the budget, the ``response`` hooks, telemetry and the audit log all read
that one record (an ``Entry``).

The operations and how each is counted (docs/observability.md has the table):

- complete, stream, embed, generate_image, synthesize and its stream, transcribe and its stream: ``reserve``
  before the first request (the worst case, in the operation's unit: ``pepperpy.observe.pricing``), ``price``
  the answer at the price in force on the day the call began, ``book`` it when the call ends (a stream: at its
  end). A cache hit is booked as a hit: cost 0, the stored answer's tokens kept on the result but not billed,
  and what it had cost added to ``saved``.
- batch and video jobs: ``reserve_job`` at submission (the worst case at the batch price, or seconds × price);
  ``book_job`` when the results are first read, at the price in force on the day of submission, once per job id:
  a second ``results()`` in this process, or in any process sharing the Redis of ``shared_state``, books nothing
  again. The reservation is given back then, in the budget period it was made in (a period that has ended
  gave it back already).
- realtime turns: ``turn(provider, spec, usage)`` books a turn whose usage the session reported.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..types import ModelSpec, Pricing, Usage, day_of
from ..types._value import Value
from ._totals import UsageLedger
from .pricing import Estimate, priced

if TYPE_CHECKING:
    from .budget import BudgetKeeper, Reservation
    from .usage import UsageReport

__all__ = ["Claim", "Entry", "JobHold", "Ledger"]

R = TypeVar("R")
Worst = Callable[[ModelSpec, Pricing], Estimate]
Claim = Callable[[str], "bool | None"]
"""``claim(key)``: True the first time ``key`` is claimed anywhere (Redis ``SET NX``), False after, None when the
shared store does not answer."""


class Entry(Value):
    """One booked operation, the record everything reads: ``calls`` requests (a batch's items) of which ``errors``
    failed; ``usage`` and ``cost`` billed (a cache hit: its stored tokens, cost 0, and ``saved`` what it had
    cost); ``job_id`` for a job's results."""

    op: str
    provider: str
    model: str
    usage: Usage | None = None
    cost: float | None = None
    cached: bool = False
    saved: float | None = None
    error: bool = False
    calls: int = 1
    errors: int = 0
    job_id: str | None = None


class JobHold(Value):
    """What a job's id remembers of its reservation: ``amount`` USD held in budget ``period`` on the day ``day``
    (the day whose prices bill the job)."""

    amount: float
    period: str
    day: str


class Ledger:
    """The accounting of one Client (see the module docstring). Thread-safe."""

    def __init__(self, budget: BudgetKeeper | None = None, *, clock: Callable[[], float] = time.time,
                 claim: Claim | None = None) -> None:
        self.totals = UsageLedger()
        self.budget = budget
        self.clock = clock
        self.claim = claim
        self._lock = threading.Lock()
        self._jobs_booked: set[str] = set()
        self._job_holds: dict[str, Reservation] = {}
        self._today = (0.0, 0.0, "")  # the UTC day last asked for: its first second, its end, its text

    def day(self) -> str:
        """Today (UTC) by this ledger's clock: the day whose prices a call starting now pays."""
        now = self.clock()
        start, end, text = self._today
        if start <= now < end:  # a Unix day is 86,400 seconds: its text is known until then (strftime per call
            return text  # was a hundredth of an async call's CPU)
        text = day_of(now)
        if isinstance(now, (int, float)):
            start = now - now % 86400
            self._today = (start, start + 86400, text)
        return text

    # ------------------------------------------------------------------ a call

    def reserve(self, op: str, spec: ModelSpec, worst: Worst | None = None, *, day: str | None = None,
                **chat: Any) -> Reservation | None:
        """Hold the worst case of one operation on the budget (BudgetExceededError: nothing may be sent).
        ``worst(spec, price)`` estimates it; without it, a chat or embedding call's from ``chat`` (messages,
        texts, max_tokens, tools)."""
        budget = self.budget
        if budget is None or not budget.limited(spec):
            return None
        price = spec.price_on(day or self.day())
        estimate = worst(spec, price) if worst is not None and price is not None else None
        return budget.reserve(spec, estimate, op=op, **({} if worst is not None else chat))

    def settle(self, hold: Reservation | None, cost: float | None) -> None:
        """Give a reservation back, keeping ``cost`` (None: the call failed)."""
        if hold is not None and self.budget is not None:
            self.budget.settle(hold, cost)

    @staticmethod
    def price(spec: ModelSpec, result: R, *, day: str | None = None) -> R:
        """``result`` with its ``cost`` at the price in force on ``day`` (``pepperpy.observe.pricing``)."""
        return priced(spec, result, day=day)

    def book(self, entry: Entry, hold: Reservation | None = None, *, keep_hold: bool = False) -> Entry:
        """The one record of an operation: into the totals, and its reservation settled with its cost (given
        back when it failed; kept whole with ``keep_hold``: a stream left early, whose cost is unknown)."""
        if not keep_hold:
            self.settle(hold, None if entry.error else entry.cost)
        self.totals.record(entry.provider, entry.model, entry.usage, entry.cost, error=entry.error,
                           cached=entry.cached, saved=entry.saved, calls=entry.calls, errors=entry.errors)
        return entry

    def bill(self, provider: str, spec: ModelSpec, usage: Usage, *, day: str | None = None) -> float | None:
        """Tokens an attempt was billed without a call ending with it (a stream that broke before its first
        chunk, then retried): into the totals now, at the price of ``day``; its cost, for the call's settlement."""
        cost = spec.cost(usage, day or self.day())
        self.totals.bill(provider, spec.id, usage, cost)
        return cost

    def turn(self, provider: str, spec: ModelSpec, usage: Usage, *, op: str = "realtime",
             day: str | None = None) -> Entry:
        """Book one realtime turn whose ``usage`` the session reported: its cost at the price in force
        (``day``: None, today), into the totals and the budget. The entry point of ``pepperpy.realtime``."""
        cost = spec.cost(usage, day or self.day())
        if self.budget is not None and cost:
            self.budget.add(spec, cost)
        return self.book(Entry(op, provider, spec.id, usage, cost))

    def report(self, reset: bool = False) -> UsageReport:
        return self.totals.report(reset)

    # ------------------------------------------------------------------ jobs

    def reserve_job(self, op: str, spec: ModelSpec, worst: Worst) -> tuple[Reservation | None, JobHold]:
        """Hold a job's worst case at submission; the JobHold goes into the job's id (``remember_job`` once the id
        is known), for whichever process reads its results."""
        day = self.day()
        hold = self.reserve(op, spec, worst, day=day)
        period = hold.period if hold is not None else (self.budget.period() if self.budget is not None else "all")
        return hold, JobHold(hold.amount if hold is not None else 0.0, period, day)

    def remember_job(self, job_id: str, hold: Reservation | None) -> None:
        """The reservation of a job submitted by this process, given back when its results are booked."""
        if hold is not None:
            with self._lock:
                self._job_holds[job_id] = hold

    def book_job(self, job_id: str, op: str, provider: str, spec: ModelSpec, results: Sequence[R], *,
                 job: JobHold | None, batch: bool = False, batch_discount: float | None = None) -> list[R]:
        """Price a job's results (at the price of its submission day) and book them once per job id: the
        results priced, whether or not this call booked them. Non-result items (errors) count as errors."""
        day = job.day if job is not None else self.day()
        done = [priced(spec, r, day=day, batch=batch, batch_discount=batch_discount) if _answered(r) else r
                for r in results]
        if not self._first_booking(job_id):
            with self._lock:  # another worker booked it, and gave the shared hold back: this one is spent
                self._job_holds.pop(job_id, None)
            return done
        answered: list[Any] = [r for r in done if _answered(r)]
        costs = [getattr(r, "cost", None) for r in answered]
        cost = round(sum(c for c in costs if c is not None), 10) if answered and None not in costs else None
        usage = Usage(sum(r.usage.input_tokens for r in answered), sum(r.usage.output_tokens for r in answered),
                      sum(r.usage.total_tokens for r in answered))
        with self._lock:
            hold = self._job_holds.pop(job_id, None)
        if hold is not None:  # submitted here: the reservation settles with the cost
            self.settle(hold, cost)
        elif self.budget is not None:  # submitted elsewhere: its hold (in the id) back, the cost added
            if job is not None and job.amount:
                self.budget.add(spec, -job.amount, job.period)
            if cost:
                self.budget.add(spec, cost)
        if done:  # a job that ended with nothing (end_job) adds no row
            self.totals.record(provider, spec.id, usage, cost, calls=len(done), errors=len(done) - len(answered))
        return done

    def end_job(self, job_id: str, spec: ModelSpec, job: JobHold | None) -> None:
        """A job that ended with nothing to bill (failed, expired, cancelled): its reservation back, once."""
        self.book_job(job_id, "job", spec.provider, spec, [], job=job)

    def _first_booking(self, job_id: str) -> bool:
        """Whether this is the first time the job is booked: in this process, and in Redis when shared."""
        with self._lock:
            if job_id in self._jobs_booked:
                return False
            self._jobs_booked.add(job_id)
        if self.claim is not None:
            digest = hashlib.sha256(job_id.encode()).hexdigest()[:32]  # ids can be long; their digest is a key
            claimed = self.claim(f"booked:{digest}")
            return claimed is not False  # Redis down (None): this process books it, as its budget stands in
        return True

    def after_fork(self) -> None:
        self._lock = threading.Lock()
        self.totals.after_fork()
        if self.budget is not None:
            self.budget.after_fork()


def _answered(result: Any) -> bool:
    return not isinstance(result, BaseException) and result is not None
