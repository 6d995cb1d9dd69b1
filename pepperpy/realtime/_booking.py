"""How a realtime turn is counted: its worst case held on the budget before the provider is asked to answer,
then booked once from the usage the provider reports (totals, budget, ``response`` hooks, telemetry span, one
audit record), as every other call is.

``book`` is the one function that books, through the observer into the ledger (``pepperpy.observe``); the
worst case and the price come from ``pepperpy.observe.pricing``: nothing here computes a cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog.tokens import estimate_tokens
from ..errors import ProviderError
from ..observe.budget import WORST_OUTPUT_TOKENS
from ..observe.pricing import realtime_worst
from ..pipeline._blocking import Pipeline, Prepared
from ..pipeline._call import Trace, audit_record
from ..types import ModelSpec, Usage
from ._config import SessionConfig

__all__ = ["Books", "History"]

OP = "realtime"


@dataclass
class History:
    """What the provider bills again on every turn: the conversation so far, in text and audio tokens (from the
    last answer's reported usage; before the first, the instructions and tools, estimated)."""

    text_tokens: int = 0
    audio_tokens: int = 0

    def after(self, usage: Usage) -> None:
        """The conversation once an answer with ``usage`` is in it: its input (history included) plus its output."""
        audio = usage.input_audio_tokens + usage.output_audio_tokens
        self.audio_tokens = audio
        self.text_tokens = max(usage.input_tokens + usage.output_tokens - audio, 0)


class Books:
    """The counting of one session's turns, on its Client's pipeline (observer, budget, audit)."""

    def __init__(self, pipeline: Pipeline, prepared: Prepared, base_url: str, config: SessionConfig) -> None:
        self.pipeline = pipeline
        self.prepared = prepared
        self.base_url = base_url
        self.config = config
        self.spec: ModelSpec = prepared.model
        self.history = History(text_tokens=estimate_tokens(
            [{"role": "system", "content": config.instructions or ""}],
            tools=config.tools.definitions() if config.tools is not None else None))

    def trace(self) -> Trace:
        """A new turn's trace: its span starts (with telemetry), not made the current one (a turn's events may be
        read in another thread or task than the one that asked)."""
        trace = Trace(OP)
        observer = self.pipeline.observer
        observer.begin(trace, self.spec.provider, self.spec, self.base_url, {"max_tokens": self.max_output}, None)
        observer.detach(trace)
        return trace

    @property
    def max_output(self) -> int:
        spec = self.spec
        return self.config.max_output_tokens or spec.max_output_tokens or WORST_OUTPUT_TOKENS

    def hold(self, trace: Trace, *, text: str | None = None, audio_bytes: int = 0, spent: float = 0.0) -> None:
        """Hold the worst case of one answer (BudgetExceededError: nothing may be sent), as
        ``pepperpy.observe.pricing.realtime_worst`` works it out: the history the provider bills again, the new
        input, and the session's max output at the dearer of its text and audio prices. ``spent``: what the
        turn's earlier answers cost, settled first (a turn that ran tools asks again)."""
        keeper = self.pipeline.observer.budget
        price = self.spec.pricing
        if keeper is None or price is None:
            return
        if trace.reservation is not None:
            keeper.settle(trace.reservation, spent)
            trace.reservation = None
        estimate = realtime_worst(
            price, text_tokens=estimate_tokens([{"role": "user", "content": text}]) if text else 0,
            audio_seconds=audio_bytes / (2 * self.config.input_rate), history_text=self.history.text_tokens,
            history_audio=self.history.audio_tokens, max_output=self.max_output,
            audio_out=self.config.output == "audio")
        trace.reservation = keeper.hold(self.spec, estimate)

    def book(self, trace: Trace, result: Any = None, error: BaseException | None = None, *, spent: float = 0.0,
             content: Any = None) -> None:
        """The one booking of a turn, once it is over: ``result`` (a RealtimeReply, or a TurnDone of an answer
        read from the event stream) with its usage and cost, or the ``error`` it ended with. ``spent``: the part
        of the cost already settled by ``hold``. The conversation's size is kept for the next worst case."""
        observer = self.pipeline.observer
        provider, model = self.spec.provider, self.spec.id
        keeper = observer.budget
        if result is not None:
            self.history.after(result.usage)
            if trace.reservation is not None and keeper is not None and spent:
                keeper.settle(trace.reservation, (result.cost or 0.0) - spent)
                trace.reservation = None
        elif isinstance(error, ProviderError):
            observer.hop_failed(trace, provider, model)
        else:
            observer.settle(trace, None)
        observer.ended(trace, provider, model, 0, result=result, error=error)
        if trace.audit and (result is not None or isinstance(error, ProviderError)):
            failure = error if isinstance(error, ProviderError) else None
            p = self.prepared if content is None else Prepared(self.prepared.runtime, self.spec, self.prepared.request,
                                                               content=content)
            status = "ok" if failure is None else type(failure).__name__
            audit_record(OP, p, 0, (self.spec.name,), trace, log_content=self.pipeline.log_content, result=result,
                         error=failure, status=status)
