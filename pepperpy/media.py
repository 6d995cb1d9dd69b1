"""The values media calls hand out: Image and Images, Speech, Transcription (with its Segments), and the two
streams, AudioStream and TranscriptionStream. All are frozen dataclasses except the streams.

They show themselves in Jupyter (an Image inline, a Speech as an audio player) and never print their bytes:
``repr`` says the kind and the size.

>>> Image(b"\\x89PNG...", "image/png")
<Image image/png 7 bytes>
"""

from __future__ import annotations

import base64
import html
import os
import secrets
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import StreamError
from .types import Usage, short_text

__all__ = ["EXTENSIONS", "AudioStream", "Image", "Images", "Segment", "Speech", "Transcription",
           "TranscriptionStream", "pcm_rate", "wav_from_pcm", "write_whole"]

EXTENSIONS = {
    "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
    "audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/ogg": ".ogg", "audio/opus": ".opus", "audio/aac": ".aac",
    "audio/flac": ".flac", "audio/pcm": ".pcm", "audio/mulaw": ".ulaw", "audio/L16": ".pcm",
}


def write_whole(path: str | os.PathLike[str], pieces: Iterable[bytes]) -> Path:
    """Write ``pieces`` to ``path`` whole or not at all: they go to a temporary file in the same folder, which
    is renamed over ``path`` only once the last piece is written. If writing fails (a full disk) or the pieces
    stop with an error (a stream cut short, Ctrl-C), ``path`` is left as it was and the temporary file is
    removed. Returns ``path`` as a Path.

    >>> write_whole("answer.wav", audio_stream)   # doctest: +SKIP
    PosixPath('answer.wav')
    """
    target = Path(path)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")  # unique: threads may save alike
    try:
        try:
            out = partial.open("xb")  # the usual permissions, as writing path itself would give
        except OSError as exc:  # a missing folder, no permission: said of the path the caller gave
            raise type(exc)(exc.errno, exc.strerror, str(target)) from None
        with out:
            for piece in pieces:
                out.write(piece)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _with_extension(path: str | os.PathLike[str], mime_type: str) -> Path:
    """``path``, its extension added from the MIME type when it has none."""
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(EXTENSIONS.get(mime_type.split(";")[0], ".bin"))
    return target


def _save(data: bytes, path: str | os.PathLike[str], mime_type: str) -> Path:
    """Write ``data`` to ``path`` (its extension added from the MIME type when it has none), whole or not at
    all (``write_whole``)."""
    return write_whole(_with_extension(path, mime_type), (data,))


def _size(count: int) -> str:
    return f"{count:,} bytes"


