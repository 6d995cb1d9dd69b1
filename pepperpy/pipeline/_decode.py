"""Reading a provider's 2xx answer: its JSON body, or its stream of events, into pepperpy values.

The other half of the error boundary that ``Transport.send`` keeps for non-2xx answers: a body that is
not JSON, a shape the dialect does not know, an error event mid-stream, a stream cut short or ended
without its terminator all leave here as typed pepperpy errors, redacted with the provider's secrets and
raised ``from`` the original. The dialect's pure parse functions are passed in; nothing here knows a
wire format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import requests
import urllib3

from .. import errors
from ..http.transport import Transport, iter_body, iter_ndjson, iter_sse, stream_watch
from ..types import ModelSpec

__all__ = ["SHAPE_ERRORS", "EventParser", "answer", "body_answer", "events", "json_body", "raw_pieces"]

R = TypeVar("R")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
# what a dialect raises on an answer whose JSON has an unexpected shape
_JSON = json.JSONDecoder()  # json.loads's own (default) decoder
SHAPE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)
_STREAM_FAILURES = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


class EventParser(Protocol[T_co]):
    """A dialect's per-stream parser: one event in, a Chunk (or a media piece, or None) out; ``done`` once the
    terminator came."""

    done: bool

    def feed(self, event: str, data: bytes) -> T_co | None: ...


def json_body(transport: Transport, response: requests.Response, model: ModelSpec) -> Any:
    """The JSON of a 2xx answer; ProviderAPIError when it is not JSON."""
    try:
        content = response.content
        if content[:1] == b"{" and content[1:2] != b"\0":  # what json.loads reads as UTF-8: an object
            return _JSON.decode(content.decode("utf-8", "surrogatepass"))  # json.loads, less its detour
        return json.loads(content)
    except (ValueError, requests.RequestException) as exc:
        raise errors.ProviderAPIError(
            f"{transport.provider} answered {response.status_code} with a body that is not JSON",
            provider=transport.provider, model=model.id, status_code=response.status_code) from exc


def answer(transport: Transport, response: requests.Response, parse: Callable[[Any, ModelSpec], R],
           model: ModelSpec, dialect: str) -> R:
    """``parse`` (a dialect's) of a 2xx JSON answer, with its error objects redacted and odd shapes typed."""
    payload = json_body(transport, response, model)
    try:
        return parse(payload, model)
    except errors.ProviderError as exc:  # an error object in a 200 answer: the dialect did not know the key
        transport.scrub(exc)
        raise
    except SHAPE_ERRORS as exc:
        raise errors.ProviderAPIError(
            f"{transport.provider} answered {response.status_code} in a shape the {dialect} dialect does not "
            f"know ({type(exc).__name__}: {exc}); does its base_url point at an API of that dialect?",
            provider=transport.provider, model=model.id, status_code=response.status_code) from exc


def body_answer(transport: Transport, response: requests.Response, parse: Callable[[bytes, str], R],
                model: ModelSpec, dialect: str) -> R:
    """``parse`` (a dialect's) of a 2xx answer's bytes and Content-Type: media answers, JSON or binary."""
    try:
        content = response.content
    except requests.RequestException as exc:
        raise _cut(exc, model) from exc
    try:
        return parse(content, response.headers.get("content-type", ""))
    except errors.ProviderError as exc:  # an error object in a 200 answer
        transport.scrub(exc)
        raise
    except SHAPE_ERRORS as exc:
        what = "a body that is not JSON" if isinstance(exc, json.JSONDecodeError) else (
            f"a shape the {dialect} dialect does not know ({type(exc).__name__}: {exc})")
        raise errors.ProviderAPIError(
            f"{transport.provider} answered {response.status_code} with {what}; does its base_url point at an "
            f"API of that dialect?", provider=transport.provider, model=model.id,
            status_code=response.status_code) from exc


def _cut(exc: BaseException, model: ModelSpec) -> errors.ProviderError:
    """The typed error for an answer whose reading failed (``http._translate`` loads with the first failure)."""
    from ..http import _translate

    return _translate.from_transport_error(exc, provider=model.provider, model=model.id, streaming=True)


def _late(model: ModelSpec, gap: float) -> errors.ProviderError:
    from ..http import _translate

    return _translate.transport_failure("timeout", f"no chunk came within total_timeout={gap:g} s",
                                        provider=model.provider, model=model.id)


def raw_pieces(response: requests.Response, model: ModelSpec) -> Iterator[bytes]:
    """A streamed binary answer's bytes as they arrive (speech); closes the response at the end. With a
    total_timeout, each wait for the next piece is bounded by it, as a chat stream's chunks are."""
    watch, gap = stream_watch(response)
    try:
        if watch is None:
            yield from iter_body(response)
            return
        watch.arm(gap)
        for piece in iter_body(response):
            watch.disarm()
            yield piece
            watch.arm(gap)
    except _STREAM_FAILURES as exc:
        if watch is not None and watch.expired:
            raise _late(model, gap) from exc
        raise _cut(exc, model) from exc
    finally:
        if watch is not None:
            watch.disarm()
        response.close()
    if watch is not None and watch.expired:  # the socket was shut down: the audio ended early
        raise _late(model, gap)


def events(transport: Transport, response: requests.Response, parser: EventParser[T], model: ModelSpec,
           stream_format: str) -> Iterator[T]:
    """The Chunks of a streamed answer (SSE or NDJSON), read as they arrive; closes the response at the end."""
    content_type = response.headers.get("content-type", "")
    if "html" in content_type:  # a proxy's login page or a wrong base_url, not an event stream
        response.close()
        raise errors.StreamError(f"{model.provider} answered {response.status_code} with {content_type} instead "
                                 f"of an event stream; check its base_url", provider=model.provider,
                                 model=model.id, status_code=response.status_code)
    reader = iter_sse if stream_format == "sse" else iter_ndjson
    feed = parser.feed
    watch, gap = stream_watch(response)  # total_timeout: each wait for the next chunk is bounded by it
    try:
        if watch is not None:
            watch.arm(gap)
        for event, data in reader(iter_body(response)):
            chunk = feed(event, data)
            if chunk is not None:
                if watch is not None:
                    watch.disarm()
                    yield chunk
                    watch.arm(gap)
                else:
                    yield chunk
    except errors.ProviderError as exc:  # an error event: the parser did not know the key to redact
        transport.scrub(exc)
        raise
    except (*_STREAM_FAILURES, *SHAPE_ERRORS) as exc:
        if watch is not None and watch.expired:  # the deadline shut the socket: whatever the read made of it
            raise _late(model, gap) from exc
        if isinstance(exc, _STREAM_FAILURES):
            raise _cut(exc, model) from exc
        what = "is not valid JSON" if isinstance(exc, json.JSONDecodeError) else "has an unknown shape"
        raise errors.StreamError(f"{model.provider} sent a stream event that {what}: {exc}",
                                 provider=model.provider, model=model.id) from exc
    finally:
        if watch is not None:
            watch.disarm()
        response.close()
    if watch is not None and watch.expired and not parser.done:
        raise _late(model, gap)
    if not parser.done:
        raise errors.StreamError(f"the stream from {model.provider} ended before its terminator; the answer "
                                 f"is incomplete", provider=model.provider, model=model.id)
