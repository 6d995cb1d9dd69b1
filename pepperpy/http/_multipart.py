"""``Multipart``: a ``multipart/form-data`` body whose files stream from their sources, with its exact length
known before the first byte, and a fresh reader per attempt."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator, Sequence
from typing import Any

from ._upload import BLOCK_SIZE, Upload

__all__ = ["Multipart"]


class Multipart:
    """A ``multipart/form-data`` body: text fields, then files streamed from their sources.

    Field names follow the providers' conventions as given (``image[]`` for a list, ``image`` for one
    file). ``len()`` is the exact body size; ``open()`` a fresh reader for one attempt.

    >>> body = Multipart([("model", "whisper-1")], [("file", Upload.of(b"ID3....", name="a.mp3"))], boundary="B")
    >>> reader = body.open(); data = reader.read(); reader.close()
    >>> len(data) == len(body), data.splitlines()[:4]
    (True, [b'--B', b'Content-Disposition: form-data; name="model"', b'', b'whisper-1'])
    """

    def __init__(self, fields: Sequence[tuple[str, str]] = (), files: Sequence[tuple[str, Upload]] = (), *,
                 boundary: str | None = None) -> None:
        self.fields = tuple((str(name), str(value)) for name, value in fields)
        self.files = tuple(files)
        self.boundary = boundary or secrets.token_hex(16)
        mark = self.boundary.encode()
        self._heads = [b"--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                       b"Content-Type: %s\r\n\r\n" % (mark, _quote(name), _quote(upload.name),
                                                      upload.mime_type.encode())
                       for name, upload in self.files]
        self._text = b"".join(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                              % (mark, _quote(name), value.encode()) for name, value in self.fields)
        self._tail = b"--%s--\r\n" % mark
        sent = sum(len(head) + upload.size + 2 for head, (_, upload) in zip(self._heads, self.files, strict=True))
        self._size = len(self._text) + sent + len(self._tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def upload_bytes(self) -> int:
        """The size of the files in the body (what an audit record reports instead of their content)."""
        return sum(upload.size for _, upload in self.files)

    def __len__(self) -> int:
        return self._size

    def open(self) -> _MultipartReader:
        """A reader of the whole body from its first byte (one per attempt: retries resend it all)."""
        return _MultipartReader(self)

    def segments(self) -> Iterator[bytes | Upload]:
        yield self._text
        for head, (_, upload) in zip(self._heads, self.files, strict=True):
            yield head
            yield upload
            yield b"\r\n"
        yield self._tail

    def __repr__(self) -> str:
        return f"<Multipart fields={[n for n, _ in self.fields]} files={[u.name for _, u in self.files]}>"


def _quote(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ").encode()


class _MultipartReader(io.RawIOBase):
    """Reads a Multipart's segments in order, opening each file only when its turn comes.

    It has ``__len__`` (requests sets Content-Length from it) and ``__iter__`` yields blocks, so requests
    treats it as a streamed body and urllib3 sends it block by block.
    """

    def __init__(self, body: Multipart) -> None:
        super().__init__()
        self._size = len(body)
        self._segments = body.segments()
        self._current: io.BufferedIOBase | io.RawIOBase | None = None
        self._pending = b""
        self._position = 0

    def __len__(self) -> int:
        return self._size

    def tell(self) -> int:
        # requests sizes a body as len() - tell(); io's tell() would raise (no seek) and make that 0
        return self._position

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._fill(memoryview(buffer).cast("B"))
        self._position += count
        return count

    def _fill(self, view: memoryview) -> int:
        while True:
            if self._pending:
                count = min(len(view), len(self._pending))
                view[:count] = self._pending[:count]
                self._pending = self._pending[count:]
                return count
            if self._current is not None:
                count = self._current.readinto(view)
                if count:
                    return int(count)
                self._current.close()
                self._current = None
            segment = next(self._segments, None)
            if segment is None:
                return 0
            if isinstance(segment, Upload):
                self._current = segment.open()
            else:
                self._pending = segment

    def __iter__(self) -> Iterator[bytes]:
        while True:
            block = self.read(BLOCK_SIZE)
            if not block:
                return
            yield block

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()
