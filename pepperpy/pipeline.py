"""One call through the resilience pipeline, hop by hop along its fallbacks.

For each hop (the model asked for, then each fallback): resolve and validate (the Client's ``prepare``) ->
cache lookup -> rate limiter -> breaker check -> ``transport.send`` under the retry policy -> parse ->
breaker outcome -> cache store; then one audit record for the whole call. A hop that fails with an
unavailable / timeout / connection / circuit-open / rate-limit error passes the call to the next hop;
any other error (validation, authentication, other 4xx) is raised at once. A fallback model that cannot
be prepared (missing key, params out of its range, wrong mode) is skipped; unknown names never get here,
the Client refuses them before the call. When every hop failed, the last provider error is raised.

``total_timeout`` is one deadline per call, started before the first hop and kept on its ``_Trace``: the
rate limiter does not wait past it, each hop's retries clip their timeouts to it, and no fallback hop
starts once it has passed.

Streams take the same road, but only opening the response is retried or handed to a fallback: once the
response is open the caller may already hold chunks, so a later failure is raised as it comes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

import requests

from . import audit
from ._guards import Guards
from ._observer import Observer
from ._runtimes import Runtime
from .cache import CacheInfo, make_cache
from .errors import (
    CircuitOpenError,
    PepperpyError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
)
from .media import Images, Speech, Transcription
from .ratelimit import DEFAULT_RATE_LIMIT_WAIT
from .resilience import BreakerStats, RetryPolicy, Timeout
from .transport import Request, interrupt
from .types import Completion, Embeddings, ModelSpec, ProviderSpec, Stream

__all__ = ["FALLBACK_ERRORS", "Opened", "Pipeline", "Prepared"]

if TYPE_CHECKING:
    from .shared.store import SharedState

FALLBACK_ERRORS = (ProviderUnavailableError, ProviderTimeoutError, ProviderConnectionError, CircuitOpenError,
                   RateLimitError)
R = TypeVar("R", Completion, Embeddings, Images, Speech, Transcription)
X = TypeVar("X")


@dataclass(frozen=True, slots=True)
class Prepared:
    """One hop, ready to send: the provider's runtime, the resolved model and the request; for the budget and
    telemetry, the call's checked ``params`` and its chat ``messages`` (or embedding ``texts``) as given.

    Media calls say more: ``input_bytes`` is the size of what they upload (audit records carry sizes, never
    bytes; a multipart request's files count by themselves), ``estimate`` the tokens the rate limiter reserves
    (None: a quarter of the JSON body's length), ``content`` what ``log_content`` records as the prompt (None:
    the request body; media calls give their text, without base64 data).
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


@dataclass(frozen=True, slots=True)
class Opened:
    """A streamed media answer, open: the hop that opened it, its response, and ``ended(result, error)``,
    to call once when it is done (the audit record)."""

    prepared: Prepared
    response: requests.Response
    ended: Callable[[Any, BaseException | None], None]




class _Trace:
    """Bookkeeping of one call: its deadline, and what the audit record and the token bucket need."""

    __slots__ = ("attached", "attempts", "audit", "cached", "deadline", "estimate", "failures", "op", "request_id",
                 "reservation", "span", "start", "status_code")

    def __init__(self, op: str, deadline: float | None = None) -> None:
        self.op = op
        self.span: Any = None  # the call's OpenTelemetry span, with telemetry on, until it ends
        self.attached: Any = None  # that span while it is the current one (the caller's context to restore)
        self.reservation: Any = None  # the hop's hold on the budget, with a budget
        self.attempts = 0
        self.deadline = deadline  # total_timeout: one deadline for every hop, limiter wait and retry
        # Whether an audit record may be logged: failures are WARNING, so at a WARNING level only they are;
        # _audit decides per record, once it knows the outcome.
        self.audit = audit.logger.isEnabledFor(logging.WARNING)
        self.cached = False
        self.estimate = 0
        self.failures: list[tuple[str, BaseException]] | None = None
        self.request_id: str | None = None
        self.start = time.perf_counter()
        self.status_code: int | None = None

    def failed(self, name: str, exc: BaseException) -> None:
        if self.failures is None:
            self.failures = []
        self.failures.append((name, exc))


class Hops:
    """A call's walk along its models (the one asked for, then its fallbacks), and every decision on the way:
    which hops start (none once ``total_timeout`` is spent), what a hop that cannot be prepared or fails at its
    provider leads to, and which error ends the call. No I/O: ``Pipeline._run`` and the event loop's twin
    (``_apipeline``) drive it, each preparing and sending in its own way::

        for hop, name in hops:
            try: p = prepare(name)
            except PepperpyError as exc: hops.unprepared(name, exc); continue
            hops.began(p)
            try: return p, hop, attempt(p)
            except ProviderError as exc: hops.failed(exc)            # raises, unless a fallback follows
            except BaseException as exc: hops.interrupted(exc); raise
        raise hops.exhausted()
    """

    __slots__ = ("hop", "last", "names", "p", "pipe", "trace")

    def __init__(self, pipe: Pipeline, names: Sequence[str], trace: _Trace) -> None:
        self.pipe, self.names, self.trace = pipe, names, trace
        self.hop = -1
        self.p: Prepared | None = None
        self.last: tuple[Prepared, int, ProviderError] | None = None  # the failure a fallback hop follows

    def __iter__(self) -> Iterator[tuple[int, str]]:
        trace, clock = self.trace, self.pipe.policy.clock
        for hop, name in enumerate(self.names):
            if self.last is not None and trace.deadline is not None and clock() >= trace.deadline:
                return  # total_timeout is spent: no fallback hop starts, the last error is raised
            self.hop = hop
            yield hop, name

    def unprepared(self, name: str, exc: PepperpyError) -> None:
        """The hop's model cannot be called (a missing key, params out of its range): a fallback is skipped,
        the model asked for raises."""
        if self.hop == 0:
            raise exc
        self.trace.failed(name, exc)
        if self.hop + 1 < len(self.names):
            self.pipe.observer.fallback(self.trace, name, self.names[self.hop + 1], exc)

    def began(self, p: Prepared) -> None:
        self.p = p
        observer = self.pipe.observer
        if self.hop == 0 and observer.telemetry is not None:
            observer.begin(self.trace, p.runtime.spec.name, p.model, p.runtime.transport.base_url, p.params,
                           p.messages)

    def failed(self, exc: ProviderError) -> None:
        """The hop failed at its provider (or its breaker): on to the next hop, or ``exc`` is raised."""
        p, hop, names, trace, observer = self.p, self.hop, self.names, self.trace, self.pipe.observer
        assert p is not None
        observer.hop_failed(trace, p.runtime.spec.name, p.model.id)
        if hop + 1 < len(names) and isinstance(exc, FALLBACK_ERRORS):
            trace.failed(p.model.name, exc)
            observer.fallback(trace, p.model.name, names[hop + 1], exc)
            self.last = (p, hop, exc)
            return
        self.pipe._ended(p, hop, names, trace, error=exc)
        raise exc

    def interrupted(self, exc: BaseException) -> None:
        """Cancelled, refused by the budget, or a bad input: nothing is counted, the hold is given back."""
        self.pipe.observer.settle(self.trace, None)
        self.pipe.observer.abandoned(self.trace, exc)

    def exhausted(self) -> ProviderError:
        """Every hop failed (or the deadline passed): the last provider error, to raise."""
        assert self.last is not None  # hop 0 either returned, raised, or fell back
        p, hop, error = self.last
        self.pipe._ended(p, hop, self.names, self.trace, error=error)
        return error


class Pipeline:
    """The resilience state of one Client: retry policy, per-provider breakers and limiters, cache, audit."""

    def __init__(self, policy: RetryPolicy, *, cache: Any = False, breaker: Any = None,
                 rate_limits: Mapping[str, Mapping[str, float]] | None = None,
                 rate_limit_wait: float = DEFAULT_RATE_LIMIT_WAIT, log_content: bool = False,
                 shared: SharedState | None = None, observer: Observer | None = None) -> None:
        self.policy = policy
        self.shared = shared  # Redis, for breakers, limiters and cache shared by every worker (shared/)
        self.observer = observer if observer is not None else Observer()
        self.cache = self._make_cache(cache)
        self.guards = Guards(policy, breaker=breaker, rate_limits=rate_limits, rate_limit_wait=rate_limit_wait,
                             shared=shared, watch=lambda breaker: self.observer.watch(breaker))
        self.log_content = log_content

    def after_fork(self) -> None:
        """In a forked child: fresh locks, breakers, limiters and cache (a parent thread may have held any of
        their locks at the fork, and the child must not wait on it forever)."""
        self.guards.after_fork()
        if self.shared is not None:
            self.shared.after_fork()
        self.observer.after_fork()
        if self.cache is not None:
            self.cache = self._make_cache(self.cache.config)

    def _make_cache(self, option: Any) -> Any:
        local = make_cache(option, self.policy.clock)
        if local is None or self.shared is None:
            return local
        from .shared.cache import SharedCache

        return SharedCache(self.shared, local.config, self.policy.clock)

    def close(self) -> None:
        """Close the connections to the shared state (they open again on the next call)."""
        if self.shared is not None:
            self.shared.close()

    # ------------------------------------------------------------------ calls

    def call(self, op: str, names: Sequence[str], prepare: Callable[[str], Prepared],
             parse: Callable[[Prepared, requests.Response], R], use_cache: bool = True) -> R:
        """complete / embed: the parsed result of the first hop that succeeds."""
        trace = _Trace(op, self.policy.deadline())

        def attempt(p: Prepared) -> R:
            return self._once(p, parse, use_cache, trace)

        try:
            p, hop, result = self._run(op, names, prepare, attempt, trace)
        finally:
            if trace.attached is not None:
                self.observer.detach(trace)
        self._ended(p, hop, names, trace, result=result)
        return result

    def stream(self, names: Sequence[str], prepare: Callable[[str], Prepared],
               finish: Callable[[Completion], Completion] | None = None) -> Stream:
        """stream: the first hop whose response opens; its chunks as a Stream (``finish`` completes the
        answer at its end, e.g. with ``parsed``)."""
        trace = _Trace("stream", self.policy.deadline())
        try:
            p, hop, response = self._run("stream", names, prepare, lambda p: self._guarded(p, _opened, trace),
                                         trace)
        finally:
            if trace.attached is not None:
                self.observer.detach(trace)
        spec = p.model
        guard = self._guard(p.runtime.spec)
        settle = bool(trace.estimate)

        def ended(completion: Completion | None, error: BaseException | None) -> None:
            if settle and completion is not None:
                guard.settle(trace.estimate, completion.usage.total_tokens)
            if completion is None and isinstance(error, ProviderError):
                self.observer.ledger.record(p.runtime.spec.name, spec.id, error=True)
            self._ended(p, hop, names, trace, result=completion, error=error,
                        status=None if completion is not None or error is not None else "closed")

        return Stream(p.runtime.chunks(spec, response), model=spec.id, provider=spec.provider,
                      close=response.close, spec=spec, on_end=ended,
                      interrupt=partial(interrupt, response), request_id=_request_id(response), finish=finish)

    def send(self, op: str, p: Prepared, parse: Callable[[Prepared, Any], X], *, replay: bool = True,
             fetch: Callable[[Timeout], Any] | None = None) -> X:
        """One request of a long-running job (``batch.create``, ``batch.poll``, ``video.download``...): the
        provider's rate limiter (one request, no token estimate: batch APIs have limits of their own), its
        breaker and the retry policy; never cached, no fallback, one audit record.

        ``replay=False`` is for requests that create something (a batch, a video): a timeout or a 5xx may come
        after the provider acted, and a second create would run and bill the job twice, so only the answers
        that say nothing was done are retried (429, 503, 529). ``fetch(timeout)`` replaces sending ``p.request``
        (a download through ``Transport.download``); ``parse`` then gets what it returned.
        """
        trace = _Trace(op, self.policy.deadline())
        policy = self.policy if replay else _NoReplay.of(self.policy)
        try:
            result = self._guarded(p, parse, trace, policy=policy, estimate=False, fetch=fetch)
        except ProviderError as exc:
            if trace.audit:
                self._audit(op, p, 0, (p.model.name,), trace, error=exc)
            raise
        if trace.audit:
            self._audit(op, p, 0, (p.model.name,), trace)
        return result

    def open(self, op: str, names: Sequence[str], prepare: Callable[[str], Prepared]) -> Opened:
        """A media stream (speech audio, transcript events): the first hop whose response opens. As for chat
        streams, only opening is retried or handed to a fallback."""
        trace = _Trace(op, self.policy.deadline())
        try:
            p, hop, response = self._run(op, names, prepare, lambda p: self._guarded(p, _opened, trace), trace)
        finally:
            if trace.attached is not None:
                self.observer.detach(trace)

        def ended(result: Any, error: BaseException | None) -> None:
            if result is None and isinstance(error, ProviderError):
                self.observer.ledger.record(p.runtime.spec.name, p.model.id, error=True)
            self._ended(p, hop, names, trace, result=result, error=error,
                        status=None if result is not None or error is not None else "closed")

        return Opened(p, response, ended)

    def _run(self, op: str, names: Sequence[str], prepare: Callable[[str], Prepared],
             attempt: Callable[[Prepared], X], trace: _Trace) -> tuple[Prepared, int, X]:
        hops = Hops(self, names, trace)
        for hop, name in hops:
            try:
                p = prepare(name)
            except PepperpyError as exc:
                hops.unprepared(name, exc)
                continue
            hops.began(p)
            try:
                return p, hop, attempt(p)
            except ProviderError as exc:
                hops.failed(exc)
            except BaseException as exc:  # refused by the budget, interrupted, bad input
                hops.interrupted(exc)
                raise
        raise hops.exhausted()

    def _once(self, p: Prepared, parse: Callable[[Prepared, requests.Response], R], use_cache: bool,
              trace: _Trace) -> R:
        key, hit = self._lookup(p, use_cache, trace)
        if hit is not None:
            return cast(R, hit)
        result = self._guarded(p, parse, trace)
        self._keep(p, key, result, trace)
        return result

    def _lookup(self, p: Prepared, use_cache: bool, trace: _Trace) -> tuple[Any, Any]:
        """``(cache key, the cached answer or None)``; the key is None without a cache."""
        cache = self.cache if use_cache and p.request.upload is None else None  # files are not in the key
        if cache is None:
            return None, None
        key = cache.key(p.runtime.spec.name, p.model.wire_name, p.request)
        hit = cache.get(key)
        if hit is not None:  # a private copy, already marked cached
            trace.cached = True
            if self.observer.hooks.cache_hit or trace.span is not None:
                self.observer.cache_hit(trace, p.runtime.spec.name, p.model.id)
        return key, hit

    def _keep(self, p: Prepared, key: Any, result: Any, trace: _Trace) -> None:
        """An answer came: the rate limiter's token estimate settled, the answer cached."""
        if trace.estimate:
            self._guard(p.runtime.spec).settle(trace.estimate, result.usage.total_tokens)
        if key is not None and self.cache is not None:
            self.cache.put(key, result)

    def _guarded(self, p: Prepared, parse: Callable[[Prepared, Any], X], trace: _Trace, *,
                 policy: RetryPolicy | None = None, estimate: bool = True,
                 fetch: Callable[[Timeout], Any] | None = None, admitted: Any = None) -> X:
        """Rate limiter, breaker check, send with retries, parse, breaker outcome: one provider hop.
        ``admitted``: the guard ``_admit`` already gave (the event loop admits a hop it sends from a worker)."""
        guard = admitted if admitted is not None else self._admit(p, trace, estimate)
        ticket = guard.enter(trace.estimate, p.model.id, trace.deadline)
        send = fetch if fetch is not None else partial(self._send, p)
        if self.observer.hooks.request and fetch is None:
            send = partial(self._send_told, p, trace)
        try:
            response = (policy or self.policy).call(send, p.runtime.transport.timeout, trace, trace.deadline,
                                                    self._on_retry(p, trace))
            result = parse(p, response)
        except BaseException as exc:  # the breaker decides what counts; a trial slot is always released
            guard.failed(exc, ticket)
            raise
        guard.succeeded(ticket)
        self._answered(response, trace)
        return result

    def _admit(self, p: Prepared, trace: _Trace, estimate: bool = True) -> Any:
        """The hop's guard, once its worst case is held on the budget and its tokens estimated for the limiter."""
        guard = self._guard(p.runtime.spec)
        if self.observer.budget is not None and estimate:
            self.observer.reserve(trace, p.model, p.params, p.messages, p.texts)
        if guard.limiter is not None and guard.limiter.tpm and estimate:
            trace.estimate = p.estimate if p.estimate is not None else len(
                json.dumps(p.request.json, ensure_ascii=False, default=str)) // 4
        return guard

    def _on_retry(self, p: Prepared, trace: _Trace) -> Callable[[ProviderError, float, int], None] | None:
        return partial(self._retried, p, trace) if self.observer.hooks.retry or trace.span is not None else None

    @staticmethod
    def _answered(response: Any, trace: _Trace) -> None:
        if trace.audit and hasattr(response, "status_code"):  # a response (requests', or the event loop's)
            trace.status_code = response.status_code
            trace.request_id = _request_id(response)

    @staticmethod
    def _send(p: Prepared, timeout: Timeout) -> requests.Response:
        return p.runtime.transport.send(p.request, model=p.model.id, timeout=timeout)

    def _send_told(self, p: Prepared, trace: _Trace, timeout: Timeout) -> requests.Response:
        """``_send`` with the ``request`` hooks told first."""
        self.observer.request(trace, p.runtime.spec.name, p.model.id, p.runtime.transport.url(p.request.path))
        return p.runtime.transport.send(p.request, model=p.model.id, timeout=timeout)

    def _retried(self, p: Prepared, trace: _Trace, error: ProviderError, wait: float, attempt: int) -> None:
        self.observer.retry(trace, p.runtime.spec.name, p.model.id, error, wait, attempt)

    # ------------------------------------------------------------------ per provider

    def _guard(self, provider: ProviderSpec) -> Any:
        return self.guards.of(provider)

    def breaker_state(self, provider: ProviderSpec) -> str:
        return self.guards.breaker_state(provider)

    def breaker_stats(self, provider: str) -> BreakerStats:
        return self.guards.breaker_stats(provider)

    def cache_info(self) -> CacheInfo:
        return self.cache.info() if self.cache is not None else CacheInfo(0, 0, 0, 0)

    # ------------------------------------------------------------------ the end of a call

    def _ended(self, p: Prepared, hop: int, names: Sequence[str], trace: _Trace, *, result: Any = None,
               error: BaseException | None = None, status: str | None = None) -> None:
        """One call is over: the observer (totals, budget, hooks, span), then the audit record."""
        self.observer.ended(trace, p.runtime.spec.name, p.model.id, hop, result=result, error=error)
        if trace.audit and (result is not None or error is None or isinstance(error, ProviderError)):
            failure = error if isinstance(error, ProviderError) else None
            status = status or ("ok" if failure is None else type(failure).__name__)
            if audit.logger.isEnabledFor(audit.level_of(status)):  # at WARNING, a success costs no more
                self._audit(trace.op, p, hop, names, trace, result=result, error=failure, status=status)

    # ------------------------------------------------------------------ audit

    def _audit(self, op: str, p: Prepared, hop: int, names: Sequence[str], trace: _Trace, *,
               result: Any = None, error: ProviderError | None = None, status: str | None = None) -> None:
        status = status or ("ok" if error is None else type(error).__name__)
        if not audit.logger.isEnabledFor(audit.level_of(status)):
            return  # successes are INFO records, failures WARNING: the check needs the outcome
        usage = result.usage if result is not None else None
        fields: dict[str, Any] = {
            "op": op, "provider": p.runtime.spec.name, "model": p.model.id,
            "latency_ms": round((time.perf_counter() - trace.start) * 1000.0, 3),
            "status": status,
            "status_code": error.status_code if error is not None else trace.status_code,
            "attempts": trace.attempts,
            "input_tokens": usage.input_tokens if usage else None,
            "output_tokens": usage.output_tokens if usage else None,
            "total_tokens": usage.total_tokens if usage else None,
            "cost": result.cost if result is not None else None,
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
        if self.log_content:
            fields["prompt"] = p.request.json if p.content is None else p.content
            fields["output"] = result.text if isinstance(result, (Completion, Transcription)) else None
        audit.emit(fields)


@dataclass(frozen=True)
class _NoReplay(RetryPolicy):
    """The Client's retry policy for requests that must not run twice: only "nothing was done" is retried."""

    @classmethod
    def of(cls, policy: RetryPolicy) -> _NoReplay:
        return cls(**{f.name: getattr(policy, f.name) for f in fields(policy)})

    def should_retry(self, exc: ProviderError) -> bool:
        return exc.status_code in (429, 503, 529) and super().should_retry(exc)


def _request_id(response: requests.Response) -> str | None:
    headers = response.headers
    return headers.get("x-request-id") or headers.get("request-id")


def _opened(p: Prepared, response: requests.Response) -> requests.Response:
    """A stream's "parse": the open response itself (its chunks are read later, outside the pipeline)."""
    return response
