"""Gemini's ``generationConfig``: which call parameters go inside it (under their camelCase names), shared by the
chat and media requests of the gemini dialect. A GenerateContentRequest refuses any other top-level field
("Unknown name"), so a sampling parameter left at the top level is a 400.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GENERATION", "GENERATION_FIELDS", "generation_field"]

# pepperpy / OpenAI param name -> generationConfig field; camelCase spellings are accepted as they are.
GENERATION = {
    "temperature": "temperature", "top_p": "topP", "top_k": "topK", "max_tokens": "maxOutputTokens",
    "stop": "stopSequences", "seed": "seed", "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty", "candidate_count": "candidateCount",
    "response_mime_type": "responseMimeType", "response_schema": "responseSchema",
    "response_json_schema": "responseJsonSchema", "thinking_config": "thinkingConfig",
    "response_modalities": "responseModalities", "response_logprobs": "responseLogprobs", "logprobs": "logprobs",
}
GENERATION_FIELDS = frozenset(GENERATION.values())


def generation_field(key: str, value: Any) -> tuple[str, Any] | None:
    """(generationConfig field, value) for a call parameter that belongs there, else None.

    >>> generation_field("max_tokens", 100), generation_field("safetySettings", [])
    (('maxOutputTokens', 100), None)
    """
    if key in GENERATION or key in GENERATION_FIELDS:
        return GENERATION.get(key, key), [value] if key == "stop" and isinstance(value, str) else value
    return None

