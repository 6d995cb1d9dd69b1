"""One connection of the fake realtime server: the session's setup, then each request for an answer played
from the script (``FakeRealtimeServer``), in the provider's own messages (``_realtime_wire``)."""

from __future__ import annotations

import json
import socket
import threading
from typing import TYPE_CHECKING, Any, Protocol

from pepperpy.testing._realtime_wire import (
    RealtimeAnswer,
    RealtimeFault,
    gemini_answer,
    gemini_tool_call,
    openai_answer,
    openai_done,
    openai_tool_call,
)

if TYPE_CHECKING:
    from pepperpy.testing._realtime_wire import RecordedSession

__all__ = ["ECHO_AUDIO", "Play"]

ECHO_AUDIO = b"\x01\x00" * 2400  # 0.1 s of 24 kHz PCM16: what an unscripted spoken answer says
_NO_KEY = ("Method doesn't allow unregistered callers (callers without established identity). Please use API Key "
           "or other form of API consumer identity to call this API.")
_BAD_KEY = "API key not valid. Please pass a valid API key."


class Script(Protocol):
    """What a connection needs of its FakeRealtimeServer (a Protocol: the server imports this module)."""

    api_key: str | None
    paused: threading.Event
    record_messages: bool

    def _next(self) -> RealtimeAnswer | RealtimeFault | None: ...

    def _response_id(self) -> str: ...

    def _pause(self) -> None: ...

    def _paused(self) -> None: ...

    def _resumed(self) -> bool: ...


