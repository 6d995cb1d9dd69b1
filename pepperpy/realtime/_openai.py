"""OpenAI's Realtime API (GA interface) as plain JSON: the client events pepperpy sends and the server events it
reads, as ``openai`` 3.63's ``resources/realtime`` and ``types/realtime`` define them. No I/O here.

The session: ``GET wss://<host>/v1/realtime?model=<id>`` with ``Authorization: Bearer <key>`` (no ``OpenAI-Beta``
header), then ``session.update`` (``type: "realtime"``; ``turn_detection: null`` when pepperpy drives the turns) ->
``session.updated``. A turn: ``conversation.item.create`` (text) or ``input_audio_buffer.append`` ... ``commit``
(audio), then ``response.create``; the answer streams as ``response.output_text.delta``,
``response.output_audio.delta`` (base64 PCM16), ``response.output_audio_transcript.delta`` and ends with
``response.done`` (its ``usage``). A function call is an output item (``response.function_call_arguments.done``);
its result goes back as a ``function_call_output`` item, and only a new ``response.create`` lets the model go on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..dialects.base import parse_arguments
from ..errors import ProviderError
from ..http._targets import query_value
from ..tools import tool_text
from ..types import ToolCall, ToolStep, Usage
from ._config import AUDIO_CHUNK_BYTES, SessionConfig, b64, split_base_url, unb64
from ._events import AudioDelta, ErrorEvent, Event, ServerEvent, TextDelta, ToolCallEvent, TranscriptDelta, TurnDone

__all__ = ["PARAMS", "OpenAIWire"]

# The session fields beside the ones client.realtime() names (realtime_session_create_request_param.py)
PARAMS = frozenset({"max_output_tokens", "tool_choice", "reasoning", "truncation", "include", "parallel_tool_calls",
                    "prompt", "tracing", "noise_reduction", "transcription", "speed"})
_AUDIO_INPUT = ("noise_reduction", "transcription")


class OpenAIWire:
    """The OpenAI Realtime wire format (see the module docstring)."""

    name = "openai"
    tools_mid_turn = False  # calls are answered once their response is done, then response.create goes on

    def __init__(self, config: SessionConfig) -> None:
        self.config = config

    @staticmethod
    def url(base_url: str, model: str) -> str:
        scheme, host, path = split_base_url(base_url)
        return f"{scheme}://{host}{path}/realtime?model={query_value(model)}"

    def opening(self) -> list[dict[str, Any]]:
        """The messages that set the session up once connected."""
        config = self.config
        session: dict[str, Any] = {"type": "realtime", "output_modalities": [config.output]}
        if config.instructions is not None:
            session["instructions"] = config.instructions
        params = dict(config.params)
        audio_in: dict[str, Any] = {"format": {"type": "audio/pcm", "rate": config.input_rate},
                                    "turn_detection": _turn_detection(config.turn_detection)}
        for key in _AUDIO_INPUT:
            if key in params:
                audio_in[key] = params.pop(key)
        audio: dict[str, Any] = {"input": audio_in}
        if config.output == "audio" or config.voice is not None or "speed" in params:
            audio_out: dict[str, Any] = {"format": {"type": "audio/pcm", "rate": config.output_rate}}
            if config.voice is not None:
                audio_out["voice"] = config.voice
            if "speed" in params:
                audio_out["speed"] = params.pop("speed")
            audio["output"] = audio_out
        session["audio"] = audio
        if config.tools is not None and config.tools.tools:
            session["tools"] = [_flat(definition) for definition in config.tools.definitions()]
            session["tool_choice"] = "auto"
        if config.max_output_tokens is not None:
            session["max_output_tokens"] = config.max_output_tokens
        session.update(params)
        return [{"type": "session.update", "session": session}]

    @staticmethod
    def ready(message: Mapping[str, Any]) -> bool:
        """Whether ``message`` says the session is set up (``session.updated``; ``session.created`` comes first)."""
        return message.get("type") == "session.updated"

    @staticmethod
    def user_text(text: str) -> list[dict[str, Any]]:
        return [{"type": "conversation.item.create",
                 "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}}]

    @staticmethod
    def audio_chunks(pcm: bytes, started: bool) -> list[dict[str, Any]]:
        """``pcm`` as appends to the input buffer (``started``: appends already went before, no difference here)."""
        return [{"type": "input_audio_buffer.append", "audio": b64(pcm[i:i + AUDIO_CHUNK_BYTES])}
                for i in range(0, len(pcm), AUDIO_CHUNK_BYTES)]

    @staticmethod
    def commit() -> tuple[list[dict[str, Any]], bool]:
        """The end of the user's audio, and whether it starts an answer by itself (not here: ``respond`` does)."""
        return [{"type": "input_audio_buffer.commit"}], False

    @staticmethod
    def respond(overrides: Mapping[str, Any]) -> list[dict[str, Any]]:
        message: dict[str, Any] = {"type": "response.create"}
        if overrides:
            message["response"] = dict(overrides)
        return [message]

    def ask(self, text: str | None, audio: bytes | None) -> list[dict[str, Any]]:
        """One whole turn: the user's text or audio, then the request for an answer."""
        messages = self.user_text(text) if text is not None else []
        if audio is not None:
            messages += self.audio_chunks(audio, False) + self.commit()[0]
        return messages + self.respond({})

    @staticmethod
    def cancel() -> list[dict[str, Any]]:
        return [{"type": "response.cancel"}]

    @classmethod
    def tool_results(cls, steps: Sequence[ToolStep]) -> list[dict[str, Any]]:
        """The results as ``function_call_output`` items, then ``response.create`` to let the model go on."""
        return [{"type": "conversation.item.create",
                 "item": {"type": "function_call_output", "call_id": step.id, "output": _output_text(step)}}
                for step in steps] + cls.respond({})

    @staticmethod
    def parse(message: Mapping[str, Any], error: Any) -> list[Event]:
        """The typed event of one server message. ``error(body)`` builds the typed error of an ``error`` event
        (the translation lives in ``http._translate``)."""
        kind = str(message.get("type", ""))
        if kind == "response.output_text.delta":
            return [TextDelta(str(message.get("delta") or ""), message)]
        if kind == "response.output_audio.delta":
            return [AudioDelta(unb64(message.get("delta")), message)]
        if kind == "response.output_audio_transcript.delta":
            return [TranscriptDelta(str(message.get("delta") or ""), message)]
        if kind == "response.function_call_arguments.done":
            return [ToolCallEvent(_call(message.get("call_id"), message.get("name"), message.get("arguments")),
                                  message)]
        if kind == "response.done":
            response = _mapping(message.get("response"))
            calls = [_call(item.get("call_id"), item.get("name"), item.get("arguments"))
                     for item in response.get("output") or () if isinstance(item, Mapping)
                     and item.get("type") == "function_call"]
            return [TurnDone(str(response.get("status") or "completed"), usage(response.get("usage")), None,
                             message, calls, response.get("id"))]
        if kind == "error":
            built: ProviderError = error(message)
            return [ErrorEvent(built, message)]
        return [ServerEvent(kind, message)]

    @staticmethod
    def has_usage(message: Mapping[str, Any]) -> bool:
        return False  # usage comes with response.done only

    @staticmethod
    def usage_of(message: Mapping[str, Any]) -> Usage:
        return Usage()

    @staticmethod
    def response_id(message: Mapping[str, Any]) -> str | None:
        """The response a server message belongs to, when it says (stale answers are dropped by it)."""
        found = message.get("response_id")
        if found is None and isinstance(message.get("response"), Mapping):
            found = message["response"].get("id")
        return found if isinstance(found, str) else None


