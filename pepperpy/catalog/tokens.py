"""Token counts without a tokenizer: the estimate ``count_tokens`` gives where a provider has no counting
endpoint, and the lower bound of the pre-flight context check.

Both measure the text a request carries: message contents (text parts, tool-call arguments, tool results),
and for the estimate also the tool definitions and the response schema.

- **The estimate** (`estimate_tokens`, returned with ``exact=False``): ``ceil(UTF-8 bytes / 4)`` (OpenAI's rule
  of thumb of about 4 characters of English per token; CJK text, at 3 bytes a character, comes out near
  one token per character, as real tokenizers give), plus 4 tokens of framing per message and
  `IMAGE_TOKENS` per image. Expect it within ±30% for prose; code and JSON usually take more tokens.
- **The lower bound** (`min_tokens`, used before sending): the text with every run of whitespace and every
  run of three or more of one character collapsed to a single character, then ``ceil(bytes / 16)``. No tokenizer in
  use (o200k, cl100k, Llama 3, Gemma, Claude's) packs more than about 16 bytes of such text into a token,
  while prose averages 4 to 5, so a request is refused before sending only when it is certainly too long
  (about 3 times over its context window for prose). Images, tools and schemas count zero here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["BYTES_PER_TOKEN", "IMAGE_TOKENS", "MAX_BYTES_PER_TOKEN", "MESSAGE_TOKENS", "estimate_tokens",
           "min_tokens"]

BYTES_PER_TOKEN = 4        # the estimate: ~4 characters of English per token
MAX_BYTES_PER_TOKEN = 16   # the lower bound: no common tokenizer packs more text into one token
MESSAGE_TOKENS = 4         # role markers and separators around each message, in the estimate
IMAGE_TOKENS = 1000        # one image, in the estimate (providers charge ~250 to ~1,600 by size)

_SPACES = r"\s{2,}"  # a run of whitespace: one token on most tokenizers (compiled by re when first used)
_REPEATS = r"(?s)(.)\1{2,}"  # 3 or more of one character ("=====", "....")


def estimate_tokens(messages: Sequence[Mapping[str, Any]], *, tools: Sequence[Any] | None = None,
                    schema: Any = None) -> int:
    """The estimated prompt size in tokens (see the module docstring for the rule)."""
    size = sum(len(text.encode("utf-8")) for text in _texts(messages))
    for extra in (tools, schema):
        if extra:
            size += len(json.dumps(extra, default=str).encode("utf-8"))
    return (math.ceil(size / BYTES_PER_TOKEN) + MESSAGE_TOKENS * len(messages)
            + IMAGE_TOKENS * _count_images(messages))


def min_tokens(messages: Sequence[Mapping[str, Any]], *, above: int | None = None) -> int:
    """A size in tokens the prompt certainly reaches on any tokenizer (see the module docstring).

    With ``above``, a prompt too short to pass it is not measured and 0 is returned: its characters (at most
    4 bytes each), then its bytes, bound the result from above, so the runs are only collapsed (the slow part,
    ~100 ms a MB) for a prompt that may be refused.
    """
    texts = list(_texts(messages))
    if above is not None:
        if math.ceil(sum(len(t) for t in texts) * 4 / MAX_BYTES_PER_TOKEN) <= above:
            return 0
        if math.ceil(sum(len(t.encode("utf-8")) for t in texts) / MAX_BYTES_PER_TOKEN) <= above:
            return 0
    size = sum(len(re.sub(_REPEATS, r"\1", re.sub(_SPACES, " ", text)).encode("utf-8")) for text in texts)
    return math.ceil(size / MAX_BYTES_PER_TOKEN)


def _texts(messages: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    for message in messages:
        yield from _content_texts(message.get("content"))
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                yield str(function.get("name", ""))
                arguments = function.get("arguments")
                yield arguments if isinstance(arguments, str) else json.dumps(arguments, default=str)
            elif hasattr(call, "name"):  # a ToolCall object
                yield str(call.name)
                yield json.dumps(dict(call.arguments), default=str)


def _content_texts(content: Any) -> Iterator[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, Sequence):
        for part in content:
            if isinstance(part, str):
                yield part
            elif isinstance(part, Mapping):
                for key in ("text", "content", "thinking"):  # text parts, tool_result blocks, thinking blocks
                    value = part.get(key)
                    if isinstance(value, str):
                        yield value
                    elif key == "content" and isinstance(value, Sequence):
                        yield from _content_texts(value)
                if isinstance(part.get("input"), Mapping):  # an Anthropic tool_use block
                    yield json.dumps(part["input"], default=str)


def _count_images(messages: Sequence[Mapping[str, Any]]) -> int:
    count = 0
    for message in messages:
        count += len(message.get("images") or ())  # Ollama's own shape
        content = message.get("content")
        if isinstance(content, Sequence) and not isinstance(content, str):
            count += sum(1 for part in content if isinstance(part, Mapping) and (
                part.get("type") in ("image_url", "image", "input_image") or "inlineData" in part))
    return count
