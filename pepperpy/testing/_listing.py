"""The fakes' model listings, in each provider's own format and paging, and Ollama's ``/api/show``.

A fake's ``models`` are names, or entries in catalog terms (what a catalog file would say)::

    server.models = ["fake-chat", {"id": "big-1", "context_window": 200000, "max_output_tokens": 8192,
                                   "pricing": {"input": 3.0, "output": 15.0}, "capabilities": ["vision"]}]

and each listing renders them natively: OpenAI-compatible ``/models`` (OpenRouter's ``context_length``,
``top_provider``, per-token ``pricing`` strings, ``architecture`` and ``supported_parameters`` when an entry has
figures), Anthropic ``/v1/models`` (``limit``/``after_id`` pages with ``has_more``, ``max_input_tokens``,
``max_tokens``, ``capabilities``), Gemini ``/models`` (``pageSize``/``pageToken`` pages, token limits,
``supportedGenerationMethods``) and Ollama ``/api/tags`` + ``/api/show`` (``model_info`` context length,
``capabilities``). ``page_size`` caps every page (None: each provider's own default and maximum), so tests
see paging with a handful of models. A plain name keeps the figures these listings always had.
Only stdlib: the server imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["ListingModel", "render_listing", "render_show"]

ListingModel = str | Mapping[str, Any]
_PAGES = {"anthropic": ("limit", 20, 1000), "gemini": ("pageSize", 50, 1000)}  # query, default, maximum
_INPUTS = {"vision": "image", "pdf": "file", "audio": "audio"}
_PARAMETERS = {"tools": ["tools", "tool_choice"], "json_output": ["response_format", "structured_outputs"],
               "reasoning": ["reasoning"]}
_GEMINI_METHODS = {"chat": ["generateContent", "countTokens"], "embedding": ["embedContent", "batchEmbedContents"],
                   "image": ["predict"], "video": ["predictLongRunning"]}
_OLLAMA = {"tools": "tools", "vision": "vision", "reasoning": "thinking"}


def _entries(models: Sequence[ListingModel]) -> list[dict[str, Any]]:
    return [{"id": m} if isinstance(m, str) else dict(m) for m in models]


def _per_token(price: Any) -> str:
    """USD per 1M tokens as OpenRouter writes it: a string per token."""
    return format((Decimal(str(price)) / 1_000_000).normalize(), "f")


def render_listing(dialect: str, models: Sequence[ListingModel], query: Mapping[str, str], page_size: int | None,
                   created: int) -> tuple[int, Any]:
    """(status, body) of one listing page for ``dialect`` (openai, anthropic, gemini or ollama)."""
    entries = _entries(models)
    if dialect in _PAGES:
        name, default, maximum = _PAGES[dialect]
        try:
            size = min(max(int(query.get(name) or default), 1), maximum)
        except ValueError:
            return 400, {"error": {"message": f"{name} must be a number", "code": 400}}
        if page_size:
            size = min(size, page_size)
        return (200, _anthropic(entries, query, size) if dialect == "anthropic" else _gemini(entries, query, size))
    if dialect == "ollama":
        return 200, {"models": [_ollama_tag(e, created) for e in entries]}
    return 200, {"object": "list", "data": [_openai(e, created) for e in entries]}


def render_show(models: Sequence[ListingModel], body: Any) -> tuple[int, Any]:
    """(status, body) of Ollama's ``POST /api/show {"model": name}``."""
    name = str(body.get("model") or body.get("name") or "") if isinstance(body, Mapping) else ""
    for entry in _entries(models):
        if name in (entry["id"], _ollama_name(entry["id"])):
            return 200, _ollama_show(entry)
    return 404, {"error": f"model '{name}' not found"}


def _openai(entry: Mapping[str, Any], created: int) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry["id"], "object": "model", "created": created, "owned_by": "fake"}
    figures = {k: entry[k] for k in ("context_window", "max_output_tokens", "pricing", "capabilities") if k in entry}
    if not figures:
        return item  # OpenAI itself: ids only
    context = entry.get("context_window")
    capabilities = entry.get("capabilities") or ()
    item["context_length"] = context
    item["top_provider"] = {"context_length": context, "max_completion_tokens": entry.get("max_output_tokens"),
                            "is_moderated": False}
    pricing = entry.get("pricing")
    if pricing:
        item["pricing"] = {"prompt": _per_token(pricing.get("input", 0)),
                           "completion": _per_token(pricing.get("output", 0)), "request": "0", "image": "0"}
        if "cached_input" in pricing:
            item["pricing"]["input_cache_read"] = _per_token(pricing["cached_input"])
    item["architecture"] = {"input_modalities": ["text", *(_INPUTS[c] for c in capabilities if c in _INPUTS)],
                            "output_modalities": ["text"], "tokenizer": "Other", "instruct_type": None}
    item["supported_parameters"] = ["max_tokens", "temperature",
                                    *(p for c in capabilities for p in _PARAMETERS.get(c, ()))]
    return item