def usage(raw: Any) -> Usage:
    """``response.done``'s usage; every field may be missing (some answers carry only the two totals)."""
    if not isinstance(raw, Mapping):
        return Usage()
    into = _mapping(raw.get("input_token_details"))
    out = _mapping(raw.get("output_token_details"))
    cached = _mapping(into.get("cached_tokens_details"))
    return Usage(_int(raw.get("input_tokens")), _int(raw.get("output_tokens")),
                 _int(raw.get("total_tokens")) or -1, cached_tokens=_int(into.get("cached_tokens")),
                 input_audio_tokens=_int(into.get("audio_tokens")), input_image_tokens=_int(into.get("image_tokens")),
                 cached_audio_tokens=_int(cached.get("audio_tokens")),
                 output_audio_tokens=_int(out.get("audio_tokens")))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _turn_detection(option: Any) -> Any:
    if option is None:
        return None  # sent as null: the server's voice activity detection, on by default, is switched off
    if isinstance(option, str):
        return {"type": option}
    return dict(option)


def _flat(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A chat tool definition (``{"type": "function", "function": {...}}``) in the Realtime API's flat shape."""
    function = definition["function"]
    flat: dict[str, Any] = {"type": "function", "name": function["name"]}
    if function.get("description"):
        flat["description"] = function["description"]
    flat["parameters"] = function.get("parameters") or {"type": "object", "properties": {}}
    return flat


def _call(call_id: Any, name: Any, arguments: Any) -> ToolCall:
    return ToolCall(str(call_id or ""), str(name or ""), parse_arguments(arguments))


def _output_text(step: ToolStep) -> str:
    """A tool's result as the ``output`` string (JSON for anything but text), or the error the model is sent."""
    return step.error if step.error is not None else tool_text(step.result)
