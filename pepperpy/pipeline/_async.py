"""The pipeline on the event loop: ``acomplete`` / ``aembed`` without a thread per call in flight.

The same road as ``Pipeline.call`` (see pipeline.py) with its own state, bookkeeping and decisions, taken from
the Pipeline itself (its cache, guards, retry policy, observer and audit record); only the waiting differs:
requests go through ``Transport.asend`` (``_aio_http``), retry waits are ``asyncio.sleep``, and the calls in
flight are bounded by ``max_concurrency`` per event loop. A hop the event loop cannot send itself (a custom
``transport=``, a proxy, token-based auth) runs its blocking half in a worker thread, cancellable as any
``acomplete`` is; a provider with a client-side rate limit waits for its slot in a worker too (the limiter
sleeps). Cancelling the awaiting task closes the request's connection at once.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import requests

from ..errors import PepperpyError, ProviderError
from ..http import _cancel
from ..http._async_limits import Gate, concurrency_limit
from ..resilience.retry import RetryPolicy, Timeout
from ..types import Completion, Embeddings
from ._blocking import Pipeline
from ._bridge import Submit, call
from ._call import Prepared, Trace
from ._fallbacks import Hops

__all__ = ["AsyncPipeline"]

R = TypeVar("R", Completion, Embeddings)
Parse = Callable[[Prepared, requests.Response], R]


class AsyncPipeline:
    """A Client's calls on the event loop: at most ``max_concurrency`` in flight per loop."""

    def __init__(self, pipeline: Pipeline, max_concurrency: int, submit: Submit) -> None:
        self.pipeline = pipeline
        self.max_concurrency = max_concurrency
        self.submit = submit
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Gate] = weakref.WeakKeyDictionary()
        self._last: tuple[asyncio.AbstractEventLoop, Gate] | None = None
        self._prepared: set[str] = set()  # model names prepared once already (their first time runs in a worker)
        self._preparing: dict[tuple[int, str], asyncio.Event] = {}  # (loop, name) being prepared for the first time

    async def call(self, op: str, names: Sequence[str], prepare: Callable[[str], Prepared], parse: Parse[R],
                   use_cache: bool = True) -> R:
        """``Pipeline.call`` on the running event loop: the walk along the hops is ``Pipeline._run``'s (``Hops``
        decides), each hop prepared and sent with awaits (in this coroutine: a level of awaits less per call)."""
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last[0] is loop:
            slots = last[1]
        else:
            found = self._slots.get(loop)
            if found is None:
                found = self._slots[loop] = Gate(concurrency_limit(self.max_concurrency))
            slots = found
            self._last = (loop, slots)
        if not slots.take():
            await slots.wait()
        try:
            pipe = self.pipeline
            trace = pipe.trace(op)
            try:
                hops = Hops(pipe, names, trace)
                for _, name in hops:
                    try:
                        p = prepare(name) if name in self._prepared else await self._prepare(prepare, name)
                    except PepperpyError as exc:
                        hops.unprepared(name, exc)
                        continue
                    hops.began(p)
                    try:
                        result = await self._once(p, parse, use_cache, trace)
                        break
                    except ProviderError as exc:
                        hops.failed(exc)
                    except BaseException as exc:  # cancelled, refused by the budget, bad input
                        hops.interrupted(exc)
                        raise
                else:
                    raise hops.exhausted()
            finally:
                if trace.attached is not None:
                    pipe.observer.detach(trace)
            pipe._ended(p, hops.hop, names, trace, result=result)
            return result
        finally:
            slots.give()

    async def _prepare(self, prepare: Callable[[str], Prepared], name: str) -> Prepared:
        """``prepare(name)`` the first time a name is seen, in a worker: the first call to a provider imports
        modules and may read credentials from a keyring, work that must not stall the event loop (``call``
        prepares a name seen before itself)."""
        if name in self._prepared:
            return prepare(name)
        key = (id(asyncio.get_running_loop()), name)
        while (first := self._preparing.get(key)) is not None:
            # another task is preparing it: wait for that, rather than start a thread each; when it failed
            # (bad input, no key), the waiting tasks try in turn, one at a time, and each raises its own error
            await first.wait()
            if name in self._prepared:
                return prepare(name)
        done = self._preparing[key] = asyncio.Event()
        try:
            p = await call(self.submit, functools.partial(prepare, name))
            await call(self.submit, functools.partial(self.pipeline._guard, p.runtime.spec))  # the breaker's import
            self._prepared.add(name)
            return p
        finally:
            if self._preparing.get(key) is done:
                del self._preparing[key]
            done.set()

    async def _once(self, p: Prepared, parse: Parse[R], use_cache: bool, trace: Trace) -> R:
        """One hop: ``Pipeline._once`` and ``_guarded`` (cache, limiter, breaker, retries, parse), with the
        retry policy's waits and the request awaited here (one coroutine where there were five: each level of
        awaits costs every call). The retries are ``RetryPolicy.call``'s with awaits: the same decisions
        (``attempt_timeout``, ``retry_wait``), the ``request`` hooks told before each attempt and the ``retry``
        hooks before each wait."""
        pipe = self.pipeline
        key, hit = pipe._lookup(p, use_cache, trace)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        transport = p.runtime.transport
        guard = pipe._admit(p, trace)
        if not transport.async_ready(p.request):
            # the blocking transport, in a worker thread, once the budget's hold is taken here: a call cancelled
            # before its worker started must not leave a hold taken later that nobody gives back
            result = await call(self.submit, functools.partial(pipe._guarded, p, parse, trace, admitted=guard))
        else:
            if guard.limiter is not None:  # the limiter sleeps until the call's slot: not on the event loop
                ticket = await call(self.submit, functools.partial(guard.enter, trace.estimate, p.model.id,
                                                                   trace.deadline))
            else:
                ticket = guard.enter(trace.estimate, p.model.id, trace.deadline)
            policy, deadline, request, model = pipe.policy, trace.deadline, p.request, p.model.id
            retry = 0
            try:
                while True:
                    trace.attempts += 1
                    timeout = policy.attempt_timeout(transport.timeout, deadline)
                    try:
                        if pipe.observer.hooks.request:
                            pipe.observer.request(trace, p.runtime.spec.name, model, transport.url(request.path))
                        response = await transport.asend(request, model=model, timeout=timeout)
                        break
                    except ProviderError as exc:
                        wait = policy.retry_wait(exc, retry, deadline)
                        if wait is None:
                            raise
                        on_retry = pipe._on_retry(p, trace)
                        if on_retry is not None:
                            on_retry(exc, wait, trace.attempts)
                    await _pause(policy, wait)
                    retry += 1
                result = parse(p, response)
            except BaseException as exc:
                guard.failed(exc, ticket)
                raise
            guard.succeeded(ticket)
            pipe._answered(response, trace)
        result = pipe.answered(p, result, trace)
        pipe._keep(p, key, result, trace)
        return result


async def _retrying(policy: RetryPolicy, send: Callable[[Timeout], Any], timeout: Timeout, trace: Trace,
                    on_retry: Callable[[ProviderError, float, int], None] | None) -> requests.Response:
    """``RetryPolicy.call`` with awaits: the same decisions (``attempt_timeout``, ``retry_wait``)."""
    deadline = trace.deadline
    retry = 0
    while True:
        trace.attempts += 1
        try:
            response: requests.Response = await send(policy.attempt_timeout(timeout, deadline))
            return response
        except ProviderError as exc:
            wait = policy.retry_wait(exc, retry, deadline)
            if wait is None:
                raise
            if on_retry is not None:
                on_retry(exc, wait, trace.attempts)
        await _pause(policy, wait)
        retry += 1


async def _pause(policy: RetryPolicy, wait: float) -> None:
    """The retry policy's wait before the next attempt, awaited (an injected sleep, a test's fake clock, is called)."""
    if policy.sleep is _cancel.sleep:
        await asyncio.sleep(wait)
    else:
        policy.sleep(wait)
