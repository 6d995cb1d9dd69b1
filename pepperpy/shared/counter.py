"""A number every worker adds to, with an atomic "add unless it would pass the limit": the seam for budgets;
and a mark set once (``claim``): a job's results are booked by one worker only.

``try_add(amount, limit)`` runs one Lua script (``COUNTER_ADD``): read, compare, add, in one step inside Redis,
so two workers can never both pass a limit that only one of them fits under. ``add(delta)`` settles an
estimate with the real amount. A period (a day's budget) is a key per period with a ``ttl``.
"""

from __future__ import annotations

from .scripts import CLAIM, COUNTER_ADD
from .store import UNAVAILABLE, SharedState

CLAIM_TTL = 400 * 86400.0  # seconds a claim is remembered: longer than any job's results can be read


class SharedCounter:
    """A float in Redis under ``<namespace>:counter:<name>``; every method returns None while Redis is down."""

    def __init__(self, state: SharedState, name: str, ttl: float | None = None) -> None:
        self.shared = state
        self.key = state.key("counter", name)
        self.ttl = ttl or 0.0

    def try_add(self, amount: float, limit: float | None = None) -> tuple[bool, float] | None:
        """Add ``amount`` unless the total would pass ``limit``: ``(added, total)``, or None when Redis is down."""
        reply = self.shared.run(COUNTER_ADD, (self.key,), (repr(float(amount)), "" if limit is None else
                                                           repr(float(limit)), self.ttl))
        if reply is UNAVAILABLE:
            return None
        return bool(int(reply[0])), float(reply[1])

    def add(self, delta: float) -> float | None:
        """Add ``delta`` (negative to give back) whatever the total; the new total, or None when Redis is down."""
        result = self.try_add(delta)
        return None if result is None else result[1]

    def __repr__(self) -> str:
        return f"<SharedCounter {self.key} in {self.shared.location}>"


def claim(state: SharedState, name: str, ttl: float = CLAIM_TTL) -> bool | None:
    """True the first time any worker claims ``name`` (``<namespace>:claim:<name>``), False after; None while
    Redis is down."""
    reply = state.run(CLAIM, (state.key("claim", name),), (repr(float(ttl)),))
    return None if reply is UNAVAILABLE else bool(int(reply))
