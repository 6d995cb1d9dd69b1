"""Framework-neutral help for web apps: the HTTP answer for a pepperpy error, and a stream as server-sent
events for the browser.

>>> from pepperpy.web import http_error
>>> status, message, headers = http_error(exc)   # doctest: +SKIP
>>> return JsonResponse({"error": message}, status=status, headers=headers)   # doctest: +SKIP

The browser never sees a provider's own message (it may name internal details or echo the prompt); it sees
a short sentence, and the application's log keeps the rest. Input errors (ValidationError,
ModelNotFoundError) keep their message: it tells the user what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .errors import (
    CircuitOpenError,
    ContextLengthError,
    ModelNotFoundError,
    PepperpyError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    ValidationError,
)

if TYPE_CHECKING:
    from .types import Stream

__all__ = ["ANSWERS", "http_error", "sse_events"]

# Most specific first: (error class, HTTP status, message for the browser; "" keeps the error's own).
ANSWERS: tuple[tuple[type[PepperpyError], int, str], ...] = (
    (ValidationError, 400, ""),
    (ModelNotFoundError, 400, ""),
    (ContextLengthError, 413, "The prompt is too long for this model."),
    (RateLimitError, 503, "The model is busy; try again shortly."),
    (CircuitOpenError, 503, "The model is unavailable; try again shortly."),
    (ProviderUnavailableError, 503, "The model is unavailable; try again shortly."),
    (ProviderTimeoutError, 504, "The model took too long to answer."),
    (ProviderError, 502, "The model provider failed."),  # refused key, bad request, broken stream
    (PepperpyError, 500, "The server is misconfigured."),  # missing key, bad catalog
)


def http_error(exc: PepperpyError) -> tuple[int, str, dict[str, str]]:
    """``(status, message, headers)`` of the HTTP answer for a pepperpy error; a 503 carries ``Retry-After``
    when the provider (or the circuit breaker) said how long to wait."""
    for kind, status, message in ANSWERS:
        if isinstance(exc, kind):
            headers = {}
            retry_after = getattr(exc, "retry_after", None)
            if status == 503 and retry_after is not None:
                headers["Retry-After"] = str(max(1, round(retry_after)))
            return status, message or str(exc), headers
    raise TypeError(f"http_error() takes a pepperpy error, not {type(exc).__name__}")


def sse_events(upstream: Stream) -> Iterator[str]:
    """``upstream`` as server-sent events for a browser: ``data: {"text": ...}`` per piece, then
    ``event: done`` with the token counts, or ``event: error`` with ``http_error``'s message.

    Hand it to a streaming response (Flask ``Response(sse_events(s), mimetype="text/event-stream")``, Django
    ``StreamingHttpResponse(...)``). The server closes the generator when the browser goes away, and the
    ``with`` inside then closes the provider's response too.
    """
    with upstream:
        try:
            for chunk in upstream:
                if chunk.text:  # JSON-encoded: model output has newlines, which would end a data: line
                    yield f"data: {json.dumps({'text': chunk.text})}\n\n"
            usage = upstream.completion.usage
        except PepperpyError as exc:
            yield f"event: error\ndata: {json.dumps({'error': http_error(exc)[1]})}\n\n"
            return
        yield f"event: done\ndata: {json.dumps({'input': usage.input_tokens, 'output': usage.output_tokens})}\n\n"
