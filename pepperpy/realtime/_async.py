"""``AsyncRealtimeSession``: the realtime session on the event loop (``async with client.arealtime(...) as s``).

The same session as ``RealtimeSession`` (``_core`` holds every decision both make), over websockets' asyncio
client: opening goes through the same rate limiter, breaker and retry policy (its waits awaited), the turns are
read with ``await``, and the session's Python tools run in the Client's worker threads.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Generator, Mapping
from types import TracebackType
from typing import Any

from ..errors import ProviderError, StreamError, ValidationError
from ..pipeline._async import _retrying
from ..pipeline._blocking import Pipeline
from ..pipeline._bridge import Submit, call
from ..pipeline._call import Trace, audit_record
from ._booking import Books
from ._core import Core
from ._events import Event
from ._link import closed_error, handshake_error, opened, ready_timeout, websockets_module
from ._plan import Plan
from ._reply import RealtimeReply
from ._turn import Turn

__all__ = ["AsyncRealtimeSession"]


class AsyncRealtimeSession:
    """``RealtimeSession``'s async twin: the same methods, awaited; opened by ``async with`` (or ``await``).

    >>> async with client.arealtime("gpt-realtime-2", instructions="Be brief.") as s:   # doctest: +SKIP
    ...     print((await s.ask("Say hello")).text)
    ...     async for event in s: ...
    """

    def __init__(self, plan: Plan, pipeline: Pipeline, submit: Submit) -> None:
        self.model = plan.spec.id
        self.provider = plan.spec.provider
        self._plan = plan
        self._endpoint = plan.endpoint
        self._pipeline = pipeline
        self._submit = submit
        self._ws: Any = None
        self._core = Core(plan, Books(pipeline, plan.prepared, plan.base_url, plan.config))
        self._asking = False
        self._closed = False

    async def open(self) -> AsyncRealtimeSession:
        """Connect and set the session up (``async with`` and ``await`` do it)."""
        if self._ws is not None:
            return self
        websockets_module()
        plan, pipe = self._plan, self._pipeline
        p = plan.prepared
        trace = Trace("realtime.connect", pipe.policy.deadline())
        guard = pipe._guard(p.runtime.spec)
        if guard.limiter is not None:  # the limiter sleeps until the session's slot: not on the event loop
            ticket = await call(self._submit, functools.partial(guard.enter, 0, p.model.id, trace.deadline))
        else:
            ticket = guard.enter(0, p.model.id, trace.deadline)
        try:
            ws = await _retrying(pipe.policy, self._connect, p.runtime.transport.timeout, trace,
                                 pipe._on_retry(p, trace))
        except BaseException as exc:
            guard.failed(exc, ticket)
            if trace.audit and isinstance(exc, ProviderError):
                audit_record(trace.op, p, 0, (p.model.name,), trace, log_content=pipe.log_content, error=exc)
            raise
        guard.succeeded(ticket)
        if trace.audit:
            audit_record(trace.op, p, 0, (p.model.name,), trace, log_content=pipe.log_content)
        self._ws = ws
        return self

    async def _connect(self, timeout: tuple[float, float]) -> Any:
        from websockets.asyncio.client import connect

        endpoint, wire = self._endpoint, self._plan.wire
        try:
            ws = await connect(endpoint.url, **endpoint.options(timeout[0]))
        except Exception as exc:
            raise handshake_error(exc, endpoint) from exc
        errors_ = websockets_module().exceptions
        try:
            try:
                for message in wire.opening():
                    await ws.send(json.dumps(message))
            except errors_.ConnectionClosed:
                pass  # closed at once (a bad key): what it said before is read next
            while True:
                try:
                    frame = await asyncio.wait_for(ws.recv(), timeout[1])
                except asyncio.TimeoutError:
                    raise ready_timeout(endpoint, timeout[1]) from None
                except errors_.ConnectionClosed as exc:
                    raise closed_error(exc, endpoint) from exc
                if opened(wire, endpoint, frame):
                    return ws
        except BaseException:
            await ws.close()
            raise

    # ------------------------------------------------------------------ a whole turn

    async def ask(self, text: str | None = None, *, audio: bytes | None = None,
                  timeout: float | None = None) -> RealtimeReply:
        """``RealtimeSession.ask``, awaited."""
        core = self._core
        text, pcm = core.check_turn(text, audio)
        self._check_open()
        turn, trace = core.begin(text, pcm)
        self._asking = True
        try:
            await self._send_all(core.wire.ask(text, pcm))
            return await self._read_turn(turn, trace, timeout)
        except BaseException as exc:
            core.failed(turn, trace, exc)
            raise
        finally:
            self._asking = False

    async def _read_turn(self, turn: Turn, trace: Trace, timeout: float | None) -> RealtimeReply:
        core = self._core
        tools = core.plan.config.tools
        while True:
            over = False
            message = await self._receive(timeout, turn)
            if core.cancel_requested:  # Gemini: cancel() came while this message was on its way
                return core.cancelled(turn, trace, message)  # type: ignore[no-any-return]
            for event in core.events(message):
                over = core.on_event(turn, event) or over
            if core.tools_due(turn) and tools is not None:
                steps = await call(self._submit, functools.partial(tools.execute, list(turn.calls)))
                await self._send_all(core.tool_messages(turn, trace, steps))
                continue
            if over:
                return core.finish(turn, trace)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ the lower level

    async def send_text(self, text: str) -> None:
        if not isinstance(text, str):
            raise ValidationError(f"send_text takes a string, not {type(text).__name__}", param="text")
        await self._send_all(self._core.wire.user_text(text))
        self._core.sent_text(text)

    async def send_audio(self, pcm: bytes) -> None:
        data = self._core.check_audio(pcm)
        await self._send_all(self._core.wire.audio_chunks(data, self._core.audio_started))
        self._core.sent_audio(len(data))

    async def commit(self) -> None:
        messages, answers = self._core.wire.commit()
        if answers:
            self._core.hold_answer()
        await self._send_all(messages)
        self._core.audio_started = False

    async def respond(self, **overrides: Any) -> None:
        messages = self._core.wire.respond(overrides)
        self._core.hold_answer()
        await self._send_all(messages)

    async def cancel(self) -> None:
        await self._send_all(self._core.cancel_messages(self._asking))

    async def send(self, event: Mapping[str, Any]) -> None:
        if not isinstance(event, Mapping):
            raise ValidationError(f"send takes one client event as a dict, not {type(event).__name__}",
                                  param="event")
        await self._send_all([dict(event)])

    async def events(self, timeout: float | None = None) -> AsyncIterator[Event]:
        """The server's events as they come, typed, until the session closes."""
        core = self._core
        while not self._closed:
            try:
                message = await self._receive(timeout, None)
            except StreamError as exc:
                if exc.details and exc.details.get("close_code") in (1000, 1001, 1005) and not core.answering:
                    return
                raise
            for event in core.events(message):
                core.streamed(event)
                yield event

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.events()

    # ------------------------------------------------------------------ I/O

    async def _send_all(self, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        self._check_open()
        errors_ = websockets_module().exceptions
        try:
            for message in messages:
                await self._ws.send(json.dumps(message))
        except errors_.ConnectionClosed as exc:
            raise self._core.closed(exc, None) from exc

    async def _receive(self, timeout: float | None, turn: Turn | None) -> Any:
        self._check_open()
        wait = timeout if timeout is not None else self._endpoint.timeout[1]
        errors_ = websockets_module().exceptions
        while True:
            try:
                frame = await asyncio.wait_for(self._ws.recv(), wait)
            except asyncio.TimeoutError:
                raise self._core.silent(wait, turn) from None
            except errors_.ConnectionClosed as exc:
                raise self._core.closed(exc, turn) from exc
            message = self._core.decode(frame)
            if message is not None:
                return message

    def _check_open(self) -> None:
        if self._closed:
            raise ValidationError("this realtime session is closed; open a new one with client.arealtime(...)",
                                  param="session")
        if self._ws is None:
            raise ValidationError("this realtime session is not open yet: use async with client.arealtime(...) "
                                  "as s, or s = await client.arealtime(...)", param="session")

    # ------------------------------------------------------------------ lifecycle

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._ws is not None:
                await self._ws.close()
        finally:
            self._core.closing()

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> AsyncRealtimeSession:
        return await self.open()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    def __await__(self) -> Generator[Any, None, AsyncRealtimeSession]:
        return self.open().__await__()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._ws is not None else "not opened"
        return f"<AsyncRealtimeSession {self.provider}/{self.model} {self._plan.config.output} {state}>"