@dataclass(frozen=True, slots=True, repr=False)
class Image:
    """One generated image: ``data`` is always its bytes (downloaded when the provider answered with a URL).

    >>> image = client.generate_image("a red kite", model="gpt-image-1").images[0]   # doctest: +SKIP
    >>> image.save("kite.png")                                                        # doctest: +SKIP
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
        return f"<Image {self.mime_type} {_size(len(self.data))}>"


@dataclass(frozen=True, slots=True, repr=False)
class Images:
    """The answer of ``generate_image``: ``images`` in order, with usage and cost. Iterable and indexable.

    >>> result = client.generate_image("a red kite", model="gpt-image-1", n=2)   # doctest: +SKIP
    >>> [image.save(f"kite-{i}.png") for i, image in enumerate(result)]          # doctest: +SKIP
    """

    images: list[Image]
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    raw: Any = None
    cached: bool = False
    request_id: str | None = None

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
        return f"{images}<p><em>{html.escape(f'{self.provider}/{self.model}')} · {len(self.images)} image(s){cost}" \
               f"</em></p>"

    def __repr__(self) -> str:
        return f"<Images {self.provider}/{self.model} {len(self.images)} image(s) {_size(self.size_bytes)}>"


@dataclass(frozen=True, slots=True, repr=False)
class Speech:
    """The answer of ``synthesize``: playable ``audio`` bytes in ``format`` (mp3, wav...), with cost.

    >>> client.synthesize("Hello!", model="tts-1", voice="alloy").save("hello.mp3")   # doctest: +SKIP
    """

    audio: bytes
    mime_type: str
    format: str
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    voice: str | None = None
    cached: bool = False
    request_id: str | None = None

    @property
    def size_bytes(self) -> int:
        return len(self.audio)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the audio to ``path`` (the format's extension added when it has none); returns the path."""
        return _save(self.audio, path, self.mime_type)

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.audio).decode()
        return (f'<audio controls src="data:{html.escape(self.mime_type)};base64,{encoded}"></audio>'
                f"<p><em>{html.escape(f'{self.provider}/{self.model}')} · {self.format}</em></p>")

    def __repr__(self) -> str:
        return f"<Speech {self.provider}/{self.model} {self.format} {_size(len(self.audio))}>"


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a transcript: ``start`` and ``end`` in seconds, and the speaker when diarized."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class Transcription:
    """The answer of ``transcribe``. ``str(t)`` is its text. ``duration`` is in seconds, when the provider
    says; ``segments`` are there when the provider gives them (``response_format="verbose_json"``).

    >>> client.transcribe("note.m4a", model="whisper-1").text   # doctest: +SKIP
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

    def __repr__(self) -> str:  # an hour of speech is a long text: its start, its length, the segment count
        return (f"Transcription(text={short_text(self.text)}, model={self.model!r}, provider={self.provider!r}, "
                f"language={self.language!r}, duration={self.duration!r}, segments={len(self.segments)})")

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        cost = f" · ${self.cost:.6f}" if self.cost is not None else ""
        length = f" · {self.duration:.1f} s" if self.duration is not None else ""
        return f"{self.text}\n\n*{self.provider}/{self.model}{length}{cost}*"


def wav_from_pcm(pcm: bytes, rate: int = 24000, channels: int = 1, width: int = 2, *,
                 streaming: bool = False) -> bytes:
    """A WAV file of signed little-endian PCM: a 44-byte RIFF header, then the samples. With ``streaming``
    only the header, its sizes set to the maximum as streamed WAV does (players read until the end).

    >>> wav = wav_from_pcm(b"\\x00\\x00" * 10)
    >>> wav[:4], wav[8:12], len(wav)
    (b'RIFF', b'WAVE', 64)
    """
    size = 0xFFFFFFFF - 36 if streaming else len(pcm)
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + size, b"WAVE", b"fmt ", 16, 1, channels, rate,
                         rate * channels * width, channels * width, width * 8, b"data", size)
    return header if streaming else header + pcm


def pcm_rate(mime_type: str, default: int = 24000) -> int:
    """The sample rate in a PCM MIME type such as ``audio/L16;codec=pcm;rate=24000``."""
    for item in mime_type.split(";"):
        key, _, value = item.strip().partition("=")
        if key.lower() == "rate" and value.isdigit():
            return int(value)
    return default


class _ClosingIterator:
    """What both streams share: a context manager over an iterator, closing the HTTP response when left."""

    def __init__(self, close: Callable[[], None] | None, model: str, provider: str) -> None:
        self.model = model
        self.provider = provider
        self._close = close
        self._closed = False
        self._done = False

    def close(self) -> None:
        """Stop reading and release the HTTP connection. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._close is not None:
            self._close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to release
            pass


