"""HTTP/1.1 messages for the event loop's client, framed by h11: the request written, the answer read, its body
decoded, and the TLS context, as ``requests`` / urllib3 do them for the blocking calls.

h11 (python-hyper's sans-IO HTTP/1.1, the parser under httpcore and uvicorn) turns the request into bytes and
the answer's bytes into events; it refuses what HTTP/1.1 does not allow (a request target with a space or a
line break, a status that is not three digits, a header line without a colon, a Content-Length that is not
digits, a Transfer-Encoding other than chunked, a chunk size that is not hex). Nothing here reads a socket:
``_async_connection`` feeds the bytes and says what a failure means.

One rule is ours, as http.client has it: an answer's head has fewer than ``MAX_HEADERS`` header lines. It is
checked on the bytes before h11 sees them (``HeadLines``), so a head of 200,000 lines costs a byte count, not
200,000 parsed lines on the event loop.
"""

from __future__ import annotations

import base64
import re
import ssl
import urllib.parse
import zlib

import h11

__all__ = ["HEAD_LIMIT", "KEPT_LENGTHS", "MAX_HEADERS", "Head", "HeadLines", "authority", "basic_auth", "decode",
           "describe", "header_dict", "request_bytes", "ssl_context"]

HEAD_LIMIT = 2 ** 20  # bytes h11 may hold of an event not yet complete (the answer's head, a chunk-size line)
MAX_HEADERS = 100  # lines after the status line, the blank one included: http.client's count ("got more than 100
# headers"), so at most 99 header lines
_HEAD_END = re.compile(rb"\n\r?\n")  # where h11 ends a head (a bare LF is allowed as a line end)


def authority(host: str, port: int | None) -> str:
    """The ``Host`` header's value: an IPv6 address in brackets (``[::1]:8080``), as in a URL."""
    name = f"[{host}]" if ":" in host else host
    return name if port is None else f"{name}:{port}"


def basic_auth(parts: urllib.parse.SplitResult) -> str | None:
    """The ``Authorization`` header of a user name or password in the base URL (None without one): requests
    sends them as HTTP basic auth, replacing any Authorization header, and so does the event loop's client."""
    user, password = urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or "")
    if not user and not password:
        return None
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("latin-1")).decode("ascii")


FRAMING = frozenset({b"host", b"content-length", b"transfer-encoding", b"connection", b"expect", b"upgrade"})
"""The request headers h11 reads (to frame the message, keep the connection, wait for 100 Continue or switch
protocols): always in the ``h11.Request`` itself. h11 only checks and writes the others."""


class Head:
    """What every request of one method, target and set of headers sends but its body and Content-Length, made
    once (``AsyncSide`` keeps them): the target, the headers h11 reads (``framing``: Host, and any of
    ``FRAMING``), and the other headers as the lines h11 wrote for them when it checked them (``lines``, the blank
    line that ends a head included). Each request is still an ``h11.Request`` (its target, Host and
    Content-Length checked, its framing h11's); its head is h11's with ``lines`` in place of its blank line.
    Checking and writing four constant headers per request was a tenth of h11's cost per call.

    The ``h11.Request`` of each body length is kept too (``requests``, up to ``KEPT_LENGTHS`` of them): an h11
    event is immutable, and h11 checked it when it was made (its method, target, Host and Content-Length), so
    the same request sent again (a retry, a repeated prompt) costs h11's state machine and writer, not a check
    of what it checked already. A request h11 refuses is never kept: it is refused every time."""

    __slots__ = ("framing", "lines", "method", "requests", "target", "url")

    def __init__(self, method: bytes, target: bytes, framing: list[tuple[bytes, bytes]], lines: bytes,
                 url: str) -> None:
        self.method, self.target, self.framing, self.lines, self.url = method, target, framing, lines, url
        self.requests: dict[int | None, h11.Request] = {}  # by body length (None: no body)

    @classmethod
    def of(cls, method: bytes, target: bytes, host: bytes, headers: list[tuple[bytes, bytes]], url: str) -> Head:
        """The head of ``headers`` (all but Host and Content-Length); h11's LocalProtocolError when the method,
        the target or a header is not allowed in HTTP/1.1 (the request cannot be sent at all)."""
        framing = [(b"host", host), *(pair for pair in headers if pair[0].lower() in FRAMING)]
        others = [pair for pair in headers if pair[0].lower() not in FRAMING]
        # checked and written by h11 as a request of their own (the method, target and framing headers are
        # checked with every request): the lines after its Host line
        probe = h11.Connection(h11.CLIENT).send(h11.Request(method=b"GET", target=b"/",
                                                            headers=[(b"host", b"h"), *others]))
        return cls(method, target, framing, probe[len(b"GET / HTTP/1.1\r\nhost: h\r\n"):], url)

    def request(self, length: int | None) -> h11.Request:
        """The ``h11.Request`` of a body of ``length`` bytes (None: no body), made and checked by h11 the first
        time; h11's LocalProtocolError when it cannot be sent."""
        found = self.requests.get(length)
        if found is None:
            framing = self.framing if length is None else [*self.framing, (b"content-length", b"%d" % length)]
            found = h11.Request(method=self.method, target=self.target, headers=framing)
            if len(self.requests) >= KEPT_LENGTHS:  # bodies of ever new lengths must not grow this for ever
                self.requests.clear()
            self.requests[length] = found
        return found


