"""What one ``ask`` gathers while its answer streams in: text, audio, transcript, events, tool steps, usage."""

from __future__ import annotations

from typing import Any

from ..types import ToolCall, ToolStep, Usage
from ._events import AudioDelta, Event, TextDelta, TranscriptDelta, TurnDone
from ._reply import RealtimeReply

__all__ = ["Turn", "add_usage"]


def add_usage(a: Usage, b: Usage) -> Usage:
    """Two answers' usage added up (a turn that ran tools asked twice, and is billed twice)."""
    return Usage(a.input_tokens + b.input_tokens, a.output_tokens + b.output_tokens,
                 a.total_tokens + b.total_tokens, a.cached_tokens + b.cached_tokens,
                 a.reasoning_tokens + b.reasoning_tokens, a.input_audio_tokens + b.input_audio_tokens,
                 a.input_image_tokens + b.input_image_tokens, a.cached_audio_tokens + b.cached_audio_tokens,
                 a.output_audio_tokens + b.output_audio_tokens)


class Turn:
    """One ``ask`` in progress. ``spent`` is what its finished answers cost (settled on the budget before a
    tool round asks again); ``calls`` the tool calls waiting to be run."""

    def __init__(self, content: Any) -> None:
        self.content = content  # what the audit record shows as the prompt (with log_content)
        self.text: list[str] = []
        self.transcript: list[str] = []
        self.audio = bytearray()
        self.events: list[Event] = []
        self.steps: list[ToolStep] = []
        self.calls: list[ToolCall] = []
        self.usage = Usage()
        self.cost: float | None = None
        self.spent = 0.0
        self.status = "completed"
        self.raw: Any = None
        self.answers = 0

    def take(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, TextDelta):
            self.text.append(event.text)
        elif isinstance(event, AudioDelta):
            self.audio += event.audio
        elif isinstance(event, TranscriptDelta):
            self.transcript.append(event.text)

    def answered(self, done: TurnDone) -> None:
        """One answer of the turn is over (``done`` carries its priced usage)."""
        self.answers += 1
        self.usage = add_usage(self.usage, done.usage)
        if done.cost is not None:
            self.cost = (self.cost or 0.0) + done.cost
        self.status = done.status
        self.raw = done.raw

    def arrived(self) -> str:
        """What the turn has received so far, in words (for the error of a session that broke mid-turn)."""
        parts = [f"{sum(len(t) for t in self.text):,} characters of text"] if self.text else []
        if self.audio:
            parts.append(f"{len(self.audio):,} bytes of audio")
        if self.transcript:
            parts.append(f"{sum(len(t) for t in self.transcript):,} characters of transcript")
        return ", ".join(parts) or "nothing yet"

    def reply(self, model: str, provider: str, audio_rate: int, *, with_audio: bool) -> RealtimeReply:
        return RealtimeReply("".join(self.text), bytes(self.audio) if with_audio or self.audio else None,
                             "".join(self.transcript), model, provider, self.usage,
                             round(self.cost, 10) if self.cost is not None else None, tuple(self.events),
                             tuple(self.steps), self.status, self.raw, None, audio_rate)
