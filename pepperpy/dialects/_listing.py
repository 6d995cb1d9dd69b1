"""Model listings, read into catalog entries: what ``pepperpy catalog sync`` compares with the catalog.

Each listing format becomes a list of plain dicts in catalog terms (``id``, ``mode``, ``context_window``,
``max_output_tokens``, ``pricing`` per 1M tokens, ``capabilities``), holding only what the listing reports:
a figure it does not give is left out, never guessed. A model the listing describes as neither chat nor
embedding (Gemini's ``predict`` models...) carries ``"_unmapped"``, what the listing says it does, instead of
a ``mode`` (keys starting with ``_`` are never written to a catalog file). A listing that gives ids only says
no mode: ``documented_mode`` finds it in an id family the provider documents (OpenAI's ``text-embedding-*``),
else it stays unknown and ``catalog sync`` says so rather than call it chat.

- OpenAI-compatible ``GET /models``: ids only (OpenAI, Groq, vLLM...); OpenRouter adds ``context_length``,
  ``top_provider.max_completion_tokens``, per-token ``pricing`` strings, ``architecture`` modalities and
  ``supported_parameters``. One page.
- Anthropic ``GET /v1/models?limit=&after_id=``: ``max_input_tokens``, ``max_tokens``, ``capabilities``;
  pages while ``has_more`` (the next one ``after_id=last_id``).
- Gemini ``GET /models?pageSize=&pageToken=``: ``inputTokenLimit``, ``outputTokenLimit``,
  ``supportedGenerationMethods``, ``thinking``; pages while ``nextPageToken``.
- Ollama ``GET /api/tags`` (the pulled models), then ``POST /api/show`` per model: the context length in
  ``model_info["<architecture>.context_length"]`` and ``capabilities``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ..http.transport import Request

__all__ = ["ID_FAMILIES", "Entry", "anthropic_page", "anthropic_request", "documented_mode", "gemini_page",
           "gemini_request", "ollama_show", "ollama_show_request", "ollama_tags", "openai_page", "per_million"]

Entry = dict[str, Any]
PAGE_SIZE = 1000  # the largest page Anthropic and Gemini serve: fewer round trips


# Model id families a provider documents, each with the mode of its models, most specific first: the evidence
# for a mode when the listing gives ids only. (provider, [(id prefix or infix, mode)]); a match is by prefix,
# or anywhere for an entry starting with "*".
ID_FAMILIES: Mapping[str, Sequence[tuple[str, str]]] = {
    # https://platform.openai.com/docs/models : embeddings, image, speech, transcription, video and chat families
    "openai": (("text-embedding-", "embedding"), ("gpt-image-", "image"), ("chatgpt-image-", "image"),
               ("dall-e-", "image"), ("tts-", "speech"), ("*-tts", "speech"), ("whisper-", "transcription"),
               ("*-transcribe", "transcription"), ("sora-", "video"), ("*-realtime", "realtime"),
               ("gpt-", "chat"), ("chatgpt-", "chat"), ("o1", "chat"), ("o3", "chat"), ("o4", "chat")),
    # https://docs.mistral.ai/getting-started/models/ : the embedding models end in -embed
    "mistral": (("*-embed", "embedding"), ("mistral-", "chat"), ("codestral-", "chat"), ("pixtral-", "chat"),
                ("magistral-", "chat"), ("ministral-", "chat"), ("devstral-", "chat")),
    # https://console.groq.com/docs/models : Whisper for speech to text, the rest chat
    "groq": (("whisper-", "transcription"), ("*-tts", "speech")),
}


def documented_mode(provider: str, model_id: str) -> str | None:
    """The mode of ``model_id`` by an id family ``provider`` documents (``ID_FAMILIES``); None: no evidence."""
    for family, mode in ID_FAMILIES.get(provider, ()):
        if (family.startswith("*") and family[1:] in model_id) or (not family.startswith("*") and \
                model_id.startswith(family)):
            return mode
    return None


def per_million(value: Any) -> float | None:
    """A per-token price (OpenRouter's strings, "0.0000025") in USD per 1M tokens; None when absent or
    negative (OpenRouter marks variable prices "-1")."""
    try:
        price = Decimal(str(value)) * 1_000_000
    except (InvalidOperation, ValueError):
        return None
    if value is None or value == "" or not price.is_finite() or price < 0:
        return None
    return float(price.normalize())


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _put(entry: Entry, key: str, value: Any) -> None:
    if value is not None and value != [] and value != {}:
        entry[key] = value


# --------------------------------------------------------------------------- OpenAI-compatible, OpenRouter

_OPENROUTER_INPUTS = {"image": "vision", "file": "pdf", "audio": "audio"}
_OPENROUTER_PARAMETERS = {"tools": "tools", "response_format": "json_output", "structured_outputs": "json_output",
                          "reasoning": "reasoning"}


def openai_page(payload: Any) -> list[Entry]:
    """The entries of an OpenAI-compatible ``/models`` answer (OpenRouter's figures when it gives them)."""
    entries = []
    for item in payload["data"]:
        entry: Entry = {"id": str(item["id"])}
        top = item.get("top_provider") if isinstance(item.get("top_provider"), Mapping) else {}
        _put(entry, "context_window", _number(item.get("context_length")) or _number(top.get("context_length")))
        _put(entry, "max_output_tokens", _number(top.get("max_completion_tokens")))
        prices = item.get("pricing") if isinstance(item.get("pricing"), Mapping) else {}
        pricing = {key: per_million(prices.get(source)) for key, source in
                   (("input", "prompt"), ("output", "completion"), ("cached_input", "input_cache_read"))}
        if pricing["input"] is not None and pricing["output"] is not None:
            _put(entry, "pricing", {key: value for key, value in pricing.items() if value is not None})
        architecture = item.get("architecture") if isinstance(item.get("architecture"), Mapping) else {}
        inputs = architecture.get("input_modalities") or ()
        capabilities = {_OPENROUTER_INPUTS[m] for m in inputs if m in _OPENROUTER_INPUTS}
        capabilities |= {_OPENROUTER_PARAMETERS[p] for p in item.get("supported_parameters") or ()
                         if p in _OPENROUTER_PARAMETERS}
        _put(entry, "capabilities", sorted(capabilities))
        entries.append(entry)
    return entries


# --------------------------------------------------------------------------- Anthropic

_ANTHROPIC_CAPABILITIES = {"image_input": "vision", "pdf_input": "pdf", "thinking": "reasoning",
                           "structured_outputs": "json_output"}


def anthropic_request(cursor: str | None) -> Request:
    params = {"limit": str(PAGE_SIZE)}
    if cursor is not None:
        params["after_id"] = cursor
    return Request("GET", "/v1/models", params=params)


def anthropic_page(payload: Any) -> tuple[list[Entry], str | None]:
    """The entries of one ``/v1/models`` page, and the ``after_id`` of the next (None: the last page)."""
    entries = []
    for item in payload["data"]:
        entry: Entry = {"id": str(item["id"]), "mode": "chat"}
        _put(entry, "context_window", _number(item.get("max_input_tokens")))
        _put(entry, "max_output_tokens", _number(item.get("max_tokens")))
        found = item.get("capabilities") if isinstance(item.get("capabilities"), Mapping) else {}
        _put(entry, "capabilities", sorted(name for key, name in _ANTHROPIC_CAPABILITIES.items()
                                           if isinstance(found.get(key), Mapping) and found[key].get("supported")))
        entries.append(entry)
    last = payload.get("last_id")
    return entries, (str(last) if payload.get("has_more") and last else None)


# --------------------------------------------------------------------------- Gemini

def gemini_request(cursor: str | None) -> Request:
    params = {"pageSize": str(PAGE_SIZE)}
    if cursor is not None:
        params["pageToken"] = cursor
    return Request("GET", "/models", params=params)


def gemini_page(payload: Any) -> tuple[list[Entry], str | None]:
    """The entries of one ``/models`` page, and the ``pageToken`` of the next (None: the last page)."""
    entries = []
    for item in payload.get("models") or ():
        entry: Entry = {"id": str(item["name"]).removeprefix("models/")}
        methods: Sequence[str] = item.get("supportedGenerationMethods") or ()
        if "generateContent" in methods:
            entry["mode"] = "chat"
        elif "embedContent" in methods or "batchEmbedContents" in methods:
            entry["mode"] = "embedding"
        else:
            entry["_unmapped"] = "methods " + (", ".join(methods) or "none")
        _put(entry, "context_window", _number(item.get("inputTokenLimit")))
        if entry.get("mode") == "chat":
            _put(entry, "max_output_tokens", _number(item.get("outputTokenLimit")))
            _put(entry, "capabilities", ["reasoning"] if item.get("thinking") is True else [])
        entries.append(entry)
    token = payload.get("nextPageToken")
    return entries, (str(token) if token else None)


# --------------------------------------------------------------------------- Ollama

_OLLAMA_CAPABILITIES = {"tools": "tools", "vision": "vision", "thinking": "reasoning"}


def ollama_tags(payload: Any) -> list[Entry]:
    """The pulled models of ``/api/tags`` (``x:latest`` is called ``x``, as Ollama itself allows)."""
    return [{"id": str(item.get("model") or item["name"]).removesuffix(":latest")} for item in payload["models"]]


def ollama_show_request(entry: Mapping[str, Any]) -> Request:
    return Request("POST", "/api/show", json={"model": entry["id"]})


def ollama_show(payload: Any, entry: Mapping[str, Any]) -> Entry:
    """``entry`` with what ``/api/show`` tells: the mode, the context length, the capabilities."""
    found: Entry = dict(entry)
    capabilities = set(payload.get("capabilities") or ())
    if "completion" in capabilities:
        found["mode"] = "chat"
    elif "embedding" in capabilities:
        found["mode"] = "embedding"
    elif capabilities:
        found["_unmapped"] = "capabilities " + ", ".join(sorted(capabilities))
    info = payload.get("model_info") if isinstance(payload.get("model_info"), Mapping) else {}
    architecture = info.get("general.architecture")
    _put(found, "context_window", _number(info.get(f"{architecture}.context_length")) if architecture else None)
    if found.get("mode") == "chat":
        _put(found, "capabilities", sorted(_OLLAMA_CAPABILITIES[c] for c in capabilities if c in _OLLAMA_CAPABILITIES))
    return found
