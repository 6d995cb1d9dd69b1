"""One call through the resilience pipeline, hop by hop along its fallbacks.

For each hop (the model asked for, then each fallback): resolve and validate (the Client's ``prepare``) ->
cache lookup -> rate limiter -> breaker check -> ``transport.send`` under the retry policy -> parse ->
breaker outcome -> cache store; then one audit record for the whole call. Which hop comes next, and which
error ends the call, is ``Hops``'s decision (``_hops``); unknown names never get here, the Client refuses
them before the call. A call's pieces (``Prepared``, ``Opened``, its ``Trace`` and its audit record) are in
``_call``.

``total_timeout`` is one deadline per call, started before the first hop and kept on its ``Trace``: the
rate limiter does not wait past it, each hop's retries clip their timeouts to it, and no fallback hop
starts once it has passed.

Streams take the same road, up to their first chunk with content (``_stream_start``): a stream that breaks
before it is retried and handed to a fallback like a failed request; once that chunk is out, the caller holds
part of the answer, so a later failure is raised as it comes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

import requests

from ..errors import PepperpyError, ProviderError
from ..http.transport import interrupt
from ..observe import audit
from ..observe._observer import Observer
from ..observe.ledger import Entry
from ..resilience.limiter import DEFAULT_RATE_LIMIT_WAIT
from ..resilience.retry import RetryPolicy, Timeout
from ..types import Completion, ProviderSpec
from ..types._evolve import evolve, field_names
from ._call import Opened, Prepared, Trace, audit_record
from ._fallbacks import FALLBACK_ERRORS, Hops
from ._provider_guards import Guards

__all__ = ["FALLBACK_ERRORS", "Opened", "Pipeline", "Prepared"]  # all but Pipeline re-exported: _hops's, _call's

if TYPE_CHECKING:
    from ..resilience.breaker import BreakerStats
    from ..resilience.cache import CacheInfo
    from ..shared.store import SharedState
    from ..types import Stream
    from ._stream_start import Started

R = TypeVar("R")  # what a call's parse gives: Completion, Embeddings, Images, Speech, Transcription
X = TypeVar("X")


class Pipeline:
    """The resilience state of one Client: retry policy, per-provider breakers and limiters, cache, audit."""

    def __init__(self, policy: RetryPolicy, *, cache: Any = False, breaker: Any = None,
                 rate_limits: Mapping[str, Mapping[str, float | str]] | None = None,
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
        if option is False or option is None:  # no cache: its module (pickle, hmac) is never imported
            return None
        from ..resilience.cache import make_cache

        local = make_cache(option, self.policy.clock)
        if local is None or self.shared is None:
            return local
        from ..shared.cache import SharedCache

        return SharedCache(self.shared, local.config, self.policy.clock)

    def close(self) -> None:
        """Close the connections to the shared state (they open again on the next call)."""
        if self.shared is not None:
            self.shared.close()

    # ------------------------------------------------------------------ calls

    def call(self, op: str, names: Sequence[str], prepare: Callable[[str], Prepared],
             parse: Callable[[Prepared, requests.Response], R], use_cache: bool = True) -> R:
        """complete / embed / the media calls: the parsed result of the first hop that succeeds, priced and
        booked by the ledger."""
        trace = self.trace(op)

        def attempt(p: Prepared) -> R:
            return self._once(p, parse, use_cache, trace)

        try:
            p, hop, result = self._run(op, names, prepare, attempt, trace)
        finally:
            if trace.attached is not None:
                self.observer.detach(trace)
        self._ended(p, hop, names, trace, result=result)
        return result

    def trace(self, op: str) -> Trace:
        """A new call's bookkeeping: its deadline, and the day whose prices it pays."""
        return Trace(op, self.policy.deadline(), self.observer.ledger.day())

    def stream(self, names: Sequence[str], prepare: Callable[[str], Prepared],
               finish: Callable[[Completion], Completion] | None = None) -> Stream:
        """stream: the first hop whose stream starts (``_stream_start``: read up to its first chunk with content);
        its chunks as a Stream (``finish`` completes the answer at its end, e.g. with ``parsed``)."""
        trace = self.trace("stream")
        try:
            p, hop, started = self._run("stream", names, prepare, lambda p: self._guarded(
                p, _opened, trace, fetch=partial(self._start_stream, p, trace)), trace)
        finally:
            if trace.attached is not None:
                self.observer.detach(trace)
        spec = p.model
        response = started.response
        guard = self._guard(p.runtime.spec)
        settle = bool(trace.estimate)

        def ended(completion: Completion | None, error: BaseException | None) -> Completion | None:
            if settle and completion is not None:
                guard.settle(trace.estimate, completion.usage.total_tokens)
            return self._stream_ended(p, hop, names, trace, completion, error)

        from ..types._stream import Stream  # a stream's class loads with the first stream

        return Stream(started.chunks(), model=spec.id, provider=spec.provider,
                      close=response.close, on_end=ended,
                      interrupt=partial(interrupt, response), request_id=_request_id(response), finish=finish)

    def _stream_ended(self, p: Prepared, hop: int, names: Sequence[str], trace: Trace, result: X | None,
                      error: BaseException | None) -> X | None:
        """A stream (chat or media) is over: its whole result priced and booked, which is returned; a stream that
        broke is an error in the totals, and keeps its worst case reserved (what it used is unknown)."""
        if result is not None:
            result = self.observer.ledger.price(p.model, result, day=trace.day)
        elif isinstance(error, ProviderError):
            self.observer.ledger.book(Entry(trace.op, p.runtime.spec.name, p.model.id, error=True),
                                      trace.reservation, keep_hold=True)
            trace.reservation = None
        self._ended(p, hop, names, trace, result=result, error=error,
                    status=None if result is not None or error is not None else "closed")
        return result

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
        trace = self.trace(op)
        policy = self.policy if replay else _NoReplay.of(self.policy)
        try:
            result = self._guarded(p, parse, trace, policy=policy, estimate=False, fetch=fetch)
        except ProviderError as exc:
            if trace.audit:
                audit_record(op, p, 0, (p.model.name,), trace, log_content=self.log_content, error=exc)
            raise
        if trace.audit:
            audit_record(op, p, 0, (p.model.name,), trace, log_content=self.log_content)
        return result

    def open(self, op: str, names: Sequence[str], prepare: Callable[[str], Prepared]) -> Opened:
        """A media stream (speech audio, transcript events): the first hop whose response opens. Only opening is
        retried or handed to a fallback (chat streams go on to their first chunk: ``stream``)."""
        trace = self.trace(op)
        try:
            p, hop, response = self._run(op, names, prepare, lambda p: self._guarded(p, _opened, trace), trace)
        finally:
            if trace.attached is not None:
                self.observer.detach(trace)
        return Opened(p, response, partial(self._stream_ended, p, hop, names, trace))

    def _run(self, op: str, names: Sequence[str], prepare: Callable[[str], Prepared],
             attempt: Callable[[Prepared], X], trace: Trace) -> tuple[Prepared, int, X]:
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
              trace: Trace) -> R:
        key, hit = self._lookup(p, use_cache, trace)
        if hit is not None:
            return cast(R, hit)
        result = self.answered(p, self._guarded(p, parse, trace), trace)
        self._keep(p, key, result, trace)
        return result

    def answered(self, p: Prepared, result: X, trace: Trace) -> X:
        """A parsed answer, priced at the call's day, with the response's request id when the body had none."""
        if getattr(result, "request_id", "") is None and trace.request_id is not None:
            result = evolve(result, request_id=trace.request_id)
        return self.observer.ledger.price(p.model, result, day=trace.day)

    def _lookup(self, p: Prepared, use_cache: bool, trace: Trace) -> tuple[Any, Any]:
        """``(cache key, the cached answer or None)``; the key is None without a cache."""
        cache = self.cache if use_cache and p.request.upload is None else None  # files are not in the key
        if cache is None:
            return None, None
        key = p.cache_key or cache.key(p.runtime.spec.name, p.model.wire_name, p.request, p.runtime.scope)
        found = cache.hit(key)
        if found is None:
            return key, None
        hit, trace.saved = found  # a private copy, marked cached, costing nothing; what it had cost is saved
        trace.cached = True
        if self.observer.hooks.cache_hit or trace.span is not None:
            self.observer.cache_hit(trace, p.runtime.spec.name, p.model.id)
        return key, hit

    def _keep(self, p: Prepared, key: Any, result: Any, trace: Trace) -> None:
        """An answer came: the rate limiter's token estimate settled, the answer cached."""
        if trace.estimate:
            self._guard(p.runtime.spec).settle(trace.estimate, result.usage.total_tokens)
        if key is not None and self.cache is not None:
            self.cache.put(key, result)

    def _guarded(self, p: Prepared, parse: Callable[[Prepared, Any], X], trace: Trace, *,
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

    def _admit(self, p: Prepared, trace: Trace, estimate: bool = True) -> Any:
        """The hop's guard, once its worst case is held on the budget and its tokens estimated for the limiter."""
        guard = self._guard(p.runtime.spec)
        if self.observer.budget is not None and estimate:
            self.observer.reserve(trace, p.model, p.params, p.messages, p.texts, p.worst)
        if guard.limiter is not None and guard.limiter.tpm and estimate:
            trace.estimate = p.estimate if p.estimate is not None else len(
                json.dumps(p.request.json, ensure_ascii=False, default=str)) // 4
        return guard

    def _on_retry(self, p: Prepared, trace: Trace) -> Callable[[ProviderError, float, int], None] | None:
        return partial(self._retried, p, trace) if self.observer.hooks.retry or trace.span is not None else None

    @staticmethod
    def _answered(response: Any, trace: Trace) -> None:
        if hasattr(response, "status_code"):  # a response (requests', or the event loop's)
            trace.status_code = response.status_code
            trace.request_id = _request_id(response)

    @staticmethod
    def _send(p: Prepared, timeout: Timeout) -> requests.Response:
        return p.runtime.transport.send(p.request, model=p.model.id, timeout=timeout)

    def _send_told(self, p: Prepared, trace: Trace, timeout: Timeout) -> requests.Response:
        """``_send`` with the ``request`` hooks told first."""
        self.observer.request(trace, p.runtime.spec.name, p.model.id, p.runtime.transport.url(p.request.path))
        return p.runtime.transport.send(p.request, model=p.model.id, timeout=timeout)

    def _start_stream(self, p: Prepared, trace: Trace, timeout: Timeout) -> Started:
        """One attempt at a stream: send, then read up to its first chunk with content (``_stream_start``)."""
        response = self._send_told(p, trace, timeout) if self.observer.hooks.request else self._send(p, timeout)
        chunks, parser = p.runtime.open_stream(p.model, response)
        from ._stream_start import start

        return start(response, chunks, parser,
                     lambda usage: self.observer.booked(trace, p.runtime.spec.name, p.model, usage))

    def _retried(self, p: Prepared, trace: Trace, error: ProviderError, wait: float, attempt: int) -> None:
        self.observer.retry(trace, p.runtime.spec.name, p.model.id, error, wait, attempt)

    # ------------------------------------------------------------------ per provider

    def _guard(self, provider: ProviderSpec) -> Any:
        return self.guards.of(provider)

    def breaker_state(self, provider: ProviderSpec) -> str:
        return self.guards.breaker_state(provider)

    def breaker_stats(self, provider: ProviderSpec) -> BreakerStats:
        return self.guards.breaker_stats(provider)

    def cache_info(self) -> CacheInfo:
        from ..resilience.cache import CacheInfo

        return self.cache.info() if self.cache is not None else CacheInfo(0, 0, 0, 0)

    # ------------------------------------------------------------------ the end of a call

    def _ended(self, p: Prepared, hop: int, names: Sequence[str], trace: Trace, *, result: Any = None,
               error: BaseException | None = None, status: str | None = None) -> None:
        """One call is over: the observer (the ledger's one record, hooks, span), then the audit record."""
        logged = trace.audit and (result is not None or error is None or isinstance(error, ProviderError))
        if logged:
            failure = error if isinstance(error, ProviderError) else None
            status = status or ("ok" if failure is None else type(failure).__name__)
            logged = audit.logger.isEnabledFor(audit.level_of(status))  # at WARNING, a success costs no more
        entry = self.observer.ended(trace, p.runtime.spec.name, p.model.id, hop, result=result, error=error,
                                    record=logged)
        if logged:
            audit_record(trace.op, p, hop, names, trace, log_content=self.log_content, result=result,
                         error=failure, status=status, entry=entry)


class _NoReplay(RetryPolicy):  # no fields of its own: RetryPolicy's
    """The Client's retry policy for requests that must not run twice: only "nothing was done" is retried."""

    @classmethod
    def of(cls, policy: RetryPolicy) -> _NoReplay:
        return cls(**{name: getattr(policy, name) for name in field_names(policy)})

    def should_retry(self, exc: ProviderError) -> bool:
        return exc.status_code in (429, 503, 529) and super().should_retry(exc)


def _request_id(response: requests.Response) -> str | None:
    headers = response.headers
    return headers.get("x-request-id") or headers.get("request-id")


def _opened(p: Prepared, response: X) -> X:
    """A stream's "parse": the open response (or started stream) itself: its chunks are read later, outside the
    pipeline."""
    return response
