"""In-memory HTTP answers for FakeAdapter: a ``requests.Response`` whose body is a list of frames.

The body hands out one frame per read, as a server flushes stream events, and can end like a dropped
connection (``http.client.IncompleteRead``, which urllib3 reports as a broken body).
"""

from __future__ import annotations

import http.client
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import urllib3
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from pepperpy.testing._play import Outcome
from pepperpy.testing._wire import reason


def response(adapter: BaseAdapter, request: PreparedRequest, outcome: Outcome) -> Response:
    """The ``requests.Response`` of ``outcome``, its frames read one by one (``wait`` and ``chunk_delay`` unslept)."""
    headers = CaseInsensitiveDict(outcome.headers)
    raw = urllib3.HTTPResponse(body=cast(Any, FrameBody(outcome.frames, outcome.end == "broken")),
                               headers=dict(headers), status=outcome.status, reason=reason(outcome.status),
                               preload_content=False, decode_content=True, request_method=request.method)
    answer = Response()
    answer.status_code = outcome.status
    answer.headers = headers
    answer.encoding = get_encoding_from_headers(headers)
    answer.raw = raw
    answer.reason = reason(outcome.status)
    answer.url = request.url or ""
    answer.request = request
    answer.connection = cast(Any, adapter)  # what HTTPAdapter sets; auth hooks resend through it
    return answer


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