class Play:
    """The fake side of one session."""

    def __init__(self, fake: Script, ws: Any, session: RecordedSession) -> None:
        self.fake, self.ws, self.session = fake, ws, session
        self.gemini = session.provider == "gemini"
        self.spoken = False
        self.vad = True
        self.heard = ""  # the user's last text, for the echo
        self.active: str | None = None  # an OpenAI response streaming (paused), for response.cancel
        self.calls = 0
        self.resumable = False  # Gemini: a sessionResumptionUpdate follows each turn, as the server sends it

    def run(self) -> None:
        from websockets.exceptions import ConnectionClosed

        if not self.gemini:
            key = self.session.headers.get("Authorization", "")
            if self.fake.api_key is not None and key != f"Bearer {self.fake.api_key}":
                self.send({"type": "error", "event_id": "event_0", "error": {
                    "type": "invalid_request_error", "code": "invalid_api_key", "param": None, "event_id": None,
                    "message": "Incorrect API key provided. You can find your API key at "
                               "https://platform.openai.com/account/api-keys."}})
                self.ws.close(3000, "invalid_request_error.invalid_api_key")
                return
            self.send({"type": "session.created", "event_id": "event_1",
                       "session": {"type": "realtime", "object": "realtime.session", "id": "sess_fake"}})
        try:
            for frame in self.ws:
                message = json.loads(frame)
                if self.fake.record_messages:
                    self.session.messages.append(message)
                if not (self.gemini_message(message) if self.gemini else self.openai_message(message)):
                    return
        except ConnectionClosed:
            return

    def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        self.ws.send(text.encode() if self.gemini else text)  # Gemini sends its JSON in binary frames

    # -- OpenAI --------------------------------------------------------------------------------------

    def openai_message(self, message: dict[str, Any]) -> bool:
        kind = message.get("type")
        if kind == "session.update":
            session = message.get("session") or {}
            self.spoken = (session.get("output_modalities") or ["audio"]) == ["audio"]
            self.send({"type": "session.updated", "event_id": "event_2", "session": session})
        elif kind == "conversation.item.create":
            item = message.get("item") or {}
            for part in item.get("content") or ():
                if part.get("type") == "input_text":
                    self.heard = part.get("text", "")
            self.send({"type": "conversation.item.added", "item": {**item, "id": f"item_u{len(self.heard)}"}})
        elif kind == "input_audio_buffer.commit":
            self.heard = "(audio)"
            self.send({"type": "input_audio_buffer.committed", "item_id": "item_audio", "previous_item_id": None})
        elif kind == "response.create":
            return self.answer()
        elif kind == "response.cancel":
            self.send({"type": "error", "error": {
                "type": "invalid_request_error", "code": "response_cancel_not_active",
                "message": "Cancellation failed: no active response found", "event_id": message.get("event_id")}})
        return True

    # -- Gemini --------------------------------------------------------------------------------------

    def gemini_message(self, message: dict[str, Any]) -> bool:
        setup = message.get("setup")
        if isinstance(setup, dict):
            key = self.session.headers.get("x-goog-api-key")
            if self.fake.api_key is not None and key != self.fake.api_key:
                self.ws.close(1008 if key is None else 1007, (_NO_KEY if key is None else _BAD_KEY)[:123])
                return False
            generation = setup.get("generationConfig") or {}
            self.spoken = generation.get("responseModalities") == ["AUDIO"]
            detection = (setup.get("realtimeInputConfig") or {}).get("automaticActivityDetection") or {}
            self.vad = not detection.get("disabled")
            self.resumable = "sessionResumption" in setup
            self.send({"setupComplete": {"sessionId": "fake-session"}})
            return True
        content = message.get("clientContent") or message.get("client_content")
        realtime = message.get("realtimeInput") or message.get("realtime_input") or {}
        if isinstance(content, dict):
            for turn in content.get("turns") or ():
                for part in turn.get("parts") or ():
                    self.heard = part.get("text", self.heard)
            if content.get("turnComplete"):
                return self.answer()
        elif "activityEnd" in realtime or ("audioStreamEnd" in realtime and self.vad):
            self.heard = "(audio)"
            return self.answer()
        elif "toolResponse" in message or "tool_response" in message:
            return self.answer()
        return True

    # -- answers -------------------------------------------------------------------------------------

    def answer(self) -> bool:
        """Play the next script item (False: the session is over)."""
        item = self.fake._next()
        if isinstance(item, RealtimeFault):
            return self.fault(item)
        answer = self.spoken_if_asked(item if item is not None else RealtimeAnswer(f"echo: {self.heard}"))
        if answer.tool_call is not None:
            self.calls += 1
            call_id = f"call_{self.calls}"
            if self.gemini:
                self.send(gemini_tool_call(answer, call_id))
            else:
                for message in openai_tool_call(answer, self.fake._response_id(), call_id):
                    self.send(message)
            return True
        return self.stream(answer)

    def spoken_if_asked(self, answer: RealtimeAnswer) -> RealtimeAnswer:
        """``answer`` with audio (``ECHO_AUDIO``, its text as the transcript) when the session answers in audio."""
        if not self.spoken or answer.audio is not None or answer.tool_call is not None:
            return answer
        return RealtimeAnswer(answer.text, ECHO_AUDIO, answer.transcript, answer.usage, None, answer.pieces,
                              answer.pause_after)

    def messages(self, answer: RealtimeAnswer, upto: int | None = None, response_id: str = "") -> list[dict[str, Any]]:
        if self.gemini:
            return list(gemini_answer(answer, self.spoken, upto))
        return list(openai_answer(answer, response_id, self.spoken, upto=upto))

    def stream(self, answer: RealtimeAnswer) -> bool:
        response_id = "" if self.gemini else self.fake._response_id()
        every = self.messages(answer, None, response_id)
        if self.resumable:
            every.append({"sessionResumptionUpdate": {"newHandle": f"handle-{len(self.session.messages)}",
                                                      "resumable": True}})
        if answer.pause_after is None:
            for message in every:
                self.send(message)
            return True
        first = self.messages(answer, answer.pause_after, response_id)
        for message in first:
            self.send(message)
        if self.gemini:
            self.fake._pause()
        else:  # OpenAI: wait for the client's response.cancel (or resume(), or another message)
            cancelled, other = self.wait_for_cancel()
            if cancelled:
                self.send(openai_done(answer, response_id, self.spoken, "cancelled", []))
                return True
            for message in every[len(first):]:
                self.send(message)
            return other is None or self.openai_message(other)
        for message in every[len(first):]:
            self.send(message)
        return True

    def wait_for_cancel(self) -> tuple[bool, dict[str, Any] | None]:
        """``(cancelled, another message that came instead)``, waiting at most until the test resumes."""
        from websockets.exceptions import ConnectionClosed

        self.fake._paused()
        try:
            while not self.fake._resumed():
                try:
                    frame = self.ws.recv(timeout=0.02)
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    return False, None
                message = json.loads(frame)
                self.session.messages.append(message)
                if message.get("type") == "response.cancel":
                    return True, None
                return False, message
            return False, None
        finally:
            self.fake.paused.clear()

    def fault(self, fault: RealtimeFault) -> bool:
        if fault.kind == "error":
            self.send({"type": "error", "event_id": "event_err", "error": {**fault.error, "event_id": None}})
            return True
        if fault.kind == "close":
            self.ws.close(fault.code or 1011, fault.reason[:123])
            return False
        answer = self.spoken_if_asked(fault.answer or RealtimeAnswer("partial"))
        response_id = "" if self.gemini else self.fake._response_id()
        for message in self.messages(answer, fault.code or 1, response_id):
            self.send(message)
        if fault.kind == "go_away":
            self.send({"goAway": {"timeLeft": fault.reason or "1s"}})
            self.ws.close(1000, "")
            return False
        try:  # "drop": the TCP connection cut, no close frame
            self.ws.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return False
