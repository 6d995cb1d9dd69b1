"""A Flask app that answers with an LLM through pepperpy: one shared Client per process.

Run it (any provider with a key in the environment or ./.env):

    OPENAI_API_KEY=sk-... flask --app examples/flask_app.py run --with-threads
    cd examples && gunicorn --workers 2 --threads 8 --timeout 120 'flask_app:create_app()'

    curl -X POST localhost:5000/complete -H 'content-type: application/json' -d '{"prompt": "Say hi"}'
    curl -N -X POST localhost:5000/stream -H 'content-type: application/json' -d '{"prompt": "Count to 5"}'

``/stream`` answers with server-sent events: ``data: {"text": ...}`` per chunk, then ``event: done`` with the
usage, or ``event: error`` when the provider fails after the first byte (the status line is sent by then).
Errors before that become HTTP answers (see ``http_error``). docs/web-apps.md explains the choices.

The browser picks among the models the app offers, never any model: ``PEPPERPY_MODELS`` (comma list) names
them, ``client.offered_models()`` keeps those whose providers have credentials, and ``GET /models`` lists them.
Without ``PEPPERPY_MODELS`` only ``PEPPERPY_MODEL`` (the default) is offered. Any other model is a 400.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request

import pepperpy
from pepperpy.web import http_error, sse_events

DEFAULT_CLIENT_OPTIONS: dict[str, Any] = {
    "timeout": (5.0, 30.0),   # 5 s to connect, 30 s between bytes: below gunicorn's --timeout
    "max_retries": 1,         # a browser is waiting: fail fast rather than retry for a minute
    "pool_maxsize": 16,       # at least the threads per process (gunicorn --threads)
}


class ClientPerProcess:
    """One pepperpy Client per process, built on first use (so the app's config is final by then).

    A Client is fork-safe by itself: with ``gunicorn --preload`` each forked worker drops the master's
    pooled connections and opens its own, so nothing here has to watch the process id.
    """

    def __init__(self, **options: Any) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._client: pepperpy.Client | None = None

    def get(self) -> pepperpy.Client:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = pepperpy.Client(**self.options)
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app. ``PEPPERPY_CLIENT`` holds the Client's options, ``PEPPERPY_MODEL`` the default model."""
    app = Flask(__name__)
    app.config.from_mapping(PEPPERPY_MODEL=os.environ.get("PEPPERPY_MODEL", "gpt-4o-mini"),
                            PEPPERPY_CLIENT=DEFAULT_CLIENT_OPTIONS)
    app.config.update(config or {})
    llm = app.extensions["pepperpy"] = ClientPerProcess(**app.config["PEPPERPY_CLIENT"])

    def offered() -> dict[str, pepperpy.ModelSpec]:
        """The models a browser may ask for, by every name that reaches them (id, alias, provider/id)."""
        client = llm.get()
        specs = client.offered_models() or [client.model(app.config["PEPPERPY_MODEL"])]
        return {name: spec for spec in specs for name in (spec.name, spec.id, *spec.aliases)}

    def prompt_and_model() -> tuple[str, str]:
        body = request.get_json(silent=True) or {}
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise pepperpy.ValidationError('send JSON like {"prompt": "...", "model": "..."}', param="prompt")
        names = offered()
        asked = body.get("model")
        if asked is None:  # the default, when it is offered; else the first model offered
            default = app.config["PEPPERPY_MODEL"]
            return prompt, names[default].name if default in names else next(iter(names.values())).name
        if not isinstance(asked, str) or asked not in names:  # never a model the app does not offer
            choices = sorted({spec.name for spec in names.values()})
            raise pepperpy.ValidationError(f"model {str(asked)[:80]!r} is not offered here; choose one of "
                                           f"{', '.join(choices)} (GET /models)", param="model")
        return prompt, names[asked].name

    @app.get("/models")
    def models() -> Response:
        specs = {spec.name: spec for spec in offered().values()}
        return jsonify(models=[{"name": spec.name, "id": spec.id, "provider": spec.provider}
                               for spec in specs.values()])

    @app.errorhandler(pepperpy.PepperpyError)
    def pepperpy_error(exc: pepperpy.PepperpyError) -> tuple[Response, int, dict[str, str]]:
        status, message, headers = http_error(exc)
        app.logger.log(logging.ERROR if status >= 500 else logging.INFO, "pepperpy: %r", exc)
        return jsonify(error=message, type=type(exc).__name__), status, headers

    @app.post("/complete")
    def complete() -> Response:
        prompt, model = prompt_and_model()
        r = llm.get().complete(prompt, model=model, max_tokens=512)
        return jsonify(text=r.text, model=r.model, provider=r.provider, finish_reason=r.finish_reason,
                       usage={"input": r.usage.input_tokens, "output": r.usage.output_tokens}, cost=r.cost)

    @app.post("/stream")
    def stream() -> Response:
        prompt, model = prompt_and_model()
        # Opened here, not in the generator: an error before the first byte is still an HTTP status.
        upstream = llm.get().stream(prompt, model=model, max_tokens=512)
        return Response(sse_events(upstream), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app


