"""What a Client has spent: ``client.usage()`` totals calls, errors, tokens, cost and cache hits per model.

>>> report = client.usage()                                   # doctest: +SKIP
>>> report.total.cost, report.total.calls                     # doctest: +SKIP
(0.00042, 12)
>>> report["openai/gpt-4o-mini"].output_tokens                # doctest: +SKIP
>>> print(report)                                             # doctest: +SKIP

Every call counts once under the model that answered it (a fallback hop that failed counts as a call and an
error under its own model); a batch counts one call per item answered, when its results are first read. A call
answered by the response cache counts as a call and a cache hit, with no tokens and no cost (nothing was sent),
and what the answer cost when it was made adds to ``saved``. Cost is USD from the catalog's prices; a model
without a price adds its tokens but no cost. The totals are what ``pepperpy.observe.ledger`` books, one record
per operation. ``client.usage(reset=True)`` returns the totals and starts again from zero.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..types import plural
from ..types._value import Value

__all__ = ["UsageReport", "UsageTotals"]  # the running totals behind them: ``_totals.UsageLedger``


class UsageTotals(Value):
    """Totals of some calls; ``total_tokens`` is input + output; ``saved`` is what the cache hits would have
    cost."""

    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cache_hits: int = 0
    saved: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: UsageTotals) -> UsageTotals:
        return UsageTotals(self.calls + other.calls, self.errors + other.errors,
                           self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens,
                           round(self.cost + other.cost, 10), self.cache_hits + other.cache_hits,
                           round(self.saved + other.saved, 10))


@dataclass(frozen=True, repr=False)
class UsageReport(Mapping[str, UsageTotals]):
    """Totals by ``"provider/model"`` (a read-only mapping), with ``total`` and ``by_provider`` added up."""

    by_model: Mapping[str, UsageTotals] = field(default_factory=dict)

    @property
    def total(self) -> UsageTotals:
        return sum(self.by_model.values(), UsageTotals())

    @property
    def by_provider(self) -> dict[str, UsageTotals]:
        found: dict[str, UsageTotals] = {}
        for name, totals in self.by_model.items():
            provider = name.split("/", 1)[0]
            found[provider] = found.get(provider, UsageTotals()) + totals
        return found

    def __getitem__(self, name: str) -> UsageTotals:
        """``report["openai/gpt-4o"]``; a provider name alone gives that provider's totals."""
        if name in self.by_model:
            return self.by_model[name]
        if "/" not in name and any(key.startswith(name + "/") for key in self.by_model):
            return self.by_provider[name]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_model)

    def __len__(self) -> int:
        return len(self.by_model)

    def __str__(self) -> str:
        """A small table, one line per model and a total, as the CLI prints it."""
        rows = [(name, t) for name, t in sorted(self.by_model.items())]
        if not rows:
            return "no calls"
        if len(rows) > 1:
            rows.append(("total", self.total))
        width = max([len(name) for name, _ in rows] + [5])
        saved = any(t.saved for _, t in rows)  # a column only when the cache saved something
        lines = [f"{'model':<{width}}  {'calls':>6} {'errors':>6} {'cached':>6} {'in':>9} {'out':>9} {'cost':>11}"
                 + (f" {'saved':>11}" if saved else "")]
        for name, t in rows:
            column = f" {f'${t.saved:.6f}':>11}" if saved else ""
            lines.append(f"{name:<{width}}  {t.calls:>6} {t.errors:>6} {t.cache_hits:>6} {t.input_tokens:>9} "
                         f"{t.output_tokens:>9} {f'${t.cost:.6f}':>11}{column}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        t = self.total
        return (f"UsageReport({plural(len(self.by_model), 'model')}, calls={t.calls}, errors={t.errors}, "
                f"tokens={t.total_tokens}, cost={t.cost!r}{f', saved={t.saved!r}' if t.saved else ''})")
