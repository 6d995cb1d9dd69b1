"""How FakeProviderServer and FakeAdapter answer a request, decided once, without I/O.

``play`` turns a recorded request and what its fake has queued into an ``Outcome``: a small
description of what to send (a JSON answer, a stream of frames, a body cut short, a connection
reset, all possibly late). The two fakes only render it in their own medium: the server's request
handler writes it to a socket and honours waits by waiting; FakeAdapter builds a ``requests.Response``
at once, never sleeps, and turns a hang that reaches the read timeout into ``ReadTimeout``.
Only stdlib: the server imports it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlsplit

from pepperpy.testing._jobs import FakeItem, FakeJobs, JobContext
from pepperpy.testing._jobs_play import play_job
from pepperpy.testing._listing import ListingModel, render_listing, render_show
from pepperpy.testing._media import MediaAnswer, gemini_media, media_kind, openai_media
from pepperpy.testing._queue import Script
from pepperpy.testing._routes import Route, find_route
from pepperpy.testing._script import Failure, Fault, FaultKind, RecordedRequest, Reply
from pepperpy.testing._wire import BadRequestError, Chat, Dialect, Stream, dumps, resolve_answer

_STREAM_FAULTS = (FaultKind.CUT_STREAM, FaultKind.STREAM_ERROR)

End = Literal["whole", "closed", "broken"]


@dataclass(frozen=True)
class Outcome:
    """What to send for one request.

    ``frames`` are one JSON body, or one event each when ``stream`` (chunked, flushed one by one,
    ``chunk_delay`` seconds apart on the server). ``length`` is the Content-Length of a body: the whole
    body's, even when a cut sends less. ``end`` is ``"whole"``; ``"closed"``, the body ends properly but
    the connection closes after it (announced by ``Connection: close``); or ``"broken"``, the connection
    drops before the body's end. ``reset`` sends nothing and resets the connection. ``wait`` is how long
    to hold the answer: a Reply's ``delay``, which FakeAdapter ignores, or a ``Fault.hang`` (``hang``),
    which FakeAdapter turns into a read timeout when it reaches the request's.

    >>> Outcome(reset=True).status, Outcome(wait=0.2, hang=True).wait
    (200, 0.2)
    """

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    frames: tuple[bytes, ...] = ()
    stream: bool = False
    length: int = 0
    end: End = "whole"
    reset: bool = False
    wait: float = 0.0
    hang: bool = False
    chunk_delay: float = 0.0


class Fake(Protocol):
    """What ``play`` needs of a fake: its model listing (and its page size), its token endpoint, its script and
    its jobs."""

    models: list[ListingModel]
    page_size: int | None
    jobs: FakeJobs

    def _token(self, form: Mapping[str, str], serial: int) -> tuple[int, Any]: ...

    def _take(self, kind: Literal["chat", "embed", "job", "item"]) -> Script | None: ...

    def _store_file(self, name: str, data: bytes) -> None: ...

    def _file(self, name: str) -> bytes | None: ...


def play(fake: Fake, route: Route, request: RecordedRequest, model: str, serial: int) -> Outcome:
    """The Outcome of request number ``serial``: its endpoint's own answer, or the next script played.

    The script is taken only once the request body is known to be acceptable (a bad one gets the
    dialect's native error and leaves the queue alone); a Reply waits for a chat request.
    """
    request_id = f"req_{serial}"
    if route.endpoint == "unknown":
        return json_outcome(route, request_id, 404, unknown_route_body(request.method, request.path))
    if route.endpoint == "token":
        return json_outcome(route, request_id, *fake._token(request.form, serial))
    if route.endpoint == "models":
        return json_outcome(route, request_id, *render_listing(route.dialect.name, list(fake.models), request.query,
                                                               fake.page_size, int(time.time())))
    if route.endpoint == "show":
        return json_outcome(route, request_id, *render_show(list(fake.models), request.json))
    if route.endpoint == "job":
        return _job(fake, route, request, model, serial)
    if route.endpoint in ("count", "apply_template", "tokenize"):  # answered from the body, the queue untouched
        try:
            if not isinstance(request.json, Mapping):
                raise BadRequestError("We could not parse the JSON body of your request.")
            return json_outcome(route, request_id, 200, route.dialect.render_count(route.endpoint, request.json))
        except BadRequestError as exc:
            return json_outcome(route, request_id, exc.status,
                                route.dialect.error_body(exc.status, exc.message, model, request_id))
    if route.endpoint == "file":
        data = fake._file(route.model)
        if data is None:
            return json_outcome(route, request_id, 404, unknown_route_body(request.method, request.path))
        return Outcome(200, _headers(route, request_id, {"Content-Type": "image/png"}), (data,), length=len(data))
    kind = media_kind(route.endpoint, request.json)
    if kind is not None:
        return _media(fake, route, request, model, serial, kind)
    try:
        chat, body = parse_request(route, request)
    except BadRequestError as exc:
        return json_outcome(route, request_id, exc.status,
                            route.dialect.error_body(exc.status, exc.message, model, request_id))
    script = fake._take("chat" if chat is not None else "embed")
    if isinstance(script, Failure):
        body = failure_body(script, route.dialect, model, request_id)
        return json_outcome(route, request_id, script.status, body, script.headers)
    if isinstance(script, Reply):
        outcome = _answer(route, chat, body, model, serial, reply=script)
        return dataclasses.replace(outcome, wait=script.delay, chunk_delay=script.chunk_delay)
    if script is not None and script.kind is FaultKind.RESET:
        return Outcome(reset=True)
    if script is not None and script.kind is FaultKind.HANG:  # late, then answered as if nothing was queued
        return dataclasses.replace(_answer(route, chat, body, model, serial), wait=script.seconds, hang=True)
    return _answer(route, chat, body, model, serial, fault=script)


def _answer(route: Route, chat: Chat | None, body: Any, model: str, serial: int, *, reply: Reply | None = None,
            fault: Fault | None = None) -> Outcome:
    """A chat answer (``reply``, or the echo) or an embeddings ``body``, as a stream fault leaves it."""
    dialect, request_id = route.dialect, f"req_{serial}"
    if chat is not None:
        answer = resolve_answer(reply, chat, dialect, serial, int(time.time()))
        if chat.stream:
            stream = dialect.render_stream(chat, answer)
            headers = _headers(route, request_id, {"Content-Type": stream.content_type, "Cache-Control": "no-cache"})
            end = _cut_end(fault) if fault is not None and fault.kind is FaultKind.CUT_STREAM else "whole"
            return Outcome(200, headers, stream_frames(stream, dialect, fault), stream=True, end=end)
        body = dialect.render_chat(chat, answer)
    if fault is not None and fault.kind is FaultKind.STREAM_ERROR:
        return json_outcome(route, request_id, 500, dialect.error_body(500, fault.message, model, request_id))
    if fault is not None and fault.kind is FaultKind.CUT_STREAM:
        data = dumps(body).encode()
        half = data[: len(data) // 2]
        headers = _headers(route, request_id, {"Content-Type": "application/json"})
        end = _cut_end(fault)
        return Outcome(200, headers, (half,), length=len(half if end == "closed" else data), end=end)
    return json_outcome(route, request_id, 200, body)


def _job(fake: Fake, route: Route, request: RecordedRequest, model: str, serial: int) -> Outcome:
    """A provider job endpoint (batches, videos): a queued Failure or transport fault first, as for chat; else
    the job's own answer (see ``_jobs``)."""
    request_id = f"req_{serial}"
    script = fake._take("job")
    if isinstance(script, Failure):
        body = failure_body(script, route.dialect, model, request_id)
        return json_outcome(route, request_id, script.status, body, script.headers)
    if isinstance(script, Fault) and script.kind is FaultKind.RESET:
        return Outcome(reset=True)

    def answer(dialect: Any, custom_id: str, body: Any, item_model: str) -> FakeItem:
        return answer_item(fake, dialect, custom_id, body, item_model, serial)

    context = JobContext(fake.jobs, request.method, route.action, route.ident, route.model or model, request.json,
                         request.body, request.headers, request.query, request.origin, request_id, answer)
    reply = play_job(route.dialect.name, context)
    headers = reply.headers
    if isinstance(reply.body, bytes):
        headers = {"Content-Type": "application/octet-stream", **headers}
    outcome = json_outcome(route, request_id, reply.status, reply.body, headers)
    if isinstance(script, Fault) and script.kind is FaultKind.HANG:
        return dataclasses.replace(outcome, wait=script.seconds, hang=True)
    return outcome


def answer_item(fake: Fake, dialect: Dialect, custom_id: str, body: Any, model: str, serial: int) -> FakeItem:
    """One batch item answered as a chat request would be: refused when its body is not acceptable or its
    prompt contains ``jobs.refuse``, else the next queued Reply or Failure, else the echo."""
    request_id = f"req_{serial}_{custom_id}"
    try:
        chat = dialect.parse_chat(body if isinstance(body, Mapping) else {}, model, False)
    except BadRequestError as exc:
        return FakeItem(custom_id, exc.status, dialect.error_body(exc.status, exc.message, model, request_id))
    refuse = fake.jobs.refuse
    if refuse and refuse in chat.prompt:
        message = f"The fake provider refuses prompts containing {refuse!r}."
        return FakeItem(custom_id, 400, dialect.error_body(400, message, model, request_id))
    script = fake._take("item")
    if isinstance(script, Failure):
        return FakeItem(custom_id, script.status, failure_body(script, dialect, model, request_id))
    answer = resolve_answer(script if isinstance(script, Reply) else None, chat, dialect, serial, int(time.time()))
    return FakeItem(custom_id, 200, dialect.render_chat(chat, answer))


def _media(fake: Fake, route: Route, request: RecordedRequest, model: str, serial: int, kind: str) -> Outcome:
    """An image, speech or transcription request: checked first (a bad one gets the native 400 and leaves the
    queue alone), then the next script played on it. A Reply gives a transcript its text, a speech answer its
    pace (``chunk_delay`` between audio frames) and either one its ``delay``."""
    request_id = f"req_{serial}"

    def answer(reply: Reply | None) -> MediaAnswer:
        if route.dialect.name == "gemini":
            return gemini_media(kind, request.json, model, route.stream, request.query.get("alt") == "sse", reply,
                                serial)
        return openai_media(route.endpoint, request, reply, serial, int(time.time()), fake._store_file)

    try:
        answer(None)
    except BadRequestError as exc:
        return json_outcome(route, request_id, exc.status, route.dialect.error_body(exc.status, exc.message, model,
                                                                                    request_id))
    script = fake._take("chat" if kind in ("transcription", "speech") else "embed")
    if isinstance(script, Failure):
        return json_outcome(route, request_id, script.status, failure_body(script, route.dialect, model, request_id),
                            script.headers)
    if script is not None and not isinstance(script, Reply) and script.kind is FaultKind.RESET:
        return Outcome(reset=True)
    reply = script if isinstance(script, Reply) else None
    media = answer(reply) if reply is not None else answer(None)
    headers = _headers(route, request_id, {"Content-Type": media.content_type})
    outcome = Outcome(media.status, headers, media.frames, stream=media.stream,
                      length=sum(len(frame) for frame in media.frames))
    if reply is not None:
        return dataclasses.replace(outcome, wait=reply.delay, chunk_delay=reply.chunk_delay)
    if script is None:
        return outcome
    assert isinstance(script, Fault)
    if script.kind is FaultKind.HANG:
        return dataclasses.replace(outcome, wait=script.seconds, hang=True)
    if script.kind is FaultKind.STREAM_ERROR and not media.stream:
        return json_outcome(route, request_id, 500, route.dialect.error_body(500, script.message, model, request_id))
    if media.stream:
        kept = media.frames[:script.after]
        error = (route.dialect.stream_error(script.message),) if script.kind is FaultKind.STREAM_ERROR else ()
        end: End = _cut_end(script) if script.kind is FaultKind.CUT_STREAM else "whole"
        return dataclasses.replace(outcome, frames=(*kept, *error), end=end)
    data = b"".join(media.frames)
    half = data[: len(data) // 2]
    end = _cut_end(script)
    return dataclasses.replace(outcome, frames=(half,), length=len(half if end == "closed" else data), end=end)


def _cut_end(fault: Fault) -> End:
    return "closed" if fault.clean else "broken"


def json_outcome(route: Route, request_id: str, status: int, body: Any,
                 headers: Mapping[str, str] | None = None) -> Outcome:
    """A JSON answer; ``body`` str or bytes is sent as it is, and ``headers`` override the defaults."""
    data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else dumps(body).encode()
    defaults = {"Content-Type": "application/json"}
    return Outcome(status, _headers(route, request_id, defaults, headers or {}), (data,), length=len(data))


def _headers(route: Route, request_id: str, defaults: Mapping[str, str],
             given: Mapping[str, str] | None = None) -> dict[str, str]:
    """``defaults`` less what ``given`` overrides (names in any case), ``given``, then the request id headers."""
    given = given or {}
    overridden = {name.lower() for name in given}
    headers = {name: value for name, value in defaults.items() if name.lower() not in overridden}
    headers.update(given)
    names = {name.lower() for name in headers}
    if "x-request-id" not in names:
        headers["x-request-id"] = request_id
    if route.dialect.name == "anthropic" and "request-id" not in names:
        headers["request-id"] = request_id
    return headers


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
    host = lowered.get("host")
    origin = f"{url.scheme}://{url.netloc}" if url.scheme else (f"http://{host}" if host else "")
    recorded = RecordedRequest(method, url.path, query, lowered, payload, client_port, body, origin)
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


def stream_frames(stream: Stream, dialect: Dialect, fault: Fault | None) -> tuple[bytes, ...]:
    """The frames of a stream as sent: whole, or cut after ``fault.after`` content events by a stream fault
    (``STREAM_ERROR`` then adds the dialect's error event)."""
    cut = fault is not None and fault.kind in _STREAM_FAULTS
    content = stream.content[: fault.after] if fault is not None and cut else stream.content
    frames = [*stream.opening, *content, *(() if cut else stream.closing)]
    if fault is not None and fault.kind is FaultKind.STREAM_ERROR:
        frames.append(dialect.stream_error(fault.message))
    return tuple(frames)
