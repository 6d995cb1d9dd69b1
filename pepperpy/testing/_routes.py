"""Which dialect and endpoint a request path belongs to, and who may call it.

Paths are matched by suffix so any base URL works: ``/v1/chat/completions``,
``/api/v1/chat/completions`` (OpenRouter style) and ``/openai/v1/chat/completions`` (Groq style)
are all the OpenAI dialect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pepperpy.testing import _openai
from pepperpy.testing._anthropic import ANTHROPIC
from pepperpy.testing._gemini import GEMINI, INVALID_KEY_DETAILS, MISSING_KEY_MESSAGE
from pepperpy.testing._ollama import OLLAMA
from pepperpy.testing._openai import OPENAI
from pepperpy.testing._stackspot import STACKSPOT
from pepperpy.testing._wire import Dialect

_TOKEN = re.compile(r"^/(?P<realm>[^/]+)/oidc/oauth/token$")
_FILE = re.compile(r"/fake-files/(?P<name>[^/]+)$")
_OPENAI_MEDIA = {"/images/generations": "image", "/images/edits": "image_edit", "/audio/speech": "speech",
                 "/audio/transcriptions": "transcription"}
_AGENT = re.compile(r"/v1/agent/(?P<agent>[^/]+)/chat$")
_GEMINI_CALL = re.compile(r"/models/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$")
_ANTHROPIC_BATCH = re.compile(r"/v1/messages/batches(?:/(?P<id>[^/]+)(?:/(?P<action>cancel|results))?)?$")
_GEMINI_BATCH = re.compile(r"/v1beta/batches/(?P<id>[^/:]+)(?::(?P<action>cancel))?$")
_GEMINI_UPLOAD = re.compile(r"/upload/v1beta/files$")
_GEMINI_FILE = re.compile(r"/v1beta/files/(?P<id>[^/:]+)(?P<download>:download)?$")
_GEMINI_JOBS = {"batchGenerateContent": "create", "predictLongRunning": "video.create"}
_GEMINI_OPERATION = re.compile(r"/v1beta/(?P<name>models/[^/]+/operations/[^/:]+)$")
_STORAGE = re.compile(r"^/storage/(?P<token>[^/]+)$")
_OPENAI_VIDEOS = re.compile(r"/videos(?:/(?P<id>[^/]+)(?P<content>/content)?)?$")
_OPENAI_FILES = re.compile(r"/files(?:/(?P<id>[^/]+)(?P<content>/content)?)?$")
_OPENAI_BATCHES = re.compile(r"/batches(?:/(?P<id>[^/]+)(?:/(?P<action>cancel))?)?$")
_GEMINI_METHODS = {
    "generateContent": ("chat", False),
    "streamGenerateContent": ("chat", True),
    "embedContent": ("embed", False),
    "batchEmbedContents": ("batch_embed", False),
    "countTokens": ("count", False),
}


@dataclass(frozen=True)
class Route:
    """``endpoint`` is one of chat, embed, batch_embed, models, token, count, apply_template, tokenize, image,
    image_edit, speech, transcription, file (an image the fake stored), job, unknown. A ``job`` route (a provider
    batch or video) has an ``action`` (create, get, cancel, results...) and the ``ident`` of the job it acts on."""

    endpoint: str
    dialect: Dialect
    model: str = ""
    stream: bool = False
    realm: str = ""
    action: str = ""
    ident: str = ""


UNKNOWN = Route("unknown", Dialect())


def find_route(method: str, path: str, headers: Mapping[str, str]) -> Route:
    """Map a request to its dialect and endpoint (``headers`` has lower-case names)."""
    post, get = method == "POST", method == "GET"
    if post and (match := _TOKEN.match(path)):
        return Route("token", STACKSPOT, realm=match["realm"])
    if post and (match := _AGENT.search(path)):
        return Route("chat", STACKSPOT, model=match["agent"])
    job = _job_route(method, path)
    if job is not None:
        return job
    if post and (match := _GEMINI_CALL.search(path)):
        endpoint, stream = _GEMINI_METHODS.get(match["method"], ("unknown", False))
        return Route(endpoint, GEMINI, model=match["model"], stream=stream) if endpoint != "unknown" else UNKNOWN
    if get and path.rstrip("/").endswith("/v1beta/models"):
        return Route("models", GEMINI)
    ollama = {("POST", "/api/chat"): "chat", ("POST", "/api/embed"): "embed", ("GET", "/api/tags"): "models",
              ("POST", "/api/show"): "show"}
    if (method, path) in ollama:
        return Route(ollama[method, path], OLLAMA)
    if post and path.endswith("/v1/messages"):
        return Route("chat", ANTHROPIC)
    if post and path.endswith("/v1/messages/count_tokens"):
        return Route("count", ANTHROPIC)
    if post and path.endswith("/responses/input_tokens"):
        return Route("count", OPENAI)
    if post and path in ("/apply-template", "/tokenize"):  # llama.cpp, at the server's root
        return Route(path[1:].replace("-", "_"), OPENAI)
    if post and path.endswith("/chat/completions"):
        return Route("chat", OPENAI)
    if post and (media := next((kind for suffix, kind in _OPENAI_MEDIA.items() if path.endswith(suffix)), None)):
        return Route(media, OPENAI)
    if get and (match := _FILE.search(path)):
        return Route("file", OPENAI, model=match["name"])
    if post and path.endswith("/embeddings"):
        return Route("embed", OPENAI)
    if get and path.rstrip("/").endswith("/models"):
        return Route("models", ANTHROPIC if "anthropic-version" in headers else OPENAI)
    return UNKNOWN


def _job_route(method: str, path: str) -> Route | None:
    """The route of a provider job endpoint (batches, videos), or None."""
    if (match := _ANTHROPIC_BATCH.search(path)) is not None:
        action = match["action"] or ("get" if match["id"] else "create")
        if (method == "POST") == (action in ("create", "cancel")):
            return Route("job", ANTHROPIC, action=action, ident=match["id"] or "")
    if (match := _GEMINI_BATCH.search(path)) is not None:
        action = match["action"] or "get"
        if (method == "POST") == (action == "cancel"):
            return Route("job", GEMINI, action=action, ident=f"batches/{match['id']}")
    if method == "GET" and (match := _STORAGE.match(path)):
        return Route("job", GEMINI, action="storage", ident=match["token"])
    if method == "GET" and (match := _GEMINI_OPERATION.search(path)):
        return Route("job", GEMINI, action="video.get", ident=match["name"])
    if method == "POST" and _GEMINI_UPLOAD.search(path):
        return Route("job", GEMINI, action="upload")
    if method == "GET" and (match := _GEMINI_FILE.search(path)):  # also /download/v1beta/files/...
        return Route("job", GEMINI, action="download", ident=f"files/{match['id']}")
    if method == "POST" and (match := _GEMINI_CALL.search(path)) and match["method"] in _GEMINI_JOBS:
        return Route("job", GEMINI, model=match["model"], action=_GEMINI_JOBS[match["method"]])
    if "/v1beta/" in path:
        return None
    if (match := _OPENAI_FILES.search(path)) is not None:
        action = "file.content" if match["content"] else ("file.get" if match["id"] else "file.create")
        if (method == "POST") == (action == "file.create"):
            return Route("job", OPENAI, action=action, ident=match["id"] or "")
    if (match := _OPENAI_VIDEOS.search(path)) is not None:
        action = "video.content" if match["content"] else ("video.get" if match["id"] else "video.create")
        if (method == "POST") == (action == "video.create"):
            return Route("job", OPENAI, action=action, ident=match["id"] or "")
    if (match := _OPENAI_BATCHES.search(path)) is not None:
        action = match["action"] or ("get" if match["id"] else "create")
        if (method == "POST") == (action in ("create", "cancel")):
            return Route("job", OPENAI, action=action, ident=match["id"] or "")
    return None


def key_rejection(
    dialect: Dialect,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    expected: str | None,
    request_id: str,
) -> tuple[int, Any] | None:
    """The native answer to a missing or wrong API key, or None when the key is acceptable.

    Only called when the server requires keys; ``expected`` None accepts any key.
    """
    if dialect is OPENAI:
        key = bearer_token(headers)
        if key is None:
            return 401, {
                "error": {
                    "message": _openai.MISSING_KEY_MESSAGE,
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
        if expected is not None and key != expected:
            return 401, OPENAI.error_body(401, None, "", request_id)
    elif dialect is ANTHROPIC:
        key = headers.get("x-api-key")
        if key is None:
            return 401, ANTHROPIC.error_body(401, "x-api-key header is required", "", request_id)
        if expected is not None and key != expected:
            return 401, ANTHROPIC.error_body(401, "invalid x-api-key", "", request_id)
    elif dialect is GEMINI:
        key = headers.get("x-goog-api-key") or query.get("key")
        if key is None:
            return 403, GEMINI.error_body(403, MISSING_KEY_MESSAGE, "", request_id)
        if expected is not None and key != expected:
            body = GEMINI.error_body(400, "API key not valid. Please pass a valid API key.", "", request_id)
            body["error"]["details"] = INVALID_KEY_DETAILS
            return 400, body
    return None


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
