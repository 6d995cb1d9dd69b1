"""The two media streams: AudioStream (``synthesize_stream``) and TranscriptionStream (``transcribe_stream``),
context managers that close their HTTP response when left, early or not. Each ends with its whole result, as a
chat ``Stream`` ends with ``.completion``: ``AudioStream.speech``, ``TranscriptionStream.transcription``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from ..errors import StreamError
from ._formats import with_extension, write_whole
from ._values import Speech, Transcription

__all__ = ["AudioStream", "TranscriptionStream"]


_S = TypeVar("_S", bound="_ClosingIterator")


class _ClosingIterator:
    """What both streams share: a context manager over ``source`` (an iterator of the response's events),
    closing the HTTP response and the source when left; ``_left_early`` tells the subclass's ``on_end``."""

    def __init__(self, source: Iterator[object], close: Callable[[], None] | None, model: str,
                 provider: str) -> None:
        self.model = model
        self.provider = provider
        self._source = source
        self._close = close
        self._closed = False
        self._done = False

    def close(self) -> None:
        """Stop reading and release the HTTP connection. Safe to call twice."""
        if self._closed:
            return
        if not self._done:
            self._left_early()
        self._closed = True
        if self._close is not None:
            self._close()
        close_source = getattr(self._source, "close", None)
        if close_source is not None:
            close_source()

    def _left_early(self) -> None:
        """Closed before the end: tell ``on_end`` so (the audit record says "closed")."""

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def _state(self) -> str:
        return "done" if self._done else ("closed" if self._closed else "open")

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to release
            pass


class AudioStream(_ClosingIterator, Iterator[bytes]):
    """``synthesize_stream``: the audio bytes as they arrive, in ``format``; ``.speech`` is the whole ``Speech``
    (its bytes, usage and cost) once the stream has ended. A context manager: leaving the ``with`` block early
    (or ``close()``) closes the HTTP response, so the connection is not left half-read.

    >>> with client.synthesize_stream("Hello!", model="tts-1", voice="alloy") as audio:   # doctest: +SKIP
    ...     for piece in audio:
    ...         player.write(piece)
    >>> audio.speech.cost                                                                 # doctest: +SKIP
    """

    def __init__(self, pieces: Iterator[bytes], *, model: str, provider: str, format: str, mime_type: str,
                 close: Callable[[], None] | None = None,
                 on_end: Callable[[bytes, bool, BaseException | None], Speech | None] | None = None) -> None:
        super().__init__(pieces, close, model, provider)
        self.format = format
        self.mime_type = mime_type
        self.bytes_received = 0
        self._pieces = pieces
        self._received: list[bytes] = []
        self._speech: Speech | None = None
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
        self._received.append(piece)
        return piece

    def _end(self, finished: bool, error: BaseException | None) -> None:
        """Tell ``on_end`` once: (the bytes received, whether the stream finished, the error that ended it); a
        finished stream gets its Speech back, priced."""
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            self._speech = on_end(b"".join(self._received), finished, error)

    @property
    def speech(self) -> Speech:
        """The whole Speech (bytes, usage, cost); reads the rest of the stream first if needed."""
        if not self._done:
            if self._closed:
                raise StreamError("the audio stream was closed before it finished", provider=self.provider,
                                  model=self.model)
            for _ in self:
                pass
        if self._speech is None:  # no pipeline behind this stream (built by hand): the bytes as they came
            self._speech = Speech(b"".join(self._received), self.mime_type, self.format, self.model, self.provider)
        return self._speech

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Read the rest of the stream into ``path`` as it arrives; returns the path. The file appears only once
        the stream has ended: a stream cut short raises and leaves no file."""
        return write_whole(with_extension(path, self.mime_type), self)

    def _left_early(self) -> None:
        self._end(False, None)

    def __repr__(self) -> str:
        return f"<AudioStream {self.provider}/{self.model} {self.format} {self._state}>"


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
                 on_end: Callable[[Transcription | None, BaseException | None], Transcription | None] | None = None
                 ) -> None:
        super().__init__(events, close, model, provider)
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
        """Tell ``on_end`` once; the Transcription it gives back (priced) is the one ``transcription`` returns."""
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            booked = on_end(result, error)
            if booked is not None and result is not None:
                self._transcription = booked

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

    def _left_early(self) -> None:
        self._end(None, None)

    def __repr__(self) -> str:
        return f"<TranscriptionStream {self.provider}/{self.model} {self._state}>"
