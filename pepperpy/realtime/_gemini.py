"""Gemini's Live API as plain JSON: the client messages pepperpy sends and the server messages it reads, as
``google-genai`` 3.6's ``live.py`` sends and reads them (keys in canonical camelCase; the server reads both
spellings). No I/O here.

The session: ``GET wss://<host>/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent``
with ``x-goog-api-key``, then ``setup`` (model ``models/<id>``, ``generationConfig.responseModalities``,
``systemInstruction``, tools, ``realtimeInputConfig``) -> ``setupComplete``. A text turn is ``clientContent``
with ``turnComplete: true``; a spoken one is ``realtimeInput`` audio (``audio/pcm;rate=16000``), between
``activityStart`` and ``activityEnd`` when the server's activity detection is off (pepperpy's default), else
ended by ``audioStreamEnd``. The answer comes as ``serverContent`` (``modelTurn`` parts: text, or ``inlineData``
PCM16 at 24 kHz; ``outputTranscription``) and ends with ``turnComplete``, ``usageMetadata`` beside it. A
``toolCall`` waits for its ``toolResponse`` (same ``id``) before the model goes on. ``goAway`` warns that the
server will close the session soon. There is no cancel message: a cancelled turn is read to its end and dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..dialects._gemini_config import generation_field
from ..dialects.base import parse_arguments
from ..errors import ValidationError
from ..tools import tool_text
from ..types import ToolCall, ToolStep, Usage
from ._config import AUDIO_CHUNK_BYTES, SessionConfig, b64, split_base_url, unb64
from ._events import AudioDelta, Event, GoAway, ServerEvent, TextDelta, ToolCallEvent, TranscriptDelta, TurnDone

__all__ = ["DEFAULT_API_VERSION", "PARAMS", "GeminiWire"]

DEFAULT_API_VERSION = "v1beta"  # the docs' address; google-genai 3.6 defaults to v1, 2.x to v1beta
# setup fields beside the ones client.realtime() names (LiveClientSetup), and generationConfig's (camelCase too)
PARAMS = frozenset({"max_output_tokens", "sessionResumption", "contextWindowCompression", "proactivity",
                    "inputAudioTranscription", "outputAudioTranscription", "explicitVadSignal", "historyConfig",
                    "safetySettings", "thinkingConfig", "enableAffectiveDialog", "temperature", "top_p", "top_k",
                    "seed", "topP", "topK", "mediaResolution", "languageCode"})
_VERSION = re.compile(r"^v\d+(?:alpha|beta)?\d*$")
_SETUP_GENERATION = frozenset({"thinkingConfig", "enableAffectiveDialog", "mediaResolution"})


class GeminiWire:
    """The Gemini Live wire format (see the module docstring)."""

    name = "gemini"
    tools_mid_turn = True  # a toolCall holds the turn until its toolResponse

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self.vad = config.turn_detection is not None

    @staticmethod
    def url(base_url: str, model: str) -> str:
        scheme, host, path = split_base_url(base_url)
        prefix, _, last = path.rpartition("/")
        version = last if _VERSION.match(last) else DEFAULT_API_VERSION
        if not _VERSION.match(last):
            prefix = path
        return f"{scheme}://{host}{prefix}/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent"

    def opening(self) -> list[dict[str, Any]]:
        config = self.config
        generation: dict[str, Any] = {"responseModalities": [config.output.upper()]}
        if config.voice is not None:
            generation["speechConfig"] = {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": config.voice}}}
        if config.max_output_tokens is not None:
            generation["maxOutputTokens"] = config.max_output_tokens
        setup: dict[str, Any] = {"model": "models/" + config.model.removeprefix("models/"),
                                 "generationConfig": generation}
        if config.instructions is not None:
            setup["systemInstruction"] = {"parts": [{"text": config.instructions}]}
        if config.tools is not None and config.tools.tools:
            setup["tools"] = [{"functionDeclarations": [_declaration(d["function"])
                                                        for d in config.tools.definitions()]}]
        if not self.vad:
            setup["realtimeInputConfig"] = {"automaticActivityDetection": {"disabled": True}}
        elif isinstance(config.turn_detection, Mapping):
            setup["realtimeInputConfig"] = dict(config.turn_detection)
        if config.output == "audio":
            setup["outputAudioTranscription"] = {}  # the transcript of the answer: RealtimeReply.transcript
        for key, value in config.params.items():
            field = generation_field(key, value)
            if field is not None or key in _SETUP_GENERATION:
                name, value = field if field is not None else (key, value)
                generation[name] = value
            else:
                setup[key] = value
        return [{"setup": setup}]

    @staticmethod
    def ready(message: Mapping[str, Any]) -> bool:
        return "setupComplete" in message

    @staticmethod
    def user_text(text: str, *, complete: bool = False) -> list[dict[str, Any]]:
        return [{"clientContent": {"turns": [{"role": "user", "parts": [{"text": text}]}],
                                   "turnComplete": complete}}]

    def audio_chunks(self, pcm: bytes, started: bool) -> list[dict[str, Any]]:
        """``pcm`` as realtime input; the first chunk of an utterance opens it (``activityStart``) when the
        server's activity detection is off."""
        mime = f"audio/pcm;rate={self.config.input_rate}"
        opening: list[dict[str, Any]] = [] if started or self.vad else [{"realtimeInput": {"activityStart": {}}}]
        return opening + [{"realtimeInput": {"audio": {"data": b64(pcm[i:i + AUDIO_CHUNK_BYTES]), "mimeType": mime}}}
                          for i in range(0, len(pcm), AUDIO_CHUNK_BYTES)]

    def commit(self) -> tuple[list[dict[str, Any]], bool]:
        """The end of the user's audio: ``activityEnd`` starts the answer (activity detection off), else
        ``audioStreamEnd`` lets the server's detection decide."""
        if self.vad:
            return [{"realtimeInput": {"audioStreamEnd": True}}], False
        return [{"realtimeInput": {"activityEnd": {}}}], True

    @staticmethod
    def respond(overrides: Mapping[str, Any]) -> list[dict[str, Any]]:
        if overrides:
            raise ValidationError(f"Gemini Live takes no per-answer settings ({', '.join(overrides)}): set them "
                                  f"when opening the session", param=next(iter(overrides)))
        return [{"clientContent": {"turnComplete": True}}]

    def ask(self, text: str | None, audio: bytes | None) -> list[dict[str, Any]]:
        """One whole turn: the text as a complete turn, or the audio as one utterance."""
        if audio is None:
            return self.user_text(text or "", complete=True)
        messages = self.user_text(text) if text is not None else []
        return messages + self.audio_chunks(audio, False) + self.commit()[0]

    @staticmethod
    def cancel() -> list[dict[str, Any]]:
        return []  # nothing to send: the session stops reading the turn and drops the rest of it

    @staticmethod
    def tool_results(steps: Sequence[ToolStep]) -> list[dict[str, Any]]:
        return [{"toolResponse": {"functionResponses": [
            {"id": step.id, "name": step.name, "response": _response(step)} for step in steps]}}]

    @staticmethod
    def parse(message: Mapping[str, Any], error: Any) -> list[Event]:
        """The typed events of one server message; one message may carry several (parts, a transcript and the
        turn's end together). Thought parts are skipped."""
        found: list[Event] = []
        content = _mapping(message.get("serverContent") or message.get("server_content"))
        turn = _mapping(content.get("modelTurn") or content.get("model_turn"))
        for part in turn.get("parts") or ():
            if not isinstance(part, Mapping) or part.get("thought"):
                continue
            blob = _mapping(part.get("inlineData") or part.get("inline_data"))
            if blob:
                found.append(AudioDelta(unb64(blob.get("data")), message))
            elif isinstance(part.get("text"), str):
                found.append(TextDelta(part["text"], message))
        said = _mapping(content.get("outputTranscription") or content.get("output_transcription"))
        if isinstance(said.get("text"), str) and said["text"]:
            found.append(TranscriptDelta(said["text"], message))
        calls = _mapping(message.get("toolCall") or message.get("tool_call")).get("functionCalls") or ()
        for call in calls:
            if isinstance(call, Mapping):
                found.append(ToolCallEvent(ToolCall(str(call.get("id") or call.get("name") or ""),
                                                     str(call.get("name") or ""), parse_arguments(call.get("args"))),
                                           message))
        away = message.get("goAway") or message.get("go_away")
        if isinstance(away, Mapping):
            found.append(GoAway(_seconds(away.get("timeLeft") or away.get("time_left")), message))
        if content.get("turnComplete") or content.get("turn_complete"):
            found.append(TurnDone("cancelled" if content.get("interrupted") else "completed",
                                  usage(message.get("usageMetadata") or message.get("usage_metadata")), None, message))
        elif content.get("interrupted"):
            found.append(ServerEvent("interrupted", message))
        if not found:
            known = next((key for key in message if key != "usageMetadata"), "usageMetadata")
            found.append(ServerEvent(str(known), message))
        return found

    @staticmethod
    def has_usage(message: Mapping[str, Any]) -> bool:
        return isinstance(message.get("usageMetadata") or message.get("usage_metadata"), Mapping)

    @staticmethod
    def usage_of(message: Mapping[str, Any]) -> Usage:
        return usage(message.get("usageMetadata") or message.get("usage_metadata"))

    @staticmethod
    def response_id(message: Mapping[str, Any]) -> str | None:
        return None  # Gemini's messages carry no turn id: stale turns are told apart by counting them


