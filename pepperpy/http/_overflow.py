"""A provider's context-length error: recognised whatever its wording, and the token counts it states, for
``ContextLengthError.tokens`` / ``.limit``.

Each provider words it differently (verbatim bodies in tests/test_errors_context.py and tests/test_overflow.py;
the numbers are read only where the message or body states them):

- OpenAI, OpenRouter, older vLLM: "This model's maximum context length is 128000 tokens. However, your
  messages resulted in 130000 tokens" / "you requested 9000 tokens (8000 in the messages, 1000 in the
  completion)" (the prompt is the part in the messages);
- vLLM: "... your prompt contains at least 8129 input tokens ..." / "You passed 9000 input tokens ... the
  model's context length is only 8192 tokens" / "max_tokens=... cannot be greater than max_model_len=8192";
- Anthropic: "prompt is too long: 210000 tokens > 200000 maximum", "... exceed context limit: N + M > L";
- Gemini: "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)." (AI
  Studio may leave the count out);
- llama.cpp: type ``exceed_context_size_error``, the body's ``n_prompt_tokens`` and ``n_ctx`` ("request (9412
  tokens) exceeds the available context size (8192 tokens)");
- Ollama: "the input length exceeds the context length" (no numbers), or llama.cpp's body nested as a string;
- OpenRouter: an upstream provider's body in ``error.metadata.raw`` (``_translate`` reads it first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["OVERFLOW_CODES", "context_numbers", "is_overflow"]

OVERFLOW_CODES = frozenset({"context_length_exceeded", "exceed_context_size_error"})  # the latter: llama.cpp

_WORDS = re.compile(
    r"prompt is too long|context[_ ]length|maximum context|context window|context size|too many tokens|"
    r"input token count.*exceeds|exceeds the maximum number of tokens|reduce the length|max_model_len|"
    r"exceeds? context limit", re.I)  # Anthropic: "input length and `max_tokens` exceed context limit"

_N = r"(\d[\d,]*)"
_TOKENS = tuple(re.compile(p, re.I) for p in (
    _N + r" in the messages",                               # OpenAI, older vLLM: the prompt's part of the total
    _N + r" tokens > \d[\d,]* maximum",                     # Anthropic
    _N + r" \+ \d[\d,]* > \d",                              # Anthropic, input + max_tokens
    r"resulted in " + _N + r" tokens",                      # OpenAI
    r"contains (?:at least )?" + _N + r" input tokens",     # vLLM
    r"passed " + _N + r" input tokens",                     # vLLM
    r"input token count \(" + _N + r"\)",                   # Gemini
    r"request \(" + _N + r" tokens\)",                      # llama.cpp
    r"requested (?:about )?" + _N + r" tokens",             # OpenRouter, OpenAI with the completion
))
_LIMIT = tuple(re.compile(p, re.I) for p in (
    r"\d tokens > " + _N + r" maximum",
    r"\+ \d[\d,]* > " + _N,
    r"maximum context length is " + _N,
    r"context length is only " + _N,
    r"tokens allowed \(" + _N + r"\)",
    r"context size \(" + _N + r" tokens\)",
    r"max_model_len=" + _N,
))


def is_overflow(status: int | None, message: str, codes: set[str]) -> bool:
    """Whether an error answer says the prompt (plus max_tokens) does not fit the model's context window."""
    return bool(codes & OVERFLOW_CODES) or (status in (400, 413, 422, None) and bool(_WORDS.search(message)))


def context_numbers(message: str, error: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(prompt tokens, context window) as the provider stated them; None for what it did not say."""
    tokens, limit = error.get("n_prompt_tokens"), error.get("n_ctx")  # llama.cpp says it in fields
    tokens = tokens if _count(tokens) else _first(_TOKENS, message)
    limit = limit if _count(limit) else _first(_LIMIT, message)
    return tokens, limit


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _first(patterns: tuple[re.Pattern[str], ...], message: str) -> int | None:
    for pattern in patterns:
        match = pattern.search(message)
        if match:
            return int(match.group(1).replace(",", ""))
    return None
