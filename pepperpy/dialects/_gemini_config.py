"""What the chat and media requests of the gemini dialect share: the model's resource name in the URL
(``model_path``), and ``generationConfig``: which call parameters go inside it (under their camelCase names).
A GenerateContentRequest refuses any other top-level field ("Unknown name"), so a sampling parameter left at the
top level is a 400.
"""

from __future__ import annotations

from typing import Any

from ..http._targets import path_segment
from ..types import ModelSpec

__all__ = ["COLLECTIONS", "GENERATION", "GENERATION_FIELDS", "generation_field", "model_path", "model_resource"]

# Where Gemini keeps models: ``models/NAME`` (Google's) and ``tunedModels/NAME`` (an account's tuned models)
COLLECTIONS = ("models", "tunedModels")
_FIX = ("Gemini model names take the form NAME, models/NAME or tunedModels/NAME, as the provider lists them "
        "(client.models(provider='gemini'))")


def model_path(model: ModelSpec) -> str:
    """The model's resource name as it goes into a request's URL: ``models/NAME`` or ``tunedModels/NAME``, the
    name checked and quoted as one path segment (``http._targets``); ValidationError before anything is sent
    for a name that could redirect the request (``..``, ``?``, a line break...).

    >>> from pepperpy.types import ModelSpec
    >>> model_path(ModelSpec("gemini-2.5-flash", "gemini")), model_path(ModelSpec("tunedModels/t-1", "gemini"))
    ('models/gemini-2.5-flash', 'tunedModels/t-1')
    """
    collection, name = _split(model)
    return f"{collection}/{path_segment(name, shown=model.name, fix=_FIX)}"


def model_resource(model: ModelSpec) -> str:
    """The model's resource name as a request body names it (``models/NAME``, unquoted: JSON carries it as is)."""
    collection, name = _split(model)
    path_segment(name, shown=model.name, fix=_FIX)  # the same name as in the URL, refused the same way
    return f"{collection}/{name}"


def _split(model: ModelSpec) -> tuple[str, str]:
    collection, slash, name = model.wire_name.partition("/")
    if slash and collection in COLLECTIONS:
        return collection, name
    return "models", model.wire_name

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