class AudioStream(_ClosingIterator, Iterator[bytes]):
    """``synthesize_stream``: the audio bytes as they arrive, in ``format``. A context manager: leaving the
    ``with`` block early (or ``close()``) closes the HTTP response, so the connection is not left half-read.

    >>> with client.synthesize_stream("Hello!", model="tts-1", voice="alloy") as audio:   # doctest: +SKIP
    ...     for piece in audio:
    ...         player.write(piece)
    """

    def __init__(self, pieces: Iterator[bytes], *, model: str, provider: str, format: str, mime_type: str,
                 close: Callable[[], None] | None = None,
                 on_end: Callable[[int, bool, BaseException | None], None] | None = None) -> None:
        super().__init__(close, model, provider)
        self.format = format
        self.mime_type = mime_type
        self.bytes_received = 0
        self._pieces = pieces
        self._on_end = on_end

    def __iter__(self) -> AudioStream:
        return self

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            piece = next(self._pieces)
        except StopIteration:
            self._done = True
            self._end(True, None)
            self.close()
            raise
        except BaseException as exc:
            self._end(False, exc)
            self.close()
            raise
        self.bytes_received += len(piece)
        return piece

    def _end(self, finished: bool, error: BaseException | None) -> None:
        """Tell ``on_end`` once: (bytes received, whether the stream finished, the error that ended it)."""
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(self.bytes_received, finished, error)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Read the rest of the stream into ``path`` as it arrives (never all in memory); returns the path.
        The file appears only once the stream has ended: a stream cut short raises and leaves no file."""
        return write_whole(_with_extension(path, self.mime_type), self)

    def close(self) -> None:
        if not self._closed and not self._done:
            self._end(False, None)  # left early
        super().close()
        close_pieces = getattr(self._pieces, "close", None)
        if close_pieces is not None:
            close_pieces()

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "done" if self._done else ("closed" if self._closed else "open")
        return f"<AudioStream {self.provider}/{self.model} {self.format} {state}>"


class TranscriptionStream(_ClosingIterator, Iterator[str]):
    """``transcribe_stream``: the transcript's text pieces as the provider sends them; ``.transcription`` is
    the whole Transcription once the stream has ended. A context manager, like the chat ``Stream``.

    >>> with client.transcribe_stream("note.m4a", model="gpt-4o-mini-transcribe") as pieces:   # doctest: +SKIP
    ...     for text in pieces:
    ...         print(text, end="")
    >>> pieces.transcription.usage                                                           # doctest: +SKIP
    """

    def __init__(self, events: Iterator[str | Transcription], *, model: str, provider: str,
                 close: Callable[[], None] | None = None,
                 on_end: Callable[[Transcription | None, BaseException | None], None] | None = None) -> None:
        super().__init__(close, model, provider)
        self._events = events
        self._parts: list[str] = []
        self._transcription: Transcription | None = None
        self._on_end = on_end

    def __iter__(self) -> TranscriptionStream:
        return self

    def __next__(self) -> str:
        while not self._closed:
            try:
                event = next(self._events)
            except StopIteration:
                self._finish()
                raise
            except BaseException as exc:
                self._end(None, exc)
                self.close()
                raise
            if isinstance(event, Transcription):
                self._transcription = event
                received = "".join(self._parts)
                rest = event.text[len(received):] if event.text.startswith(received) else ""
                if not rest:
                    continue
                event = rest  # text that came only with the end (Gemini's last event): a last piece
            self._parts.append(event)
            return event
        raise StopIteration

    def _finish(self) -> None:
        if self._transcription is None:  # no final event: the pieces are the whole text
            self._transcription = Transcription("".join(self._parts), self.model, self.provider)
        self._done = True
        self._end(self._transcription, None)
        self.close()

    def _end(self, result: Transcription | None, error: BaseException | None) -> None:
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(result, error)

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self._parts)

    @property
    def transcription(self) -> Transcription:
        """The whole Transcription; reads the rest of the stream first if needed."""
        if self._transcription is None or not self._done:
            if self._closed:
                raise StreamError("the transcription stream was closed before it finished", provider=self.provider,
                                  model=self.model)
            for _ in self:
                pass
        assert self._transcription is not None
        return self._transcription

    def close(self) -> None:
        if not self._closed and not self._done:
            self._end(None, None)
        super().close()
        close_events = getattr(self._events, "close", None)
        if close_events is not None:
            close_events()

    def __enter__(self) -> TranscriptionStream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "done" if self._done else ("closed" if self._closed else "open")
        return f"<TranscriptionStream {self.provider}/{self.model} {state}>"
