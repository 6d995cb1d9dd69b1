"""What a session does that is not I/O, shared by the blocking session and its async twin: reading the server's
messages into typed events (dropping those of turns given up on), pricing each answer, the bookkeeping of
answers asked for, and one ``ask``'s turn: when its answer is over, when tools must run.

An answer given up on (``cancel()`` on Gemini, a timeout, an error) is *stale*: its remaining messages are read
and dropped (OpenAI's by response id, Gemini's by counting turns, as it has no ids), and when its end arrives
its usage is booked all the same.
"""

from __future__ import annotations

import dataclasses
import json
from collections import deque
from collections.abc import Mapping
from typing import Any

from ..errors import PepperpyError, ProviderError, ProviderTimeoutError, ValidationError
from ..http import _translate
from ..observe.pricing import charge
from ..pipeline._call import Trace
from ..types import ToolStep
from ._booking import Books
from ._events import (
    AudioDelta,
    ErrorEvent,
    Event,
    GoAway,
    ServerEvent,
    TextDelta,
    ToolCallEvent,
    TranscriptDelta,
    TurnDone,
)
from ._link import closed_error
from ._plan import Plan
from ._turn import Turn

__all__ = ["CANCEL_ID", "Core"]

CANCEL_ID = "pepperpy-cancel"  # the event_id of pepperpy's response.cancel: an error it causes ends no turn
_MAX_STALE_IDS = 64
_ANSWER_EVENTS = (TextDelta, AudioDelta, TranscriptDelta, ToolCallEvent)  # what only an answer in progress sends


