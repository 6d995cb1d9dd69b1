"""pepperpy errors as HTTP answers, for every view."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

import pepperpy
from pepperpy.web import http_error

log = logging.getLogger(__name__)

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