def usage(raw: Any) -> Usage:
    """``usageMetadata``: prompt (text and audio apart, by modality), response and thinking tokens (billed as
    output). Google bills the whole conversation again each turn: ``promptTokenCount`` grows turn by turn."""
    if not isinstance(raw, Mapping):
        return Usage()
    thoughts = _int(raw.get("thoughtsTokenCount"))
    output = _int(raw.get("responseTokenCount") or raw.get("candidatesTokenCount")) + thoughts
    total = raw.get("totalTokenCount")
    return Usage(_int(raw.get("promptTokenCount")), output, total if isinstance(total, int) else -1,
                 cached_tokens=_int(raw.get("cachedContentTokenCount")), reasoning_tokens=thoughts,
                 input_audio_tokens=_modality(raw.get("promptTokensDetails"), "AUDIO"),
                 input_image_tokens=_modality(raw.get("promptTokensDetails"), "IMAGE"),
                 cached_audio_tokens=_modality(raw.get("cacheTokensDetails"), "AUDIO"),
                 output_audio_tokens=_modality(raw.get("responseTokensDetails"), "AUDIO"))


def _modality(details: Any, modality: str) -> int:
    return sum(_int(item.get("tokenCount")) for item in details or ()
               if isinstance(item, Mapping) and item.get("modality") == modality)


def _int(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():  # int64 fields may come as strings in proto JSON
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seconds(value: Any) -> float | None:
    """A proto Duration (``"10s"``, ``"1.5s"``) in seconds."""
    try:
        return float(str(value).removesuffix("s")) if value is not None else None
    except ValueError:
        return None


def _declaration(function: Mapping[str, Any]) -> dict[str, Any]:
    """A chat tool's function as a Live function declaration: its JSON Schema as ``parametersJsonSchema``, and
    ``behavior: BLOCKING`` so that the model waits for the result (gemini-3.8-live calls asynchronously by
    default)."""
    declaration: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        declaration["description"] = function["description"]
    declaration["parametersJsonSchema"] = function.get("parameters") or {"type": "object", "properties": {}}
    declaration["behavior"] = "BLOCKING"
    return declaration


def _response(step: ToolStep) -> dict[str, Any]:
    """A tool's result as the ``response`` object Gemini wants: a JSON object as it is, else wrapped."""
    if step.error is not None:
        return {"error": step.error}
    value = step.result
    if isinstance(value, Mapping):
        try:
            return dict(json.loads(tool_text(value)))
        except ValueError:
            pass
    return {"result": value if isinstance(value, (str, int, float, bool)) or value is None else tool_text(value)}
