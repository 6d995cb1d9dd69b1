"""What the fake realtime server says, message by message, in OpenAI's Realtime and Gemini's Live formats (the
shapes of ``openai`` 3.63's ``types/realtime`` and ``google-genai`` 3.6's ``LiveServerMessage``).

Only the standard library: scripts are plain data, rendered here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PAUSE_SECONDS",
    "RealtimeAnswer",
    "RealtimeFault",
    "RecordedSession",
    "gemini_answer",
    "gemini_tool_call",
    "openai_answer",
    "openai_done",
    "openai_tool_call",
    "realtime_usage",
]


PAUSE_SECONDS = 5.0  # the longest a paused answer waits for the test's resume() or the client's cancel


@dataclass
class RecordedSession:
    """One connection: its provider (``openai`` or ``gemini``), request path (with the query), headers, and the
    JSON of every client message, in order."""

    provider: str
    path: str
    headers: dict[str, str]
    messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RealtimeAnswer:
    """A scripted realtime answer: ``text`` (or, for ``output="audio"`` sessions, ``audio`` PCM16 with its
    ``transcript``), in ``pieces`` parts; ``usage`` is ``(input_tokens, output_tokens)`` or the provider's own
    usage dict; ``tool_call`` (``{"name": ..., "arguments": {...}}``) makes the answer a function call.
    ``pause_after``: after that many pieces, the server waits (``FakeRealtimeServer.paused`` is set) until
    ``resume()`` or, on OpenAI, until the client's ``response.cancel`` (then the answer ends ``cancelled``)."""

    text: str = ""
    audio: bytes | None = None
    transcript: str | None = None
    usage: Any = None
    tool_call: Mapping[str, Any] | None = None
    pieces: int = 2
    pause_after: int | None = None

    def text_pieces(self) -> list[str]:
        return _split(self.text, self.pieces)

    def audio_pieces(self) -> list[bytes]:
        data = self.audio or b""
        size = max(-(-len(data) // max(self.pieces, 1)), 2)
        size += size % 2
        return [data[i:i + size] for i in range(0, len(data), size)] or []


@dataclass
class RealtimeFault:
    """A scripted failure of the next answer: an ``error`` event (OpenAI), a close with ``code`` and ``reason``,
    a connection dropped after ``after`` pieces, or Gemini's ``goAway`` then a close."""

    kind: str
    code: int | None = None
    reason: str = ""
    error: Mapping[str, Any] = field(default_factory=dict)
    answer: RealtimeAnswer | None = None


def _split(text: str, pieces: int) -> list[str]:
    if not text:
        return []
    size = max(-(-len(text) // max(pieces, 1)), 1)
    return [text[i:i + size] for i in range(0, len(text), size)]


def realtime_usage(provider: str, answer: RealtimeAnswer, spoken: bool) -> dict[str, Any]:
    """The answer's usage in the provider's shape (default figures from the answer's size)."""
    given = answer.usage
    if isinstance(given, Mapping):
        return dict(given)
    audio_out = len(answer.audio or b"") // 960 if spoken else 0  # ~25 tokens a second of 24 kHz audio
    text_out = max(len(answer.text or answer.transcript or "") // 4, 1)
    inputs, outputs = given if isinstance(given, Sequence) else (20, text_out + audio_out)
    if provider == "openai":
        return {"total_tokens": inputs + outputs, "input_tokens": inputs, "output_tokens": outputs,
                "input_token_details": {"text_tokens": inputs, "audio_tokens": 0, "image_tokens": 0,
                                        "cached_tokens": 0, "cached_tokens_details": {"text_tokens": 0,
                                                                                      "audio_tokens": 0}},
                "output_token_details": {"text_tokens": outputs - min(audio_out, outputs),
                                         "audio_tokens": min(audio_out, outputs)}}
    details = [{"modality": "AUDIO", "tokenCount": min(audio_out, outputs)}] if spoken else \
        [{"modality": "TEXT", "tokenCount": outputs}]
    return {"promptTokenCount": inputs, "responseTokenCount": outputs, "totalTokenCount": inputs + outputs,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": inputs}], "responseTokensDetails": details}


# --------------------------------------------------------------------------- OpenAI

def openai_answer(answer: RealtimeAnswer, response_id: str, spoken: bool, status: str = "completed",
                  upto: int | None = None) -> Iterator[dict[str, Any]]:
    """A text or audio response, as the GA interface streams it (``upto``: only its first pieces, no end)."""
    item = f"item_{response_id}"
    at = {"response_id": response_id, "item_id": item, "output_index": 0, "content_index": 0}
    yield {"type": "response.created", "response": {"id": response_id, "object": "realtime.response",
                                                    "status": "in_progress", "output": [], "usage": None}}
    yield {"type": "response.output_item.added", "response_id": response_id, "output_index": 0,
           "item": {"id": item, "object": "realtime.item", "type": "message", "role": "assistant", "content": []}}
    if spoken:
        transcript = answer.transcript if answer.transcript is not None else answer.text
        said = _split(transcript, answer.pieces)
        for count, audio in enumerate(answer.audio_pieces()):
            if upto is not None and count >= upto:
                return
            yield {"type": "response.output_audio.delta", **at, "delta": base64.b64encode(audio).decode()}
            if count < len(said):
                yield {"type": "response.output_audio_transcript.delta", **at, "delta": said[count]}
        content = {"type": "output_audio", "transcript": transcript}
    else:
        for count, piece in enumerate(answer.text_pieces()):
            if upto is not None and count >= upto:
                return
            yield {"type": "response.output_text.delta", **at, "delta": piece}
        yield {"type": "response.output_text.done", **at, "text": answer.text}
        content = {"type": "output_text", "text": answer.text}
    output = [{"id": item, "object": "realtime.item", "type": "message", "role": "assistant", "status": status,
               "content": [content]}]
    yield openai_done(answer, response_id, spoken, status, output)
    yield openai_rate_limits()


def openai_rate_limits() -> dict[str, Any]:
    """What OpenAI sends a moment after each ``response.done``: the end of an answer is not always the last
    message of its cycle."""
    return {"type": "rate_limits.updated", "rate_limits": [
        {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
        {"name": "tokens", "limit": 15000000, "remaining": 14999716, "reset_seconds": 0.001}]}


def openai_done(answer: RealtimeAnswer, response_id: str, spoken: bool, status: str,
                output: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "response.done", "response": {
        "id": response_id, "object": "realtime.response", "status": status,
        "status_details": {"type": status, "reason": "client_cancelled"} if status == "cancelled" else None,
        "output": output, "output_modalities": ["audio" if spoken else "text"],
        "usage": realtime_usage("openai", answer, spoken)}}


def openai_tool_call(answer: RealtimeAnswer, response_id: str, call_id: str) -> Iterator[dict[str, Any]]:
    call = answer.tool_call or {}
    arguments = json.dumps(dict(call.get("arguments") or {}))
    item = {"id": f"item_{response_id}", "object": "realtime.item", "type": "function_call", "status": "completed",
            "name": call.get("name"), "call_id": call_id, "arguments": arguments}
    yield {"type": "response.created", "response": {"id": response_id, "status": "in_progress", "usage": None}}
    yield {"type": "response.output_item.added", "response_id": response_id, "output_index": 0,
           "item": {**item, "status": "in_progress", "arguments": ""}}
    yield {"type": "response.function_call_arguments.delta", "response_id": response_id, "item_id": item["id"],
           "output_index": 0, "call_id": call_id, "delta": arguments}
    yield {"type": "response.function_call_arguments.done", "response_id": response_id, "item_id": item["id"],
           "output_index": 0, "call_id": call_id, "name": call.get("name"), "arguments": arguments}
    yield {"type": "response.output_item.done", "response_id": response_id, "output_index": 0, "item": item}
    yield openai_done(answer, response_id, False, "completed", [item])
    yield openai_rate_limits()


# --------------------------------------------------------------------------- Gemini

def gemini_answer(answer: RealtimeAnswer, spoken: bool, upto: int | None = None) -> Iterator[dict[str, Any]]:
    """A Live answer: ``modelTurn`` parts (text, or 24 kHz PCM with ``outputTranscription``), then
    ``turnComplete`` with ``usageMetadata`` (``upto``: only its first pieces, no end)."""
    if spoken:
        transcript = answer.transcript if answer.transcript is not None else answer.text
        said = _split(transcript, answer.pieces) or [""]
        for count, audio in enumerate(answer.audio_pieces()):
            if upto is not None and count >= upto:
                return
            content: dict[str, Any] = {"modelTurn": {"parts": [{"inlineData": {
                "mimeType": "audio/pcm;rate=24000", "data": base64.b64encode(audio).decode()}}]}}
            if count < len(said) and said[count]:
                content["outputTranscription"] = {"text": said[count]}
            yield {"serverContent": content}
    else:
        for count, piece in enumerate(answer.text_pieces()):
            if upto is not None and count >= upto:
                return
            yield {"serverContent": {"modelTurn": {"parts": [{"text": piece}]}}}
    yield {"serverContent": {"generationComplete": True}}
    yield {"serverContent": {"turnComplete": True}, "usageMetadata": realtime_usage("gemini", answer, spoken)}


def gemini_tool_call(answer: RealtimeAnswer, call_id: str) -> dict[str, Any]:
    call = answer.tool_call or {}
    return {"toolCall": {"functionCalls": [{"id": call_id, "name": call.get("name"),
                                            "args": dict(call.get("arguments") or {})}]}}
