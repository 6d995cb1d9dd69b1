"""The token counts a provider's context-length error states, for ``ContextLengthError.tokens`` / ``.limit``.

Each provider words it differently (wording from their error bodies; the numbers are read only where the
message or body states them):

- OpenAI, OpenRouter, older vLLM: "This model's maximum context length is 128000 tokens. However, your
  messages resulted in 130000 tokens" / "you requested 130000 tokens (...)";
- vLLM: "... your prompt contains at least 8129 input tokens ..." / "You passed 9000 input tokens ... the
  model's context length is only 8192 tokens";
- Anthropic: "prompt is too long: 210000 tokens > 200000 maximum";
- Gemini: "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)." (AI
  Studio may leave the count out);
- llama.cpp: the body's ``n_prompt_tokens`` and ``n_ctx`` ("request (9412 tokens) exceeds the available
  context size (8192 tokens)").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["context_numbers"]

_TOKENS = (
    re.compile(r"(\d+) tokens > \d+ maximum"),                           # Anthropic
    re.compile(r"(\d+) \+ \d+ > \d+"),                                   # Anthropic, input + max_tokens
    re.compile(r"resulted in (\d+) tokens"),                             # OpenAI
    re.compile(r"requested (?:about )?(\d+) tokens"),                    # OpenAI (with the completion), OpenRouter
    re.compile(r"contains (?:at least )?(\d+) input tokens"),            # vLLM
    re.compile(r"passed (\d+) input tokens"),                            # vLLM
    re.compile(r"input token count \((\d+)\)", re.I),                    # Gemini
    re.compile(r"request \((\d+) tokens\)"),                             # llama.cpp
)
_LIMIT = (
    re.compile(r"\d+ tokens > (\d+) maximum"),
    re.compile(r"\d+ \+ \d+ > (\d+)"),
    re.compile(r"maximum context length is (\d+)"),
    re.compile(r"context length is only (\d+)"),
    re.compile(r"tokens allowed \((\d+)\)"),
    re.compile(r"context size \((\d+) tokens\)"),
)


def context_numbers(message: str, error: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(prompt tokens, context window) as the provider stated them; None for what it did not say."""
    tokens, limit = error.get("n_prompt_tokens"), error.get("n_ctx")  # llama.cpp says it in fields
    tokens = tokens if isinstance(tokens, int) else _first(_TOKENS, message)
    limit = limit if isinstance(limit, int) else _first(_LIMIT, message)
    return tokens, limit


def _first(patterns: tuple[re.Pattern[str], ...], message: str) -> int | None:
    for pattern in patterns:
        match = pattern.search(message)
        if match:
            return int(match.group(1))
    return None