KEPT_LENGTHS = 64  # body lengths a Head keeps the h11.Request of


def request_bytes(connection: h11.Connection, head: Head, body: bytes | None) -> tuple[bytes, bytes]:
    """(head, body) as h11 frames them, with ``head.lines``; h11's LocalProtocolError when the request cannot
    be sent (nothing was written)."""
    written = connection.send(head.request(None if body is None else len(body)))
    if len(head.lines) > 2:  # more than the blank line
        written = written[:-2] + head.lines
    data = connection.send(h11.Data(data=body)) if body else b""
    connection.send(_END)
    return written, data


_END = h11.EndOfMessage()  # immutable: one for every request (making one validates its empty trailers)


class HeadLines:
    """Counts the lines and bytes of an answer's head as they arrive, before h11 parses them."""

    __slots__ = ("lines", "size", "tail")

    def __init__(self) -> None:
        self.lines = self.size = 0
        self.tail = b""  # the last bytes seen: a head's end may straddle two reads

    def refusal(self, data: bytes) -> str | None:
        """Count ``data`` (bytes of a head not yet complete, up to its end): why the head is refused (too many
        header lines, or over ``HEAD_LIMIT`` bytes), or None."""
        window = self.tail + data
        end = _HEAD_END.search(window)
        stop = len(window) if end is None else end.start() + 1
        if stop > len(self.tail):
            self.lines += window.count(b"\n", len(self.tail), stop)
            self.size += stop - len(self.tail)
        self.tail = window[-3:]
        if self.lines > MAX_HEADERS:  # the status line, then at most MAX_HEADERS - 1 header lines
            return f"got more than {MAX_HEADERS} headers"
        if self.size > HEAD_LIMIT:
            return f"a head over {HEAD_LIMIT // 1024} KiB"
        return None


def header_dict(headers: h11._headers.Headers) -> dict[str, str]:
    """An answer's headers by lower-case name, repeated ones joined with ``", "``."""
    pairs = headers.raw_items()  # a list at once (iterating the Sequence goes through __getitem__ per item)
    found = {name.lower().decode("latin-1"): value.decode("latin-1") for name, value in pairs}
    if len(found) < len(pairs):  # a name repeated (Set-Cookie, Vary...): its values joined, in order
        found = {}
        for name, value in pairs:
            key, text = name.lower().decode("latin-1"), value.decode("latin-1")
            found[key] = f"{found[key]}, {text}" if key in found else text
    return found


def describe(exc: h11.ProtocolError, first: bytes) -> str:
    """What h11 found wrong with an answer, in plain words (``first``: the answer's first bytes, its status
    line), as the blocking road words urllib3's findings (``_translate``)."""
    text = str(exc)
    if text.startswith("illegal status line") or text.startswith("no response line"):
        line = first.split(b"\n", 1)[0].strip().decode("latin-1")
        return f"status line {line[:40]!r}"
    if text == "Receive buffer too long":
        return f"a head or chunk-size line over {HEAD_LIMIT // 1024} KiB"  # a chunk-size line, then
    return re.sub(r"bytearray\((b'.*?')\)|(b'.*?')", lambda m: (m.group(1) or m.group(2))[1:], text)[:200]


def decode(content: bytes, encoding: str) -> bytes:
    """``content`` without its ``Content-Encoding`` (gzip or deflate: what the client asks for); zlib.error when
    it is not what it says."""
    encoding = encoding.lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(content)
    if encoding == "deflate":  # zlib-wrapped as the RFC says, or raw deflate as some servers send it
        try:
            return zlib.decompress(content)
        except zlib.error:
            return zlib.decompress(content, -zlib.MAX_WBITS)
    return content


def ssl_context(verify: bool | str) -> ssl.SSLContext:
    """The TLS settings ``requests`` would use with ``verify``: a CA bundle file or a folder of certificates
    (``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``), False for none, True for requests' own bundle (certifi's)."""
    import os

    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    from requests.utils import DEFAULT_CA_BUNDLE_PATH

    return ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH)
