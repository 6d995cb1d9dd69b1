"""The values media calls hand out: Image and Images, Speech, Transcription (with its Segments) and Video; all
frozen dataclasses that show themselves in Jupyter and never print their bytes.

Every result speaks the language of ``Completion``: ``model``, ``provider``, ``usage``, ``cost``, ``raw``,
``request_id`` and ``cached`` (``Image`` is one picture of an ``Images`` result and has none of them); the bytes
of an Image, a Speech and a Video are ``data``. Their reprs are one style: ``Name(shape, field=value, ...)``.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..types import Usage, plural, result_repr, short_text
from ._formats import save as _save
from ._formats import write_whole

__all__ = ["Image", "Images", "Segment", "Speech", "Transcription", "Video"]


@dataclass(frozen=True, slots=True, repr=False)
class Image:
    """One generated image: ``data`` is always its bytes (downloaded when the provider answered with a URL).

    >>> image = client.generate_image("a red kite", model="gpt-image-2.6-flare").images[0]   # doctest: +SKIP
    >>> image.save("kite.png")                                                              # doctest: +SKIP
    """

    data: bytes
    mime_type: str = "image/png"
    url: str | None = None
    revised_prompt: str | None = None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the image to ``path`` (``.png``/``.jpg``... added when it has no extension); returns the path."""
        return _save(self.data, path, self.mime_type)

    def _repr_png_(self) -> bytes | None:
        return self.data if self.mime_type == "image/png" else None

    def _repr_jpeg_(self) -> bytes | None:
        return self.data if self.mime_type == "image/jpeg" else None

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.data).decode()
        alt = html.escape(self.revised_prompt or "generated image", quote=True)
        return f'<img src="data:{html.escape(self.mime_type)};base64,{encoded}" alt="{alt}"/>'

    def __repr__(self) -> str:
        return f"Image({plural(len(self.data), 'byte')}, mime_type={self.mime_type!r})"


@dataclass(frozen=True, slots=True, repr=False)
class Images:
    """The answer of ``generate_image``: ``images`` in order, with usage and cost. Iterable and indexable.
    ``size`` and ``quality`` are what was asked for (or what the provider says it made), when known.

    >>> result = client.generate_image("a red kite", model="gpt-image-2.6-flare", n=2)   # doctest: +SKIP
    >>> [image.save(f"kite-{i}.png") for i, image in enumerate(result)]                  # doctest: +SKIP
    """

    images: list[Image]
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    raw: Any = None
    cached: bool = False
    request_id: str | None = None
    size: str | None = None
    quality: str | None = None

    def __len__(self) -> int:
        return len(self.images)

    def __iter__(self) -> Iterator[Image]:
        return iter(self.images)

    def __getitem__(self, index: int) -> Image:
        return self.images[index]

    @property
    def size_bytes(self) -> int:
        return sum(len(image.data) for image in self.images)

    def save(self, path: str | os.PathLike[str]) -> list[Path]:
        """Write every image: to ``path`` when there is one, else ``<stem>-1<ext>``, ``<stem>-2<ext>``..."""
        if len(self.images) == 1:
            return [self.images[0].save(path)]
        target = Path(path)
        return [image.save(target.with_name(f"{target.stem}-{i}{target.suffix}"))
                for i, image in enumerate(self.images, 1)]

    def _repr_html_(self) -> str:
        cost = f" · ${self.cost:.6f}" if self.cost is not None else ""
        images = "".join(image._repr_html_() for image in self.images)
        return f"{images}<p><em>{html.escape(f'{self.provider}/{self.model}')} · " \
               f"{plural(len(self.images), 'image')}{cost}</em></p>"

    def __repr__(self) -> str:
        return result_repr("Images", f"{plural(len(self.images), 'image')} of {plural(self.size_bytes, 'byte')}",
                           self)


@dataclass(frozen=True, slots=True, repr=False)
class Speech:
    """The answer of ``synthesize`` (and of a finished ``synthesize_stream``, ``AudioStream.speech``): playable
    ``data`` bytes in ``format`` (mp3, wav...), with usage and cost; ``audio`` is the same bytes.
    ``characters`` is the length of the text spoken (what per-character prices bill).

    >>> client.synthesize("Hello!", model="tts-1", voice="alloy").save("hello.mp3")   # doctest: +SKIP
    """

    data: bytes
    mime_type: str
    format: str
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    voice: str | None = None
    cached: bool = False
    request_id: str | None = None
    raw: Any = None
    characters: int = 0

    @property
    def audio(self) -> bytes:
        """The audio bytes (``data``; the name it had first)."""
        return self.data

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the audio to ``path`` (the format's extension added when it has none); returns the path."""
        return _save(self.data, path, self.mime_type)

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.data).decode()
        return (f'<audio controls src="data:{html.escape(self.mime_type)};base64,{encoded}"></audio>'
                f"<p><em>{html.escape(f'{self.provider}/{self.model}')} · {self.format}</em></p>")

    def __repr__(self) -> str:
        return result_repr("Speech", f"{plural(len(self.data), 'byte')} of {self.format}", self,
                           f"voice={self.voice!r}")


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a transcript: ``start`` and ``end`` in seconds, and the speaker when diarized."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class Transcription:
    """The answer of ``transcribe``. ``str(t)`` is its text. ``duration`` is in seconds, when the provider
    says; ``segments`` are there when the provider gives them (``response_format="verbose_json"``);
    ``billed_seconds`` the seconds of audio the provider says it bills, when it bills by time.

    >>> client.transcribe("note.m4a", model="gpt-transcribe").text   # doctest: +SKIP
    """

    text: str
    model: str
    provider: str
    language: str | None = None
    duration: float | None = None
    segments: tuple[Segment, ...] = ()
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    raw: Any = field(default=None, repr=False)
    cached: bool = False
    request_id: str | None = None
    billed_seconds: float | None = None

    def __repr__(self) -> str:  # an hour of speech is a long text: its start, its length, the segment count
        return result_repr("Transcription", f"text={short_text(self.text)}", self, f"language={self.language!r}",
                           f"duration={self.duration!r}", f"segments={len(self.segments)}")

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        cost = f" · ${self.cost:.6f}" if self.cost is not None else ""
        length = f" · {self.duration:.1f} s" if self.duration is not None else ""
        return f"{self.text}\n\n*{self.provider}/{self.model}{length}{cost}*"


@dataclass(frozen=True, eq=False, repr=False)
class Video:
    """A generated video (``VideoJob.result()``): ``data`` (the file's bytes), ``mime_type``, ``save(path)``;
    ``seconds`` and ``size`` as asked for (or as the provider reports them); ``cost`` from the catalog's
    per-second price (None when the catalog or the duration is unknown); ``job_id`` the job that made it."""

    data: bytes
    mime_type: str
    model: str
    provider: str
    seconds: float | None = None
    size: str | None = None
    cost: float | None = None
    job_id: str = ""
    raw: Any = None
    usage: Usage = field(default_factory=Usage)
    request_id: str | None = None
    cached: bool = False

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the video to ``path`` (a new file, or replacing one); the Path written."""
        return write_whole(Path(path).expanduser(), (self.data,))  # whole or not at all, nothing left behind

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        length = f", {self.seconds:g} s" if self.seconds else ""
        return result_repr("Video", f"{plural(len(self.data), 'byte')} of {self.mime_type}{length}", self,
                           f"size={self.size!r}")