def _anthropic(entries: list[dict[str, Any]], query: Mapping[str, str], size: int) -> dict[str, Any]:
    after = query.get("after_id")
    start = next((i + 1 for i, e in enumerate(entries) if e["id"] == after), len(entries)) if after else 0
    page = entries[start:start + size]
    data = []
    for entry in page:
        item: dict[str, Any] = {"type": "model", "id": entry["id"], "display_name": entry["id"],
                                "created_at": "2025-01-01T00:00:00Z"}
        if len(entry) > 1:
            capabilities = entry.get("capabilities") or ()
            item["max_input_tokens"] = entry.get("context_window")
            item["max_tokens"] = entry.get("max_output_tokens")
            item["capabilities"] = {
                "image_input": {"supported": "vision" in capabilities},
                "pdf_input": {"supported": "pdf" in capabilities},
                "thinking": {"supported": "reasoning" in capabilities, "types": {}},
                "structured_outputs": {"supported": "json_output" in capabilities}, "batch": {"supported": True}}
        data.append(item)
    return {"data": data, "has_more": start + size < len(entries),
            "first_id": page[0]["id"] if page else None, "last_id": page[-1]["id"] if page else None}


def _gemini(entries: list[dict[str, Any]], query: Mapping[str, str], size: int) -> dict[str, Any]:
    token = query.get("pageToken") or ""
    start = int(token.removeprefix("fake-page-")) if token.startswith("fake-page-") and token[10:].isdigit() else 0
    models = []
    for entry in entries[start:start + size]:
        context: int | None
        output: int | None
        if len(entry) == 1:  # a plain name: the figures this listing always had
            methods, context, output = ["generateContent", "countTokens", "embedContent"], 1048576, 8192
        else:
            methods = _GEMINI_METHODS.get(entry.get("mode", "chat"), [])
            context, output = entry.get("context_window"), entry.get("max_output_tokens")
        item = {"name": f"models/{entry['id']}", "version": "001", "displayName": entry["id"],
                "inputTokenLimit": context, "outputTokenLimit": output, "supportedGenerationMethods": methods}
        if "reasoning" in (entry.get("capabilities") or ()):
            item["thinking"] = True
        models.append({k: v for k, v in item.items() if v is not None})
    body: dict[str, Any] = {"models": models}
    if start + size < len(entries):
        body["nextPageToken"] = f"fake-page-{start + size}"
    return body


def _ollama_name(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


def _ollama_tag(entry: Mapping[str, Any], created: int) -> dict[str, Any]:
    import datetime

    name = _ollama_name(entry["id"])
    stamp = datetime.datetime.fromtimestamp(created, datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    return {"name": name, "model": name, "modified_at": stamp, "size": 1_000_000, "digest": "0" * 64,
            "details": {"format": "gguf", "family": "fake", "parameter_size": "1B", "quantization_level": "Q4_0"}}


def _ollama_show(entry: Mapping[str, Any]) -> dict[str, Any]:
    mode = entry.get("mode", "chat")
    capabilities = {"chat": ["completion"], "embedding": ["embedding"], "image": ["image"]}.get(mode, [])
    capabilities += [_OLLAMA[c] for c in entry.get("capabilities") or () if c in _OLLAMA]
    context = entry.get("context_window", 8192 if len(entry) == 1 else None)
    info: dict[str, Any] = {"general.architecture": "fake", "general.parameter_count": 1_000_000_000}
    if context is not None:
        info["fake.context_length"] = context
    return {"modelfile": f"FROM {entry['id']}", "parameters": "", "template": "{{ .Prompt }}",
            "details": {"format": "gguf", "family": "fake", "parameter_size": "1B", "quantization_level": "Q4_0"},
            "model_info": info, "capabilities": capabilities, "modified_at": "2025-01-01T00:00:00Z"}
