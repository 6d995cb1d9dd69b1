"""Views sharing one pepperpy Client per process (``llm``), built on first use from ``settings.PEPPERPY``."""

from __future__ import annotations

import json
import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_POST

import pepperpy
from pepperpy.web import sse_events


class ClientPerProcess:
    """One pepperpy Client per process, built on first use from ``settings.PEPPERPY["CLIENT"]``.

    A Client is fork-safe by itself: with ``gunicorn --preload`` each forked worker drops the master's
    pooled connections and opens its own, so nothing here has to watch the process id.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: pepperpy.Client | None = None

    def get(self) -> pepperpy.Client:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = pepperpy.Client(**settings.PEPPERPY.get("CLIENT", {}))
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


llm = ClientPerProcess()


@receiver(setting_changed)
def _rebuild_client(setting: str, **kwargs: Any) -> None:
    if setting == "PEPPERPY":  # override_settings in tests: the next call builds a Client from the new options
        llm.close()


def _offered() -> dict[str, pepperpy.ModelSpec]:
    """The models a browser may ask for, by every name that reaches them (id, alias, provider/id)."""
    client = llm.get()
    specs = client.offered_models() or [client.model(settings.PEPPERPY["MODEL"])]
    return {name: spec for spec in specs for name in (spec.name, spec.id, *spec.aliases)}


def _prompt_and_model(request: HttpRequest) -> tuple[str, str]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise pepperpy.ValidationError('send JSON like {"prompt": "...", "model": "..."}', param="prompt")
    names = _offered()
    asked = body.get("model")
    if asked is None:  # the default, when it is offered; else the first model offered
        default = settings.PEPPERPY["MODEL"]
        return prompt, names[default].name if default in names else next(iter(names.values())).name
    if not isinstance(asked, str) or asked not in names:  # never a model the app does not offer
        choices = sorted({spec.name for spec in names.values()})
        raise pepperpy.ValidationError(f"model {str(asked)[:80]!r} is not offered here; choose one of "
                                       f"{', '.join(choices)} (GET /models)", param="model")
    return prompt, names[asked].name


def models(request: HttpRequest) -> HttpResponse:
    """``GET /models``: what the browser may pick."""
    specs = {spec.name: spec for spec in _offered().values()}
    return JsonResponse({"models": [{"name": spec.name, "id": spec.id, "provider": spec.provider}
                                    for spec in specs.values()]})


def _answer(r: pepperpy.Completion) -> JsonResponse:
    return JsonResponse({"text": r.text, "model": r.model, "provider": r.provider, "finish_reason": r.finish_reason,
                         "usage": {"input": r.usage.input_tokens, "output": r.usage.output_tokens}, "cost": r.cost})


@require_POST
def complete(request: HttpRequest) -> HttpResponse:
    prompt, model = _prompt_and_model(request)
    return _answer(llm.get().complete(prompt, model=model, max_tokens=512))


@require_POST
async def acomplete(request: HttpRequest) -> HttpResponse:
    """The same, as an async view: under ASGI the wait happens in pepperpy's worker threads, not the loop.
    (The first call in a process builds the Client, which reads the catalog files once.)"""
    prompt, model = _prompt_and_model(request)
    return _answer(await llm.get().acomplete(prompt, model=model, max_tokens=512))


@require_POST
def stream(request: HttpRequest) -> HttpResponse:
    prompt, model = _prompt_and_model(request)
    # Opened here, not in the generator: an error before the first byte is still an HTTP status.
    upstream = llm.get().stream(prompt, model=model, max_tokens=512)
    response = StreamingHttpResponse(sse_events(upstream), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


