"""HTTP/1.1 messages for the event loop's client (``_aio_http``): the request head written, the answer's head
and body read, its body decoded, and the TLS context, as ``requests`` / urllib3 do them for the blocking calls.

Nothing here decides what a failure means: parse errors are ``ValueError``, a body that cannot be decompressed
is ``zlib.error``; ``_aio_http`` turns them into its ``HTTPError`` kinds.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import urllib.parse
import zlib
from collections.abc import Mapping

__all__ = ["HEAD_LIMIT", "authority", "basic_auth", "decode", "parse_head", "read_body", "request_head",
           "ssl_context"]

HEAD_LIMIT = 2 ** 20  # the longest answer head (or chunk-size line) read; urllib3 allows 64 KiB a header line
_NO_BODY = frozenset({204, 304})  # and every 1xx: answers that never have a body (RFC 9112, 6.3)


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


def request_head(method: str, target: str, host: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_head(raw: bytes) -> tuple[int, dict[str, str], bool]:
    """(status, headers with lower-case names and repeated ones joined by ``", "``, whether the connection
    may be kept); ValueError when it is not an HTTP answer."""
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/"):
        raise ValueError(f"status line {lines[0][:40]!r}")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    return status, headers, keep


async def read_body(reader: asyncio.StreamReader, status: int, headers: Mapping[str, str]) -> tuple[bytes, bool]:
    """The body, and whether its end was delimited (else it ran to the connection's end)."""
    if status in _NO_BODY or status < 200:
        return b"", True
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return b"".join(parts), True
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = headers.get("content-length")
    if length is not None:
        return await reader.readexactly(int(length)), True
    return await reader.read(), False


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
