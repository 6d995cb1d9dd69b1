"""``RealtimeSession``: a blocking realtime voice session (``client.realtime(...)``).

Opening it is one call through the Client's pipeline (rate limiter, breaker, retries: only the opening is ever
retried, never a turn in progress) and ends once the provider has taken the session's settings. Each ``ask`` is
one turn: checked against the budget before anything is sent, read until its answer is over (running the
session's Python tools when the model calls them), booked from the usage the provider reports.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from ..errors import StreamError, ValidationError
from ..pipeline._blocking import Pipeline
from ..pipeline._call import Trace
from ._booking import Books
from ._core import Core
from ._events import Event
from ._link import Endpoint, closed_error, handshake_error, opened, ready_timeout, websockets_module
from ._plan import Plan
from ._reply import RealtimeReply
from ._turn import Turn

__all__ = ["RealtimeSession"]


class RealtimeSession:
    """A realtime voice session, open until ``close()`` (or the end of its ``with`` block).

    >>> with client.realtime("gpt-realtime-2", instructions="Be brief.") as s:   # doctest: +SKIP
    ...     print(s.ask("Say hello").text)
    ...     s.ask(audio=pcm16).save("answer.wav")                                  # with output="audio"

    ``ask`` is the whole turn. Below it: ``send_text``, ``send_audio`` (appended in chunks), ``commit`` (the end
    of the user's audio), ``respond(**overrides)`` (ask for an answer, checked against the budget), ``cancel``
    (barge-in), ``send(event)`` (any client event, as is) and ``for event in session`` (the server's events,
    typed; an answer's end is booked as it passes). One thread reads at a time; ``cancel`` may come from another.
    """

    def __init__(self, plan: Plan, pipeline: Pipeline, connection: Any) -> None:
        self.model = plan.spec.id
        self.provider = plan.spec.provider
        self._plan = plan
        self._endpoint: Endpoint = plan.endpoint
        self._ws = connection
        self._core = Core(plan, Books(pipeline, plan.prepared, plan.base_url, plan.config))
        self._asking = False
        self._closed = False
        self._lock = threading.Lock()

    @classmethod
    def open(cls, plan: Plan, pipeline: Pipeline) -> RealtimeSession:
        """Connect and set the session up, through the pipeline (breaker, retries, audit record)."""
        websockets_module()
        endpoint, wire = plan.endpoint, plan.wire

        def connect(timeout: tuple[float, float]) -> Any:
            from websockets.sync.client import connect as ws_connect

            try:
                ws = ws_connect(endpoint.url, **endpoint.options(timeout[0]))
                ws.__enter__()  # a context manager's connection (websockets 17.1 warns about any other)
            except Exception as exc:
                raise handshake_error(exc, endpoint) from exc
            try:
                try:
                    for message in wire.opening():
                        ws.send(json.dumps(message))
                except websockets_module().exceptions.ConnectionClosed:
                    pass  # closed at once (a bad key): what it said before is read next
                _wait_ready(ws, plan, timeout[1])
            except BaseException:
                ws.close()
                raise
            return ws

        ws = pipeline.send("realtime.connect", plan.prepared, lambda p, ws: ws, fetch=connect)
        return cls(plan, pipeline, ws)

    # ------------------------------------------------------------------ a whole turn

    def ask(self, text: str | None = None, *, audio: bytes | None = None,
            timeout: float | None = None) -> RealtimeReply:
        """One turn: the user's ``text`` (or ``audio``: PCM16 mono at the model's input rate) in, the whole
        answer out. ``timeout``: the longest silence between two server events (default: the Client's read
        timeout), else ProviderTimeoutError. The model's calls of the session's Python tools are run and
        answered on the way (``reply.steps``)."""
        core = self._core
        text, pcm = core.check_turn(text, audio)
        self._check_open()
        turn, trace = core.begin(text, pcm)  # BudgetExceededError: nothing was sent
        self._asking = True
        try:
            self._send_all(core.wire.ask(text, pcm))
            return self._read_turn(turn, trace, timeout)
        except BaseException as exc:
            core.failed(turn, trace, exc)
            raise
        finally:
            self._asking = False

    def _read_turn(self, turn: Turn, trace: Trace, timeout: float | None) -> RealtimeReply:
        core = self._core
        tools = core.plan.config.tools
        while True:
            over = False
            message = self._receive(timeout, turn)
            if core.cancel_requested:  # Gemini: cancel() came while this message was on its way
                return core.cancelled(turn, trace, message)  # type: ignore[no-any-return]
            for event in core.events(message):
                over = core.on_event(turn, event) or over
            if core.tools_due(turn) and tools is not None:
                self._send_all(core.tool_messages(turn, trace, tools.execute(turn.calls)))
                continue
            if over:
                return core.finish(turn, trace)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ the lower level

    def send_text(self, text: str) -> None:
        """Add the user's text to the conversation (no answer yet: ``respond()``)."""
        if not isinstance(text, str):
            raise ValidationError(f"send_text takes a string, not {type(text).__name__}", param="text")
        self._send_all(self._core.wire.user_text(text))
        self._core.sent_text(text)

    def send_audio(self, pcm: bytes) -> None:
        """Append PCM16 mono audio at the model's input rate, in chunks (``commit()`` ends the utterance)."""
        data = self._core.check_audio(pcm)
        self._send_all(self._core.wire.audio_chunks(data, self._core.audio_started))
        self._core.sent_audio(len(data))

    def commit(self) -> None:
        """End the user's audio. On Gemini, with turn detection off, this starts the answer (held on the budget
        first); on OpenAI ``respond()`` does."""
        messages, answers = self._core.wire.commit()
        if answers:
            self._core.hold_answer()
        self._send_all(messages)
        self._core.audio_started = False

    def respond(self, **overrides: Any) -> None:
        """Ask for an answer (OpenAI's ``response.create``, with ``overrides`` for this answer only; Gemini's
        end of turn), once its worst case is held on the budget. Read it by iterating the session."""
        messages = self._core.wire.respond(overrides)
        self._core.hold_answer()
        self._send_all(messages)

    def cancel(self) -> None:
        """Stop the answer being given (barge-in). OpenAI: ``response.cancel``; its answer ends ``cancelled``
        and is booked from the usage reported. Gemini has no such message: the answer is dropped instead
        (``ask`` returns what arrived; the rest of the turn is read and discarded, its usage booked when it
        ends). Safe to call from another thread while ``ask`` reads."""
        self._send_all(self._core.cancel_messages(self._asking))

    def send(self, event: Mapping[str, Any]) -> None:
        """Send one client event as it is (the provider's JSON): the escape hatch. An answer asked for this
        way skips the budget check (it is still booked from its usage when read by iteration)."""
        if not isinstance(event, Mapping):
            raise ValidationError(f"send takes one client event as a dict, not {type(event).__name__}",
                                  param="event")
        self._send_all([dict(event)])

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """The server's events as they come, typed, until the session closes; ``timeout`` as in ``ask``."""
        core = self._core
        while not self._closed:
            try:
                message = self._receive(timeout, None)
            except StreamError as exc:
                if exc.details and exc.details.get("close_code") in (1000, 1001, 1005) and not core.answering:
                    return  # closed between answers: the end of the stream, not an error
                raise
            for event in core.events(message):
                core.streamed(event)
                yield event

    def __iter__(self) -> Iterator[Event]:
        return self.events()

    # ------------------------------------------------------------------ I/O

    def _send_all(self, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        self._check_open()
        errors_ = websockets_module().exceptions
        try:
            for message in messages:
                self._ws.send(json.dumps(message))
        except errors_.ConnectionClosed as exc:
            raise self._core.closed(exc, None) from exc

    def _receive(self, timeout: float | None, turn: Turn | None) -> Any:
        """The next server message as a JSON object (frames that are not are skipped)."""
        self._check_open()
        wait = timeout if timeout is not None else self._endpoint.timeout[1]
        errors_ = websockets_module().exceptions
        while True:
            try:
                frame = self._ws.recv(timeout=wait)
            except TimeoutError:
                raise self._core.silent(wait, turn) from None
            except errors_.ConnectionClosed as exc:
                raise self._core.closed(exc, turn) from exc
            message = self._core.decode(frame)
            if message is not None:
                return message

    def _check_open(self) -> None:
        if self._closed:
            raise ValidationError("this realtime session is closed; open a new one with client.realtime(...)",
                                  param="session")

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the connection (idempotent); answers still awaited give their budget holds back."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._ws.close()
        finally:
            self._core.closing()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> RealtimeSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<RealtimeSession {self.provider}/{self.model} {self._plan.config.output} {state}>"


def _wait_ready(ws: Any, plan: Plan, timeout: float) -> None:
    """Read until the provider has taken the session's settings; its error event or close is the typed error."""
    errors_ = websockets_module().exceptions
    while True:
        try:
            frame = ws.recv(timeout=timeout)
        except TimeoutError:
            raise ready_timeout(plan.endpoint, timeout) from None
        except errors_.ConnectionClosed as exc:
            raise closed_error(exc, plan.endpoint) from exc
        if opened(plan.wire, plan.endpoint, frame):
            return
