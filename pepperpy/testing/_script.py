"""What a test queues on a FakeProviderServer or FakeAdapter, and what the fakes record.

Only stdlib: this module is imported by ``pepperpy.testing`` and must stay light.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

DEFAULT_HANG_SECONDS = 30.0
"""How long ``Fault.HANG`` holds a request before answering (stopping the server cuts it short)."""

DEFAULT_EMBEDDING_DIMENSIONS = 8
"""Vector length when a request does not ask for one."""

_WORD_PIECES = re.compile(r"^\s+|\S+\s*")


@dataclass(frozen=True)
class Reply:
    """A scripted chat answer; the next chat request of any dialect renders it natively.

    ``chunks`` sets the stream pieces (default: ``text`` split after each word, so
    ``"".join(chunks) == text``); when only ``chunks`` is given, ``text`` is their join.
    ``usage`` is ``(input_tokens, output_tokens)`` (default: word counts). ``finish`` uses a
    neutral vocabulary, ``"stop" | "length" | "tool_calls" | "content_filter"``, mapped to each
    dialect's own value (other strings pass through unchanged); the default is ``"tool_calls"``
    when there are tool calls, else ``"stop"``. ``delay`` waits before answering,
    ``chunk_delay`` between stream events. ``tool_calls`` holds mappings with ``name``,
    ``arguments`` (a dict) and optionally ``id``.

    >>> Reply("Hi there", usage=(3, 2)).chunks
    ('Hi ', 'there')
    >>> Reply(chunks=["Hel", "lo"]).text
    'Hello'
    """

    text: str = ""
    chunks: Sequence[str] | None = None
    usage: tuple[int, int] | None = None
    finish: str | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    tool_calls: Sequence[Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        if self.chunks is None:
            object.__setattr__(self, "chunks", split_words(self.text))
        else:
            object.__setattr__(self, "chunks", tuple(self.chunks))
            if not self.text:
                object.__setattr__(self, "text", "".join(self.chunks))
        if self.delay < 0 or self.chunk_delay < 0:
            raise ValueError("Reply.delay and Reply.chunk_delay must be >= 0 seconds")
        if self.tool_calls is not None:
            calls = tuple(dict(call) for call in self.tool_calls)
            for call in calls:
                if not isinstance(call.get("name"), str):
                    raise ValueError(f"each tool call needs a string 'name', got {call!r}")
                if not isinstance(call.get("arguments", {}), Mapping):
                    raise ValueError(f"tool call 'arguments' must be a mapping, got {call!r}")
            object.__setattr__(self, "tool_calls", calls)


class FaultKind(enum.Enum):
    """The transport misbehaviours a FakeProviderServer can play."""

    RESET = "reset"
    """Read the request, then drop the connection with a TCP reset and no response."""
    HANG = "hang"
    """Wait ``Fault.seconds`` before answering normally (to trip client read timeouts)."""
    CUT_STREAM = "cut_stream"
    """Send the first ``Fault.after`` content events, then close without the stream's end."""
    STREAM_ERROR = "stream_error"
    """Send the first ``Fault.after`` content events, then the dialect's mid-stream error event."""


@dataclass(frozen=True)
class Fault:
    """A queued transport fault, consumed by the next chat or embeddings request.

    Ready values: ``Fault.RESET``, ``Fault.HANG``, ``Fault.CUT_STREAM``, ``Fault.STREAM_ERROR``;
    builders: ``Fault.hang(seconds)``, ``Fault.cut_stream(after, clean=...)``,
    ``Fault.stream_error(after, message=...)``.

    ``CUT_STREAM`` drops the connection in the middle of the chunked body by default (clients
    see ``requests.exceptions.ChunkedEncodingError``); with ``clean=True`` the HTTP body ends
    properly but the dialect's terminator (``[DONE]``, ``message_stop``, final chunk...) is
    missing. A non-stream request meeting ``CUT_STREAM`` gets a truncated JSON body, and one
    meeting ``STREAM_ERROR`` gets the dialect's native HTTP 500 error.

    >>> Fault.hang(0.2).seconds
    0.2
    >>> Fault.CUT_STREAM.kind is FaultKind.CUT_STREAM
    True
    """

    kind: FaultKind
    seconds: float = 0.0
    after: int = 1
    clean: bool = False
    message: str | None = None

    RESET: ClassVar[Fault]
    HANG: ClassVar[Fault]
    CUT_STREAM: ClassVar[Fault]
    STREAM_ERROR: ClassVar[Fault]

    def __post_init__(self) -> None:
        if self.seconds < 0 or self.after < 0:
            raise ValueError("Fault.seconds and Fault.after must be >= 0")

    @classmethod
    def hang(cls, seconds: float = DEFAULT_HANG_SECONDS) -> Fault:
        """Hold the request ``seconds`` before answering (``Fault.hang(0.3)``)."""
        return cls(FaultKind.HANG, seconds=seconds)

    @classmethod
    def cut_stream(cls, after: int = 1, *, clean: bool = False) -> Fault:
        """Cut a stream after ``after`` content events (``Fault.cut_stream(2, clean=True)``)."""
        return cls(FaultKind.CUT_STREAM, after=after, clean=clean)

    @classmethod
    def stream_error(cls, after: int = 1, *, message: str | None = None) -> Fault:
        """Send the dialect's mid-stream error after ``after`` content events."""
        return cls(FaultKind.STREAM_ERROR, after=after, message=message)


