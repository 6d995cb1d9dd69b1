"""What provider error texts say, read for the hints pepperpy adds: an input type a model does not take, and a 404
from a doubled base path or from a model Ollama has not pulled (context overflow: ``pepperpy._overflow``).
"""

from __future__ import annotations

import re
import urllib.parse

from .._redact import safe_url

__all__ = ["UNSUPPORTED_INPUT", "doubled_hint", "not_found_hint", "undoubled"]

# A model asked for an input type it does not take (llama.cpp: 500 "image input is not supported - hint: ...
# mmproj"; Ollama: 400 "... does not support tools"; OpenAI: "... is only supported by certain models"). Whatever
# the status, retrying sends the same input again: not retryable.
UNSUPPORTED_INPUT = re.compile(
    r"\b(image|audio|video|vision|file|pdf|multimodal)s?\b[\w ]{0,20}?\b(is|are) not supported"
    r"|does not support (images?|vision|audio|video|tools|multimodal|thinking)"
    r"|is not a multimodal model|only supported by certain models", re.I)


# Ollama's 404 for a model that is not downloaded: 'model "x" not found, try pulling it first'
_PULL = re.compile(r"""model(?:\s+["']?([^"'\s]+)["']?)?\s+not found,?\s+try pulling""", re.I)


def not_found_hint(message: str, model: str | None, url: str, base_url: str) -> str:
    """How to fix a 404: the pull command when the server says to pull the model; the base URL when the path
    looks doubled; else check the model name. The URL requested is always shown."""
    pull = _PULL.search(message)
    if pull:
        return f"; download it with `ollama pull {pull.group(1) or model}`"
    fixed = undoubled(url, base_url)
    if fixed is not None:
        hint = doubled_hint(url, base_url, fixed)
        return f". {hint[0].upper()}{hint[1:]}"
    where = f" (the request went to {safe_url(url)})" if url else ""
    return f". Check the model name {model!r} and the provider's base_url{where}."


def undoubled(url: str, base_url: str) -> str | None:
    """The base URL a doubled path asks for: base ``.../v1/chat/completions`` + ``/chat/completions`` gives
    ``.../v1``; base ``https://api.anthropic.com/v1`` + ``/v1/messages`` gives ``https://api.anthropic.com``."""
    if not url or not base_url or not url.startswith(base_url.rstrip("/") + "/"):
        return None
    base = base_url.rstrip("/")
    tail = [part for part in urllib.parse.urlsplit(base).path.split("/") if part]
    path = [part for part in url[len(base):].split("?", 1)[0].split("/") if part]
    for n in range(min(len(tail), len(path)), 0, -1):
        if tail[-n:] == path[:n]:
            return base[: len(base) - len("/" + "/".join(tail[-n:]))]
    return None


def doubled_hint(url: str, base_url: str, fixed: str) -> str:
    added = url[len(base_url.rstrip("/")):].split("?", 1)[0]
    return (f"the path looks doubled: the request went to {safe_url(url)}. Set the provider's base_url to "
            f"{safe_url(fixed)}: base URLs stop before the API's own path (pepperpy adds {added}), e.g. "
            f"https://api.openai.com/v1, https://api.anthropic.com, "
            f"https://generativelanguage.googleapis.com/v1beta, http://localhost:11434 for Ollama")
