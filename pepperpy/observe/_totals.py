"""The running totals behind ``client.usage()`` (``pepperpy.observe.usage``): one row per ``provider/model``,
added to under a short lock by the ledger's records; the report's classes load with the first report."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..types import Usage
    from .usage import UsageReport

__all__ = ["UsageLedger"]


class UsageLedger:
    """The running totals of one Client. Thread-safe: one short lock per recorded call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, list[float]] = {}

    def record(self, provider: str, model: str, usage: Usage | None = None, cost: float | None = None, *,
               error: bool = False, cached: bool = False, saved: float | None = None, calls: int = 1,
               errors: int = 0) -> None:
        """Add one booked operation (``calls`` requests, ``errors`` of them failed: a batch's items)."""
        key = f"{provider}/{model}"
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = [0, 0, 0, 0, 0.0, 0, 0.0]
            row[0] += calls
            row[1] += errors
            if error:
                row[1] += 1
            elif cached:
                row[5] += 1
                row[6] += saved or 0.0
            else:
                if usage is not None:
                    row[2] += usage.input_tokens
                    row[3] += usage.output_tokens
                if cost:
                    row[4] += cost

    def bill(self, provider: str, model: str, usage: Usage, cost: float | None) -> None:
        """Tokens and cost of an attempt that was billed without a call ending with it (a stream that broke
        before its first chunk, then retried): added to the totals, the call counted by its end."""
        key = f"{provider}/{model}"
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = [0, 0, 0, 0, 0.0, 0, 0.0]
            row[2] += usage.input_tokens
            row[3] += usage.output_tokens
            if cost:
                row[4] += cost

    def report(self, reset: bool = False) -> UsageReport:
        with self._lock:
            rows = self._rows
            if reset:
                self._rows = {}
            else:
                rows = {key: list(row) for key, row in rows.items()}
        from .usage import UsageReport, UsageTotals  # the report's classes are made for the first report

        return UsageReport({key: UsageTotals(int(r[0]), int(r[1]), int(r[2]), int(r[3]), round(r[4], 10), int(r[5]),
                                             round(r[6], 10)) for key, r in sorted(rows.items())})

    def after_fork(self) -> None:
        self._lock = threading.Lock()
