"""One call's pieces, as the pipeline passes them around: a hop ready to send (``Prepared``), a media stream
once open (``Opened``), the call's bookkeeping (``Trace``: its deadline, and what its audit record and the
token bucket need), and that audit record (``audit_record``), built once the call's outcome is known.

No I/O and no decisions: ``Hops`` (``_hops``) decides where a call goes, ``Pipeline`` (``pipeline``) and its
event-loop twin (``_apipeline``) send it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..observe import audit
from ..observe.ledger import Entry, Worst
from ..types._value import Value

if TYPE_CHECKING:
    import requests

    from ..errors import ProviderError
    from ..http.transport import Request
    from ..types import ModelSpec
    from ._runtimes import Runtime

__all__ = ["Opened", "Prepared", "Trace", "audit_record"]


class Prepared(Value):
    """One hop, ready to send: the provider's runtime, the resolved model and the request; for the budget and
    telemetry, the call's checked ``params`` and its chat ``messages`` (or embedding ``texts``) as given.

    Media calls say more: ``input_bytes`` is the size of what they upload (audit records carry sizes, never
    bytes; a multipart request's files count by themselves), ``estimate`` the tokens the rate limiter reserves
    (None: a quarter of the JSON body's length), ``content`` what ``log_content`` records as the prompt (None:
    the request body; media calls give their text, without base64 data), ``worst`` their worst-case cost in their
    own unit, for the budget (``pepperpy.observe.pricing``; None: a chat or embedding call's, from ``params``).
A plain chat call a cached Client remembers (``Preparer._remembered``) carries its ``cache_key``.
    """

    runtime: Runtime
    model: ModelSpec
    request: Request
    params: Mapping[str, Any] | None = None
    messages: Sequence[Mapping[str, Any]] | None = None
    texts: Sequence[str] | None = None
    input_bytes: int = 0
    estimate: int | None = None
    content: Any = None
    worst: Worst | None = None
    cache_key: str | None = None  # ``ResponseCache.key`` of this hop, when it was computed with the request


class Opened(Value):
    """A streamed media answer, open: the hop that opened it, its response, and ``ended(result, error)``,
    to call once when it is done: it books the result (or the failure) and returns the result priced."""

    prepared: Prepared
    response: requests.Response
    ended: Callable[[Any, BaseException | None], Any]


class Trace:
    """Bookkeeping of one call: its deadline, and what the audit record and the token bucket need."""

    __slots__ = ("attached", "attempts", "audit", "billed", "cached", "day", "deadline", "estimate", "failures",
                 "op", "request_id", "reservation", "saved", "span", "start", "status_code")

    def __init__(self, op: str, deadline: float | None = None, day: str | None = None) -> None:
        self.op = op
        self.day = day  # the day the call began, whose prices it pays (``ModelSpec.price_on``); None: today
        self.span: Any = None  # the call's OpenTelemetry span, with telemetry on, until it ends
        self.attached: Any = None  # that span while it is the current one (the caller's context to restore)
        self.reservation: Any = None  # the hop's hold on the budget, with a budget
        self.attempts = 0
        self.deadline = deadline  # total_timeout: one deadline for every hop, limiter wait and retry
        # Whether an audit record may be logged: failures are WARNING, so at a WARNING level only they are;
        # audit_record decides per record, once it knows the outcome.
        self.audit = audit.logger.isEnabledFor(logging.WARNING)
        self.cached = False
        self.saved: float | None = None  # a cache hit: what the stored answer had cost
        self.billed = 0.0  # USD the hop's broken attempts were billed (a stream cut before its first chunk)
        self.estimate = 0
        self.failures: list[tuple[str, BaseException]] | None = None
        self.request_id: str | None = None
        self.start = time.perf_counter()
        self.status_code: int | None = None

    def failed(self, name: str, exc: BaseException) -> None:
        if self.failures is None:
            self.failures = []
        self.failures.append((name, exc))


def audit_record(op: str, p: Prepared, hop: int, names: Sequence[str], trace: Trace, *, log_content: bool,
                 result: Any = None, error: ProviderError | None = None, status: str | None = None,
                 entry: Entry | None = None) -> None:
    """The call's one audit record, to ``pepperpy.audit`` (see ``audit``), unless its level is off;
    ``log_content``: the Client's, to record the prompt and the output too; ``entry``: the ledger's record of
    the call (its usage and cost)."""
    status = status or ("ok" if error is None else type(error).__name__)
    if not audit.logger.isEnabledFor(audit.level_of(status)):
        return  # successes are INFO records, failures WARNING: the check needs the outcome
    usage = entry.usage if entry is not None else result.usage if result is not None else None
    fields: dict[str, Any] = {
        "op": op, "provider": p.runtime.spec.name, "model": p.model.id,
        "latency_ms": round((time.perf_counter() - trace.start) * 1000.0, 3),
        "status": status,
        "status_code": error.status_code if error is not None else trace.status_code,
        "attempts": trace.attempts,
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "total_tokens": usage.total_tokens if usage else None,
        "cost": entry.cost if entry is not None else getattr(result, "cost", None),
        "cached": trace.cached, "fallback_hop": hop, "fallback_from": names[0] if hop else None,
        "failures": [f"{name}: {type(exc).__name__}: {exc}" for name, exc in trace.failures or ()],
        "request_id": error.request_id if error is not None else (
            trace.request_id or getattr(result, "request_id", None)),
    }
    input_bytes = p.input_bytes or p.request.upload_bytes
    output_bytes = getattr(result, "size_bytes", None)
    if input_bytes or output_bytes is not None:  # media: sizes only, never the bytes
        fields["input_bytes"] = input_bytes or None
        fields["output_bytes"] = output_bytes
    if log_content:
        fields["prompt"] = p.request.json if p.content is None else p.content
        text = getattr(result, "text", None)  # a Completion's, a Transcription's, a realtime reply's
        fields["output"] = text if isinstance(text, str) else None
    audit.emit(fields)
