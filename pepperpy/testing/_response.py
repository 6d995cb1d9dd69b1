"""In-memory HTTP answers for FakeAdapter: a ``requests.Response`` whose body is a list of frames.

The body hands out one frame per read, as a server flushes stream events, and can end like a dropped
connection (``http.client.IncompleteRead``, which urllib3 reports as a broken body).
"""

from __future__ import annotations

import http.client
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, cast

import urllib3
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from pepperpy.testing._routes import Route
from pepperpy.testing._wire import dumps, reason


class Responder:
    """Builds the requests.Response of one request."""

    def __init__(self, adapter: BaseAdapter, request: PreparedRequest, route: Route, model: str,
                 request_id: str) -> None:
        self.adapter, self.request, self.route, self.model, self.request_id = adapter, request, route, model, request_id

    def error(self, status: int, message: str | None, headers: Mapping[str, str] | None = None) -> Response:
        return self.json(status, self.route.dialect.error_body(status, message, self.model, self.request_id), headers)

    def json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
        data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else dumps(body).encode()
        return self.respond(status, {"Content-Type": "application/json", **(headers or {})}, [data])

    def respond(self, status: int, headers: Mapping[str, str], frames: Sequence[bytes], *,
                broken: bool = False) -> Response:
        merged = CaseInsensitiveDict({"x-request-id": self.request_id, **headers})
        if self.route.dialect.name == "anthropic":
            merged.setdefault("request-id", self.request_id)
        raw = urllib3.HTTPResponse(body=cast(Any, FrameBody(frames, broken)), headers=dict(merged), status=status,
                                   reason=reason(status), preload_content=False, decode_content=True,
                                   request_method=self.request.method)
        response = Response()
        response.status_code = status
        response.headers = merged
        response.encoding = get_encoding_from_headers(merged)
        response.raw = raw
        response.reason = reason(status)
        response.url = self.request.url or ""
        response.request = self.request
        response.connection = cast(Any, self.adapter)  # what HTTPAdapter sets; auth hooks resend through it
        return response


class FrameBody:
    """A response body handing out one frame per read, then EOF, or a broken connection when ``broken``."""

    def __init__(self, frames: Sequence[bytes], broken: bool) -> None:
        self._frames = deque(frame for frame in frames if frame)
        self._broken = broken
        self.closed = False

    def read(self, amt: int | None = None) -> bytes:
        if not self._frames:
            if self._broken and not self.closed:
                self.closed = True
                raise http.client.IncompleteRead(b"", None)  # urllib3 reports it as a broken connection
            return b""
        if amt is None or amt < 0:
            data = b"".join(self._frames)
            self._frames.clear()
            if self._broken:
                self.closed = True
                raise http.client.IncompleteRead(data, None)
        else:
            frame = self._frames.popleft()
            data, rest = frame[:amt], frame[amt:]
            if rest:
                self._frames.appendleft(rest)
        return data

    read1 = read

    def close(self) -> None:
        self.closed = True


def body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes):
        return body
    return b"".join(part.encode() if isinstance(part, str) else bytes(part) for part in body)