class Core:
    """One session's state and decisions (see the module docstring)."""

    def __init__(self, plan: Plan, books: Books) -> None:
        self.plan = plan
        self.wire = plan.wire
        self.spec = plan.spec
        self.books = books
        self.stale_ids: deque[str] = deque(maxlen=_MAX_STALE_IDS)
        self.stale_turns = 0
        self.response_id: str | None = None  # the answer being read (OpenAI)
        self.pending: deque[Trace] = deque()  # answers asked for by respond()/commit(), booked at their end
        self.stale_traces: deque[Trace] = deque()  # the traces of stale answers, booked when their end comes
        self.went_away: GoAway | None = None
        self.last_error: ProviderError | None = None
        self.usage_seen: Any = None  # Gemini: the last usageMetadata of the answer being read
        self.answering = False
        self.cancel_requested = False
        self.audio_started = False
        self.unanswered = ("", 0)  # text and audio bytes sent by the low-level calls since the last answer
        self.cancels = 0

    # ------------------------------------------------------------------ reading

    def decode(self, frame: str | bytes) -> Mapping[str, Any] | None:
        """A server frame's JSON object (Gemini sends its JSON in binary frames); None for anything else."""
        try:
            message = json.loads(frame)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def events(self, message: Mapping[str, Any]) -> list[Event]:
        """The typed events of one message, those of stale answers dropped; a TurnDone priced."""
        wire = self.wire
        if wire.has_usage(message):
            self.usage_seen = wire.usage_of(message)
        rid = wire.response_id(message)
        if rid is not None and rid in self.stale_ids:
            if message.get("type") == "response.done":
                self.stale_ids.remove(rid)
                self._book_late(wire.parse(message, self._error))
            return []
        found = wire.parse(message, self._error)
        if self.stale_turns:
            if any(isinstance(e, TurnDone) or (isinstance(e, ServerEvent) and e.type == "interrupted")
                   for e in found):
                self.stale_turns -= 1
                self._book_late(found)
            return []
        priced: list[Event] = []
        for event in found:
            if isinstance(event, TurnDone):
                event = self._priced(event)
                self.answering = False
                self.response_id = None
            elif isinstance(event, GoAway):
                self.went_away = event
            elif isinstance(event, ErrorEvent):
                self.last_error = event.error
            elif rid is not None or isinstance(event, _ANSWER_EVENTS):  # not session.updated, rate_limits...
                self.answering = True
                if rid is not None and self.response_id is None:
                    self.response_id = rid
            priced.append(event)
        return priced

    def _priced(self, done: TurnDone) -> TurnDone:
        usage = done.usage
        if not usage.total_tokens and self.usage_seen is not None:  # Gemini: usage came in an earlier message
            usage = self.usage_seen
        self.usage_seen = None
        done = dataclasses.replace(done, usage=usage)
        return dataclasses.replace(done, cost=charge(self.spec, done))

    def _book_late(self, found: list[Event]) -> None:
        """The end of a stale answer: booked from the usage the provider reports for it."""
        done = next((e for e in found if isinstance(e, TurnDone)), None)
        trace = self.stale_traces.popleft() if self.stale_traces else self.books.trace()
        if done is not None:
            self.books.book(trace, self._priced(done))
        else:  # interrupted without an end: nothing reported, the hold given back
            self.usage_seen = None
            self.books.book(trace, error=_AbandonedError())

    def _error(self, body: Any) -> ProviderError:
        endpoint = self.plan.endpoint
        return _translate.from_realtime_error(body, provider=endpoint.provider, model=endpoint.model,
                                              secrets=endpoint.secrets, key_vars=endpoint.key_vars)

    @staticmethod
    def caused_by_cancel(event: ErrorEvent) -> bool:
        error = event.raw.get("error")
        return isinstance(error, Mapping) and str(error.get("event_id") or "").startswith(CANCEL_ID)

    def streamed(self, event: Event) -> None:
        """An event read by iterating the session: an answer's end is booked (against what respond() held)."""
        if isinstance(event, TurnDone):
            trace = self.pending.popleft() if self.pending else self.books.trace()
            self.books.book(trace, event)

    def silent(self, wait: float, turn: Turn | None) -> ProviderTimeoutError:
        """The typed error of the server sending nothing for ``wait`` seconds (mid-turn, or between turns)."""
        return ProviderTimeoutError(f"{self.plan.endpoint.where} sent nothing for {wait:g} s"
                                    f"{' mid-turn' if turn is not None else ''}; raise ask(timeout=...) or the "
                                    f"Client's timeout", provider=self.spec.provider, model=self.spec.id)

    def closed(self, exc: BaseException, turn: Turn | None) -> ProviderError:
        """The typed error of the connection closing under a send or a read; mid-turn, what arrived is in its
        message and in ``details`` (``"reply"``: the partial RealtimeReply)."""
        details = None
        if turn is not None:
            partial = turn.reply(self.spec.id, self.spec.provider, self.plan.config.output_rate,
                                 with_audio=bool(turn.audio))
            details = {"reply": partial, "text": partial.text, "transcript": partial.transcript,
                       "audio_bytes": partial.size_bytes}
        return closed_error(exc, self.plan.endpoint, last_error=self.last_error,
                            what_arrived=turn.arrived() if turn is not None else "",
                            went_away=self.went_away is not None, details=details)

    # ------------------------------------------------------------------ asking

    def check_turn(self, text: Any, audio: Any) -> tuple[str | None, bytes | None]:
        if text is None and audio is None:
            raise ValidationError("ask() needs the user's text or audio: s.ask('Say hello') or s.ask(audio=pcm)",
                                  param="text")
        if text is not None and not isinstance(text, str):
            raise ValidationError(f"ask() takes text as a string, not {type(text).__name__}", param="text")
        return text, self.check_audio(audio) if audio is not None else None

    def check_audio(self, audio: Any) -> bytes:
        if not isinstance(audio, (bytes, bytearray, memoryview)):
            raise ValidationError(f"audio takes PCM16 mono bytes at {self.plan.config.input_rate} Hz, not "
                                  f"{type(audio).__name__} (read a WAV file's frames with the wave module)",
                                  param="audio", value=type(audio).__name__)
        data = bytes(audio)
        if not data or len(data) % 2:
            raise ValidationError(f"audio must be PCM16 samples (an even number of bytes, at least one sample), "
                                  f"not {len(data)} bytes", param="audio", value=len(data))
        return data

    def begin(self, text: str | None, audio: bytes | None) -> tuple[Turn, Trace]:
        """A new turn, its trace and its worst case held (BudgetExceededError: nothing is sent)."""
        if self.answering or self.pending:  # an answer of the low-level calls is still streaming
            self.abandon_answer()
        turn = Turn({"text": text, "audio_bytes": len(audio) if audio is not None else 0})
        trace = self.books.trace()
        try:
            self.books.hold(trace, text=text, audio_bytes=len(audio or b""))
        except BaseException as exc:
            self.books.book(trace, error=exc)
            raise
        self.cancel_requested = False
        self.answering = True
        return turn, trace

    def on_event(self, turn: Turn, event: Event) -> bool:
        """Take one event of ``ask``'s answer; True when the turn is over (or has tools to run: ``turn.calls``).
        An error event ends the turn with its typed error."""
        if isinstance(event, ErrorEvent):
            if self.caused_by_cancel(event):
                turn.events.append(event)
                return False
            raise event.error
        turn.take(event)
        if isinstance(event, ToolCallEvent) and self.wire.tools_mid_turn:
            turn.calls.append(event.call)
        if isinstance(event, TurnDone):
            turn.answered(event)
            if not self.wire.tools_mid_turn and event.calls and event.status == "completed":
                turn.calls = list(event.calls)
            return True
        return False

    def tools_due(self, turn: Turn) -> bool:
        """Whether the turn's tool calls can run now: Gemini's as soon as its toolCall arrives, OpenAI's once
        the answer that made them is done."""
        return bool(turn.calls) and self.plan.config.tools is not None

    def tool_messages(self, turn: Turn, trace: Trace, steps: list[ToolStep]) -> list[dict[str, Any]]:
        """The tools' results to send back, the next answer held on the budget first (OpenAI asks again)."""
        turn.steps.extend(steps)
        turn.calls = []
        if not self.wire.tools_mid_turn:
            turn.spent = turn.cost or 0.0
            self.books.hold(trace, spent=turn.spent)
        return self.wire.tool_results(steps)

    def finish(self, turn: Turn, trace: Trace) -> Any:
        reply = turn.reply(self.spec.id, self.spec.provider, self.plan.config.output_rate,
                           with_audio=self.plan.config.output == "audio")
        self.answering = False
        self.books.book(trace, reply, spent=turn.spent, content=turn.content)
        return reply

    def cancelled(self, turn: Turn, trace: Trace, message: Mapping[str, Any]) -> Any:
        """Gemini's cancel: the turn ends with what arrived before ``message``; the rest of its answer, from
        ``message`` on, is dropped (its usage booked when its end comes)."""
        self.stale_turns += 1
        self.events(message)
        turn.status = "cancelled"
        return self.finish(turn, trace)

    def failed(self, turn: Turn | None, trace: Trace, error: BaseException) -> None:
        """``ask`` ends with ``error``: its answer, if one may still stream, becomes stale; the turn is booked."""
        if self.answering:
            self.abandon_answer()
        self.books.book(trace, error=error, spent=turn.spent if turn is not None else 0.0,
                        content=turn.content if turn is not None else None)

    def abandon_answer(self) -> None:
        """The answer streaming now is given up on: its messages will be dropped, its end booked when it comes
        (against what respond() held for it, if anything)."""
        stale = False
        if self.response_id is not None:
            self.stale_ids.append(self.response_id)
            stale = True
        elif self.answering and self.wire.name == "gemini":
            self.stale_turns += 1
            stale = True
        self.response_id = None
        self.answering = False
        if stale and self.pending:
            self.stale_traces.append(self.pending.popleft())
        while self.pending:  # asked for, never begun: nothing will be billed
            self.books.book(self.pending.popleft(), error=_AbandonedError())

    def closing(self) -> None:
        """The session ends: answers still awaited give their holds back."""
        for queue in (self.pending, self.stale_traces):
            while queue:
                self.books.book(queue.popleft(), error=_AbandonedError())

    # ------------------------------------------------------------------ the low-level calls

    def sent_text(self, text: str) -> None:
        self.unanswered = (self.unanswered[0] + text, self.unanswered[1])

    def sent_audio(self, size: int) -> None:
        self.unanswered = (self.unanswered[0], self.unanswered[1] + size)
        self.audio_started = True

    def hold_answer(self) -> Trace:
        """respond() or an answering commit(): the answer's worst case held, its trace kept for its end."""
        trace = self.books.trace()
        text, audio = self.unanswered
        try:
            self.books.hold(trace, text=text or None, audio_bytes=audio)
        except BaseException as exc:
            self.books.book(trace, error=exc)
            raise
        self.unanswered = ("", 0)
        self.pending.append(trace)
        self.answering = True
        return trace

    def cancel_messages(self, asking: bool) -> list[dict[str, Any]]:
        """What cancel() sends: OpenAI's ``response.cancel`` (with pepperpy's event id); nothing on Gemini, where
        the answer is dropped instead (by ``ask``, which returns what arrived, or here when no ask is reading)."""
        messages = self.wire.cancel()
        if messages:
            self.cancels += 1
            return [{**message, "event_id": f"{CANCEL_ID}-{self.cancels}"} for message in messages]
        if asking:
            self.cancel_requested = True
        else:
            self.abandon_answer()
        return []


class _AbandonedError(PepperpyError):
    """An answer asked for by respond() that a later ask() started over (its usage, if any, comes late)."""
