"""``Upload``: one file to send (a path, bytes or a binary file object), checked without reading it, and read
for exactly the size it was checked at, as many times as the attempts need."""

from __future__ import annotations

import io
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from ..errors import ValidationError

__all__ = ["BLOCK_SIZE", "Upload", "UploadSource", "sniff_type"]

BLOCK_SIZE = 64 * 1024  # bytes per read when streaming a body

UploadSource = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
"""What callers may pass as a file: a path, the bytes themselves, or a binary file object."""

# Extensions whose MIME type must not depend on the machine's mime.types (providers read the format from it).
_TYPES = {
    ".mp3": "audio/mpeg", ".mpga": "audio/mpeg", ".mpeg": "audio/mpeg", ".m4a": "audio/mp4", ".mp4": "audio/mp4",
    ".wav": "audio/wav", ".webm": "audio/webm", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
    ".flac": "audio/flac", ".aac": "audio/aac", ".aiff": "audio/aiff", ".aif": "audio/aiff", ".pcm": "audio/pcm",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif",
    ".jsonl": "application/jsonl", ".json": "application/json", ".txt": "text/plain",
}
# Leading bytes of the formats providers take, for bytes or file objects without a name.
_MAGIC: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, ".png", "image/png"),
    (b"\xff\xd8\xff", 0, ".jpg", "image/jpeg"),
    (b"WEBP", 8, ".webp", "image/webp"),
    (b"GIF8", 0, ".gif", "image/gif"),
    (b"WAVE", 8, ".wav", "audio/wav"),
    (b"ID3", 0, ".mp3", "audio/mpeg"),
    (b"\xff\xfb", 0, ".mp3", "audio/mpeg"),
    (b"\xff\xf3", 0, ".mp3", "audio/mpeg"),
    (b"fLaC", 0, ".flac", "audio/flac"),
    (b"OggS", 0, ".ogg", "audio/ogg"),
    (b"\x1a\x45\xdf\xa3", 0, ".webm", "audio/webm"),
    (b"ftyp", 4, ".m4a", "audio/mp4"),
)


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """(extension, MIME type) of a file from its first bytes, for the formats providers accept.

    >>> sniff_type(b"\\x89PNG\\r\\n\\x1a\\n....")
    ('.png', 'image/png')
    """
    for magic, offset, extension, mime in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return extension, mime
    return None


def _type_of(name: str) -> str | None:
    suffix = os.path.splitext(name)[1].lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(name, strict=False)[0]


