"""Media files on disk: the extension of each MIME type, writes that land whole or not at all, and a WAV header
for raw PCM (Gemini's speech).
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Iterable
from pathlib import Path

__all__ = ["EXTENSIONS", "pcm_rate", "save", "wav_from_pcm", "with_extension", "write_whole"]

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


def with_extension(path: str | os.PathLike[str], mime_type: str) -> Path:
    """``path``, its extension added from the MIME type when it has none."""
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(EXTENSIONS.get(mime_type.split(";")[0], ".bin"))
    return target


def save(data: bytes, path: str | os.PathLike[str], mime_type: str) -> Path:
    """Write ``data`` to ``path`` (its extension added from the MIME type when it has none), whole or not at
    all (``write_whole``)."""
    return write_whole(with_extension(path, mime_type), (data,))


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
