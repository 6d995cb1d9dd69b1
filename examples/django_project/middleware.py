"""pepperpy errors as HTTP answers, for every view."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

import pepperpy

log = logging.getLogger(__name__)

# Most specific first. The browser never sees a provider's own message (it may name internal details);
# it sees one of these, and the log keeps the rest.
_ANSWERS: list[tuple[type[pepperpy.PepperpyError], int, str]] = [
    (pepperpy.ValidationError, 400, ""),          # the user's own input: its message says what to fix
    (pepperpy.ModelNotFoundError, 400, ""),
    (pepperpy.ContextLengthError, 413, "The prompt is too long for this model."),
    (pepperpy.RateLimitError, 503, "The model is busy; try again shortly."),
    (pepperpy.CircuitOpenError, 503, "The model is unavailable; try again shortly."),
    (pepperpy.ProviderUnavailableError, 503, "The model is unavailable; try again shortly."),
    (pepperpy.ProviderTimeoutError, 504, "The model took too long to answer."),
    (pepperpy.ProviderError, 502, "The model provider failed."),  # refused key, bad request, broken stream
    (pepperpy.PepperpyError, 500, "The server is misconfigured."),  # missing key, bad catalog
]


def http_error(exc: pepperpy.PepperpyError) -> tuple[int, str, dict[str, str]]:
    """``(status, message, headers)`` of the HTTP answer for a pepperpy error."""
    for kind, status, message in _ANSWERS:
        if isinstance(exc, kind):
            headers = {}
            retry_after = getattr(exc, "retry_after", None)
            if status == 503 and retry_after is not None:
                headers["Retry-After"] = str(max(1, round(retry_after)))
            return status, message or str(exc), headers
    raise AssertionError("PepperpyError is the last row")  # pragma: no cover


class PepperpyErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, pepperpy.PepperpyError):
            return None
        status, message, headers = http_error(exception)
        log.log(logging.ERROR if status >= 500 else logging.INFO, "pepperpy: %r", exception)
        return JsonResponse({"error": message, "type": type(exception).__name__}, status=status, headers=headers)