@dataclass(frozen=True, eq=False, repr=False)
class Upload:
    """One file to send: where its bytes come from, the file name and MIME type on the wire, and its size.

    Build it with ``Upload.of(value)``. ``open()`` gives a reader at the start of the content, as many
    times as needed (one per attempt).

    >>> Upload.of(b"RIFF\\x00\\x00\\x00\\x00WAVEfmt ", param="audio").name
    'audio.wav'
    """

    name: str
    mime_type: str
    size: int
    path: Path | None = None
    data: bytes | memoryview | None = None
    file: IO[bytes] | None = None
    start: int = 0  # where the content begins in ``file``

    @classmethod
    def of(cls, value: UploadSource, *, param: str = "file", name: str | None = None,
           mime_type: str | None = None, max_bytes: int | None = None, limit_name: str = "") -> Upload:
        """An Upload of a path, bytes or binary file object, checked without reading it.

        ValidationError (naming ``param``) for a missing or unreadable file, a text-mode file object, an empty
        file, or one larger than ``max_bytes`` (``limit_name`` says whose limit it is in the message).
        A file object that cannot seek is read into memory once, so a retry can send it again.
        """
        if isinstance(value, (str, os.PathLike)):
            upload = cls._of_path(Path(value), param, name, mime_type)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value) if isinstance(value, bytearray) else value
            upload = cls._named(name, mime_type, param, bytes(data[:16]), size=len(data), data=data)
        elif hasattr(value, "read"):
            upload = cls._of_file(value, param, name, mime_type, max_bytes)
        else:
            raise ValidationError(f"{param} must be a path, bytes or a binary file object, not "
                                  f"{type(value).__name__}", param=param, value=type(value).__name__)
        if upload.size == 0:
            raise ValidationError(f"{param} is empty ({upload.name}): nothing to send", param=param, value=upload.name)
        return upload.within(max_bytes, param=param, limit_name=limit_name)

    def within(self, max_bytes: int | None, *, param: str = "file", limit_name: str = "") -> Upload:
        """This upload, or ValidationError when it is over ``max_bytes`` (a fallback model's limit may be lower
        than the one the Upload was made under)."""
        if max_bytes is not None and self.size > max_bytes:
            whose = f" {limit_name}" if limit_name else ""
            raise ValidationError(
                f"{param} {self.name} is {_megabytes(self.size)}, over the{whose} upload limit of "
                f"{_megabytes(max_bytes)}; send a shorter or more compressed file", param=param, value=self.size)
        return self

    @classmethod
    def _of_path(cls, path: Path, param: str, name: str | None, mime_type: str | None) -> Upload:
        try:
            stat = path.stat()
        except OSError as exc:
            reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror or type(exc).__name__
            raise ValidationError(f"{param} {str(path)!r}: {reason}", param=param, value=str(path)) from None
        if not path.is_file():
            raise ValidationError(f"{param} {str(path)!r} is not a file", param=param, value=str(path))
        try:
            with path.open("rb") as handle:  # readable now, not only on the first attempt
                head = handle.read(16)
        except OSError as exc:
            raise ValidationError(f"{param} {str(path)!r} cannot be read: {exc.strerror or exc}", param=param,
                                  value=str(path)) from None
        return cls._named(name or path.name, mime_type, param, head, size=stat.st_size, path=path)

    @classmethod
    def _of_file(cls, handle: IO[bytes], param: str, name: str | None, mime_type: str | None,
                 max_bytes: int | None) -> Upload:
        if isinstance(cast(object, handle), io.TextIOBase):
            raise ValidationError(f"{param} is a text-mode file; open it with open(path, 'rb')", param=param,
                                  value=type(handle).__name__)
        own_name = getattr(handle, "name", None)
        name = name or (os.path.basename(own_name) if isinstance(own_name, str) else None)
        try:
            seekable = handle.seekable()
        except (AttributeError, ValueError, OSError):
            seekable = False
        if not seekable:  # a pipe or socket: kept in memory once, so a retry can send it again
            data = handle.read() if max_bytes is None else _read_at_most(handle, max_bytes + 1)
            if not isinstance(data, bytes):
                raise ValidationError(f"{param} must be opened in binary mode ('rb')", param=param)
            return cls._named(name, mime_type, param, data[:16], size=len(data), data=data)
        start = handle.tell()
        end = handle.seek(0, os.SEEK_END)
        handle.seek(start)
        head = handle.read(16)
        handle.seek(start)
        if not isinstance(head, bytes):
            raise ValidationError(f"{param} must be opened in binary mode ('rb')", param=param)
        return cls._named(name, mime_type, param, head, size=end - start, file=handle, start=start)

    @classmethod
    def _named(cls, name: str | None, mime_type: str | None, param: str, head: bytes, **where: Any) -> Upload:
        sniffed = sniff_type(head)
        if name is None or not os.path.splitext(name)[1]:  # providers tell the format by the extension
            name = (name or param) + (sniffed[0] if sniffed else "")
        mime = mime_type or _type_of(name) or (sniffed[1] if sniffed else None) or "application/octet-stream"
        return cls(name=name, mime_type=mime, **where)

    def open(self) -> io.BufferedIOBase | io.RawIOBase:
        """A reader at the start of the content, of exactly ``size`` bytes; close it when done (it never closes a
        caller's file). ValidationError when the file no longer has the size it was checked at (a recording
        still being written, a file cut short): its body would not match the Content-Length sent."""
        if self.path is not None:
            handle = self.path.open("rb")
            now = os.fstat(handle.fileno()).st_size
            if now != self.size:
                handle.close()
                raise self._changed(now)
            return _Borrowed(handle, self.size, self, owned=True)
        if self.file is not None:
            self.file.seek(self.start)
            return _Borrowed(self.file, self.size, self)
        return io.BytesIO(self.data or b"")

    def _changed(self, now: int | None = None) -> ValidationError:
        size = f"{self.size:,} bytes" + (f", now {now:,}" if now is not None else ", now fewer")
        return ValidationError(f"{self.name} changed after it was checked ({size}): is it still being written? "
                               f"Send it once it is complete", param="file", value=self.name)

    def read(self) -> bytes:
        """All the content at once, for formats that embed it (base64 in JSON): bounded by the caller's check."""
        if self.data is not None:
            return bytes(self.data)
        with self.open() as reader:
            return reader.read()

    def __repr__(self) -> str:
        return f"<Upload {self.name} {self.mime_type} {self.size} bytes>"


def _read_at_most(handle: IO[bytes], limit: int) -> bytes | Any:
    """Up to ``limit`` bytes of a stream: enough to tell it is over a limit without reading it all."""
    blocks: list[bytes] = []
    left = limit
    while left > 0:
        block: Any = handle.read(min(left, BLOCK_SIZE))
        if not isinstance(block, bytes):
            return block  # a text stream: the caller names the mistake
        if not block:
            break
        blocks.append(block)
        left -= len(block)
    return b"".join(blocks)


class _Borrowed(io.RawIOBase):
    """A file read for ``size`` bytes from where it is: never more (the Content-Length is sent first), and a
    ValidationError if it ends sooner (the server would wait for the rest). A caller's file object is left open
    when this closes; one opened here (``owned``) is closed with it.

    ``__len__`` and ``tell`` let requests size it as a raw body (``len() - tell()``): without them it would send
    it chunked, while the transport's Content-Length header says otherwise.
    """

    def __init__(self, file: IO[bytes], size: int, upload: Upload, *, owned: bool = False) -> None:
        super().__init__()
        self._file, self._left, self._size = file, size, size
        self._upload, self._owned = upload, owned

    def close(self) -> None:
        if self._owned and not self.closed:
            self._file.close()
        super().close()

    def __len__(self) -> int:
        return self._size

    def tell(self) -> int:
        return self._size - self._left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._left or not len(view):
            return 0
        data = self._file.read(min(len(view), self._left))
        if not data:
            raise self._upload._changed()
        view[:len(data)] = data
        self._left -= len(data)
        return len(data)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
