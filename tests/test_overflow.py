"""ContextLengthError.tokens / .limit from the providers' own context-length errors (their wording)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import pepperpy
from pepperpy.http._translate import from_response

CASES = [
    ("openai", 400, {"error": {"message": "This model's maximum context length is 128000 tokens. However, your "
                                          "messages resulted in 130000 tokens. Please reduce the length of the "
                                          "messages.", "type": "invalid_request_error", "param": "messages",
                               "code": "context_length_exceeded"}}, 130000, 128000),
    ("vllm", 400, {"error": {"message": "This model's maximum context length is 8192 tokens. However, you requested "
                                        "64 output tokens and your prompt contains at least 8129 input tokens, for a "
                                        "total of at least 8193 tokens. Please reduce the length of the input prompt "
                                        "or the number of requested output tokens.", "type": "BadRequestError",
                             "code": 400}}, 8129, 8192),
    ("vllm", 400, {"error": {"message": "You passed 9000 input tokens and requested 100 output tokens. However, the "
                                        "model's context length is only 8192 tokens, resulting in a maximum input "
                                        "length of 8092 tokens. Please reduce the length of the input prompt.",
                             "type": "BadRequestError", "code": 400}}, 9000, 8192),
    ("anthropic", 400, {"type": "error", "error": {"type": "invalid_request_error",
                                                   "message": "prompt is too long: 210000 tokens > 200000 maximum"}},
     210000, 200000),
    ("gemini", 400, {"error": {"code": 400, "message": "The input token count (1200000) exceeds the maximum number "
                                                       "of tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}},
     1200000, 1048576),
    ("gemini", 400, {"error": {"code": 400, "message": "The input token count exceeds the maximum number of tokens "
                                                       "allowed (1048576).", "status": "INVALID_ARGUMENT"}},
     None, 1048576),
    ("llamacpp", 400, {"error": {"code": 400, "message": "request (9412 tokens) exceeds the available context size "
                                                         "(8192 tokens), try increasing it",
                                 "type": "exceed_context_size_error", "n_prompt_tokens": 9412, "n_ctx": 8192}},
     9412, 8192),
]


@pytest.mark.parametrize(("provider", "status", "body", "tokens", "limit"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_the_numbers_a_provider_states(provider: str, status: int, body: Any, tokens: int | None,
                                       limit: int | None) -> None:
    error = from_response(status, json.dumps(body).encode(), {}, provider=provider, model="m")
    assert isinstance(error, pepperpy.ContextLengthError)
    assert (error.tokens, error.limit) == (tokens, limit)


def test_other_errors_have_no_numbers() -> None:
    error = from_response(400, b'{"error": {"message": "bad temperature", "code": "invalid_value"}}', {},
                          provider="openai", model="m")
    assert not isinstance(error, pepperpy.ContextLengthError)
