"""The steps of answering a request that FakeProviderServer's handler and FakeAdapter share, without I/O.

The two fakes differ only in how they wait and send (a socket and real sleeps on the server, a
``requests.Response`` at once in the adapter); reading a request, parsing its body and shaping the
answer a script asks for happen here, once. Only stdlib: the server imports it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pepperpy.testing._routes import Route, find_route
from pepperpy.testing._script import Failure, Fault, FaultKind, RecordedRequest
from pepperpy.testing._wire import BadRequestError, Chat, Dialect, Stream

_STREAM_FAULTS = (FaultKind.CUT_STREAM, FaultKind.STREAM_ERROR)


def read_request(
    method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes, client_port: int
) -> tuple[RecordedRequest, Route, str]:
    """The request as recorded, its route, and the model it names (URL first, then the JSON body).

    ``target`` is a URL, or a path with its query as the request line carries it; ``headers`` are
    (name, value) pairs in any case.

    >>> recorded, route, model = read_request("POST", "/v1/chat/completions?x=1", [("X-A", "b")], b'{"model": "m"}', 0)
    >>> recorded.query, recorded.headers, route.endpoint, model
    ({'x': '1'}, {'x-a': 'b'}, 'chat', 'm')
    """
    url = urlsplit(target)
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    lowered = {name.lower(): value for name, value in headers}
    payload = decode_json(body)
    route = find_route(method, url.path, lowered)
    named = payload.get("model") if isinstance(payload, Mapping) else None
    recorded = RecordedRequest(method, url.path, query, lowered, payload, client_port, body)
    return recorded, route, route.model or (str(named) if named else "")


def decode_json(raw: bytes) -> Any:
    """The JSON body, or None when it is empty or not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def unknown_route_body(method: str, path: str) -> dict[str, Any]:
    """The 404 body of a path no dialect serves."""
    return {"error": {"message": f"Unknown route: {method} {path}", "type": "not_found_error", "code": 404}}


def parse_request(route: Route, request: RecordedRequest) -> tuple[Chat | None, Any]:
    """A chat request's ``Chat`` (and None), or None and the finished body of an embeddings request.

    Raises BadRequestError, to be sent as the dialect's native error, when the body is not acceptable.
    """
    payload = request.json
    if not isinstance(payload, Mapping):
        raise BadRequestError("We could not parse the JSON body of your request.")
    if route.endpoint != "chat":
        return None, route.dialect.render_embeddings(payload, route.model, route.endpoint == "batch_embed")
    chat = route.dialect.parse_chat(payload, route.model, route.stream)
    if route.stream and request.query.get("alt") != "sse":
        chat = dataclasses.replace(chat, sse=False)
    return chat, None


def failure_body(failure: Failure, dialect: Dialect, model: str, request_id: str) -> Any:
    """What a queued failure sends: its own body, or the dialect's native error body for its status."""
    if failure.body is not None:
        return failure.body
    return dialect.error_body(failure.status, failure.message, model, request_id)


def stream_frames(stream: Stream, dialect: Dialect, fault: Fault | None) -> list[bytes]:
    """The frames of a stream as sent: whole, or cut after ``fault.after`` content events by a stream fault
    (``STREAM_ERROR`` then adds the dialect's error event)."""
    cut = fault is not None and fault.kind in _STREAM_FAULTS
    content = stream.content[: fault.after] if fault is not None and cut else stream.content
    frames = [*stream.opening, *content, *(() if cut else stream.closing)]
    if fault is not None and fault.kind is FaultKind.STREAM_ERROR:
        frames.append(dialect.stream_error(fault.message))
    return frames