Fault.RESET = Fault(FaultKind.RESET)
Fault.HANG = Fault(FaultKind.HANG, seconds=DEFAULT_HANG_SECONDS)
Fault.CUT_STREAM = Fault(FaultKind.CUT_STREAM)
Fault.STREAM_ERROR = Fault(FaultKind.STREAM_ERROR)


@dataclass(frozen=True)
class Failure:
    """A queued HTTP error answer (see ``FakeProviderServer.fail``)."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    message: str | None = None


@dataclass(frozen=True)
class Part:
    """One part of a ``multipart/form-data`` body: a form field, or a file when it has a ``filename``."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


_DISPOSITION = re.compile(r'\b(name|filename)="((?:[^"\\]|\\.)*)"')


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """The parts of a ``multipart/form-data`` body, in order ([] when ``content_type`` is not multipart).

    >>> body = b'--b\\r\\nContent-Disposition: form-data; name="model"\\r\\n\\r\\nwhisper-1\\r\\n--b--\\r\\n'
    >>> parse_multipart(body, "multipart/form-data; boundary=b")[0].text
    'whisper-1'
    """
    kind, _, rest = content_type.partition(";")
    match = re.search(r'boundary="?([^";]+)"?', rest)
    if kind.strip().lower() != "multipart/form-data" or match is None:
        return []
    mark = b"--" + match.group(1).encode()
    parts: list[Part] = []
    for chunk in body.split(mark)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.split(":", 1) for line in head.decode("utf-8", "replace").split("\r\n") if ":" in line)
        headers = {key.strip().lower(): value.strip() for key, value in headers.items()}
        names = {key: value.replace('\\"', '"') for key, value in
                 _DISPOSITION.findall(headers.get("content-disposition", ""))}
        parts.append(Part(names.get("name", ""), data.removesuffix(b"\r\n"), names.get("filename"),
                          headers.get("content-type")))
    return parts


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it.

    ``headers`` has lower-cased names; ``query`` keeps the last value of each parameter;
    ``json`` is the decoded body or ``None``; ``client_port`` tells connections apart. A multipart
    upload's fields are in ``form`` and all its parts, files included, in ``parts``. ``origin`` is the
    ``scheme://host:port`` the request was sent to.

    >>> RecordedRequest("POST", "/t", {}, {}, None, 5000, b"a=1&b=2").form
    {'a': '1', 'b': '2'}
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    client_port: int
    body: bytes = b""
    origin: str = ""  # scheme://host[:port] the request was sent to

    @property
    def form(self) -> dict[str, str]:
        """The form fields: a multipart body's text fields (the last of a repeated name), else the body
        decoded as ``application/x-www-form-urlencoded``."""
        parts = self.parts
        if parts:
            return {part.name: part.text for part in parts if part.filename is None}
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    @property
    def parts(self) -> list[Part]:
        """The parts of a ``multipart/form-data`` body, files included ([] for any other body)."""
        return parse_multipart(self.body, self.headers.get("content-type", ""))

    def files(self, name: str) -> list[Part]:
        """The file parts named ``name`` (``image[]`` repeats), in order."""
        return [part for part in self.parts if part.name == name and part.filename is not None]


def split_words(text: str) -> tuple[str, ...]:
    """Split ``text`` into stream pieces that keep their spaces.

    >>> split_words("echo: hi  there")
    ('echo: ', 'hi  ', 'there')
    """
    return tuple(_WORD_PIECES.findall(text))


def count_words(text: str) -> int:
    """The fake tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def embedding_vector(text: str, dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS) -> list[float]:
    """The deterministic vector the server returns for ``text`` (values in [-1, 1]).

    >>> embedding_vector("hi") == embedding_vector("hi") and len(embedding_vector("hi", 3)) == 3
    True
    """
    values: list[float] = []
    block = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{block}:{text}".encode()).digest()
        values.extend(round(byte / 127.5 - 1.0, 6) for byte in digest)
        block += 1
    return values[:dimensions]
