"""What a realtime session hears from the provider, as typed events: each keeps the provider's JSON in ``raw``.

``for event in session`` yields them; ``RealtimeReply.events`` lists those of one ``ask``. Events pepperpy has no
type for (``session.updated``, ``rate_limits.updated``, Gemini's ``sessionResumptionUpdate`` ...) come as
``ServerEvent`` with the provider's ``type``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProviderError
from ..types import ToolCall, Usage

__all__ = ["AudioDelta", "ErrorEvent", "Event", "GoAway", "ServerEvent", "TextDelta", "ToolCallEvent",
           "TranscriptDelta", "TurnDone"]


@dataclass(frozen=True, slots=True, repr=False)
class TextDelta:
    """A piece of the answer's text."""

    text: str
    raw: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"TextDelta({self.text!r})"


@dataclass(frozen=True, slots=True, repr=False)
class AudioDelta:
    """A piece of the spoken answer: PCM16 mono at the model's output rate."""

    audio: bytes
    raw: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"AudioDelta({len(self.audio):,} bytes)"


@dataclass(frozen=True, slots=True, repr=False)
class TranscriptDelta:
    """A piece of the transcript of the spoken answer."""

    text: str
    raw: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"TranscriptDelta({self.text!r})"


@dataclass(frozen=True, slots=True, repr=False)
class ToolCallEvent:
    """The model calls a function (``ask`` runs it when it is one of the session's Python tools)."""

    call: ToolCall
    raw: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"ToolCallEvent({self.call.name!r}, {dict(self.call.arguments)!r})"


@dataclass(frozen=True, slots=True, repr=False)
class TurnDone:
    """An answer is over: ``status`` is ``completed``, ``cancelled``, ``incomplete`` or ``failed``; ``usage`` and
    ``cost`` are what the provider reported for it (every answer is booked from them); ``calls`` the functions it
    asked for, still to be answered."""

    status: str
    usage: Usage
    cost: float | None
    raw: Mapping[str, Any]
    calls: Sequence[ToolCall] = ()
    response_id: str | None = None

    def __repr__(self) -> str:
        cost = f", cost={self.cost}" if self.cost is not None else ""
        return f"TurnDone({self.status!r}, {self.usage.input_tokens} in, {self.usage.output_tokens} out{cost})"


@dataclass(frozen=True, slots=True, repr=False)
class ErrorEvent:
    """The provider reported an error; ``error`` is the typed pepperpy error it means."""

    error: ProviderError
    raw: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"ErrorEvent({type(self.error).__name__}: {self.error})"


@dataclass(frozen=True, slots=True, repr=False)
class GoAway:
    """Gemini is about to end the session (``time_left`` seconds, when it said): finish up and open a new one."""

    time_left: float | None
    raw: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"GoAway(time_left={self.time_left})"


@dataclass(frozen=True, slots=True, repr=False)
class ServerEvent:
    """Any other server event, by the provider's ``type`` (Gemini's: the message's key)."""

    type: str
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"ServerEvent({self.type!r})"


Event = TextDelta | AudioDelta | TranscriptDelta | ToolCallEvent | TurnDone | ErrorEvent | GoAway | ServerEvent
