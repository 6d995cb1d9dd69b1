"""``RealtimeReply``: the whole answer of one ``ask`` (text, audio, transcript, usage, cost, tool steps, events)."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..media import wav_from_pcm, write_whole
from ..types import ToolStep, Usage, short_text
from ._events import Event

__all__ = ["RealtimeReply"]


@dataclass(frozen=True, slots=True, repr=False)
class RealtimeReply:
    """One turn's answer. ``audio`` is PCM16 mono at ``audio_rate`` Hz (None when the session answers in text);
    ``transcript`` is what that audio says; ``steps`` the tool calls ``ask`` ran; ``status`` ``completed`` or
    ``cancelled`` (``s.cancel()``), ``incomplete`` (cut by max_output_tokens or a filter). ``str(reply)`` is its
    text, else its transcript.

    >>> r = session.ask("Say hello")          # doctest: +SKIP
    >>> r.text, r.usage.output_tokens, r.cost  # doctest: +SKIP
    >>> r.save("hello.wav")                    # doctest: +SKIP
    """

    text: str
    audio: bytes | None
    transcript: str
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    events: Sequence[Event] = ()
    steps: Sequence[ToolStep] = ()
    status: str = "completed"
    raw: Any = None
    request_id: str | None = None
    audio_rate: int = 24000
    cached: bool = False

    @property
    def size_bytes(self) -> int:
        """The size of the audio (0 without)."""
        return len(self.audio or b"")

    @property
    def seconds(self) -> float:
        """How long the audio plays."""
        return self.size_bytes / (2 * self.audio_rate)

    def wav(self) -> bytes:
        """The audio as a WAV file's bytes; ValidationError when the reply has none."""
        if not self.audio:
            raise ValidationError("this reply has no audio: the session answers in text (open it with "
                                  "output='audio' to hear the model)", param="output", value="text")
        return wav_from_pcm(self.audio, self.audio_rate)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the audio to ``path`` as a WAV file (``.wav`` added when it has no extension), whole or not at
        all; returns the path."""
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".wav")
        return write_whole(target, (self.wav(),))

    def _repr_html_(self) -> str:
        said = html.escape(self.text or self.transcript)
        player = ""
        if self.audio:
            encoded = base64.b64encode(self.wav()).decode()
            player = f'<audio controls src="data:audio/wav;base64,{encoded}"></audio>'
        return (f"{player}<p>{said}</p><p><em>{html.escape(f'{self.provider}/{self.model}')}"
                f"{f' · {self.seconds:.1f} s' if self.audio else ''}</em></p>")

    def __str__(self) -> str:
        return self.text or self.transcript

    def __repr__(self) -> str:
        parts = [f"{self.provider}/{self.model}"]
        if self.text:
            parts.append(f"text={short_text(self.text)}")
        if self.audio:
            parts.append(f"audio={self.seconds:.1f} s")
        if self.transcript and not self.text:
            parts.append(f"transcript={short_text(self.transcript)}")
        if self.steps:
            parts.append(f"steps={len(self.steps)}")
        if self.status != "completed":
            parts.append(f"status={self.status}")
        return f"<RealtimeReply {' '.join(parts)}>"
