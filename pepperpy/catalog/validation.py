"""Checks done before any request: the messages, the params against the model's catalog ranges, and whether
the prompt can fit the model's context window."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..errors import ContextLengthError, ValidationError
from ..types import ModelSpec, ToolCall
from .tokens import MAX_BYTES_PER_TOKEN, min_tokens

__all__ = ["CALL_ARGUMENTS", "CLIENT_OPTIONS", "ROLES", "build_messages", "check_choice", "check_count",
           "check_embed_input", "check_name", "check_params", "check_text", "missing_capability", "near_miss",
           "needed_capabilities"]

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_NUMERIC = ("temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty", "seed")


def build_messages(prompt: str | None, messages: Sequence[Mapping[str, Any]] | None,
                   system: str | None) -> list[dict[str, Any]]:
    """OpenAI-shaped messages: ``system`` first, then ``messages``, then ``prompt`` as the last user turn."""
    if prompt is not None and not isinstance(prompt, str):
        raise ValidationError(f"prompt must be a string, not {type(prompt).__name__}; pass a list of chat "
                              f"turns as messages=[...]", param="prompt", value=type(prompt).__name__)
    if system is not None and not isinstance(system, str):
        raise ValidationError("system must be a string", param="system", value=type(system).__name__)
    if messages is not None and not isinstance(messages, (list, tuple)):
        raise ValidationError(f"messages must be a list of {{'role': ..., 'content': ...}} dicts, not "
                              f"{type(messages).__name__}; pass a single text as the prompt", param="messages",
                              value=type(messages).__name__)
    result: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for i, message in enumerate(messages or ()):
        if not isinstance(message, Mapping) or "role" not in message:
            raise ValidationError(f"messages[{i}] must be a mapping with 'role' and 'content', like "
                                  f"{{'role': 'user', 'content': 'Hi'}}", param=f"messages[{i}]", value=message)
        if message["role"] not in ROLES:
            raise ValidationError(f"messages[{i}] has role {message['role']!r}; use one of {sorted(ROLES)}",
                                  param=f"messages[{i}].role", value=message["role"])
        result.append(_plain_message(message))
    if prompt is not None:
        result.append({"role": "user", "content": prompt})
    if not any(m["role"] != "system" for m in result):
        raise ValidationError("nothing to answer: pass a prompt or messages=[{'role': 'user', 'content': ...}]",
                              param="prompt", value=None)
    return result


def _plain_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the message with ToolCall objects (from ``r.tool_calls``) as the OpenAI-shaped dicts every
    dialect reads, arguments JSON-encoded."""
    out = dict(message)
    calls = out.get("tool_calls")
    if calls and any(isinstance(call, ToolCall) for call in calls):
        out["tool_calls"] = [call.to_message() if isinstance(call, ToolCall) else call for call in calls]
    return out


def check_context(model: ModelSpec, messages: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a prompt that certainly cannot fit the model's context window, before anything is sent.

    The size is a lower bound (``pepperpy.tokens.min_tokens``), so a prompt that might fit is always sent
    and the provider decides.
    """
    limit = model.context_window
    if not limit:
        return
    characters = 0
    for message in messages:  # the common case, plain text turns, bounded without min_tokens' walk
        content = message.get("content")
        if not isinstance(content, str) or "tool_calls" in message:
            break
        characters += len(content)
    else:
        if characters * 4 <= limit * MAX_BYTES_PER_TOKEN:  # at most 4 bytes a character: cannot pass
            return
    tokens = min_tokens(messages, above=limit)
    if tokens > limit:
        raise ContextLengthError(
            f"the prompt is at least {tokens:,} tokens (counted from its size, before sending), over the "
            f"{limit:,}-token context window of {model.name}; shorten it, or pick a model with a larger "
            f"context_window (client.models())", provider=model.provider, model=model.id, tokens=tokens,
            limit=limit)


_IMAGE_PARTS = frozenset({"image_url", "image", "input_image"})
_AUDIO_PARTS = frozenset({"input_audio", "audio"})


def needed_capabilities(messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> list[str]:
    """The catalog capabilities a request needs: ``tools`` when it sends tools, ``vision`` for image parts,
    ``audio`` for audio parts (read from the built, OpenAI-shaped messages and params)."""
    needed = ["tools"] if params.get("tools") or params.get("functions") else []
    kinds = {part.get("type") for message in messages if isinstance(message.get("content"), list)
             for part in message["content"] if isinstance(part, Mapping)}
    if kinds & _IMAGE_PARTS:
        needed.append("vision")
    if kinds & _AUDIO_PARTS:
        needed.append("audio")
    return needed


def missing_capability(model: ModelSpec, messages: Sequence[Mapping[str, Any]],
                       params: Mapping[str, Any]) -> str | None:
    """The first capability the request needs that the model's catalog entry does not list; None when it lists
    them all, or lists none at all (an open model, or a user entry that says nothing: the provider decides)."""
    if model.open or not model.capabilities:
        return None
    if "tools" not in params and "functions" not in params and all(
            type(message.get("content")) is str for message in messages):
        return None  # plain text turns, no tools: the common call needs nothing (a cache hit is ~15 µs)
    return next((c for c in needed_capabilities(messages, params) if c not in model.capabilities), None)


# Per-call arguments other libraries take that are Client settings here: refused, never sent to the provider
# (an api_key in a JSON body would travel in clear to wherever the body is logged).
CLIENT_OPTIONS = {
    "api_key": "pass keys as Client(api_keys={'<provider>': ...}) or set the provider's key variable",
    "api_base": "set the provider's base_url: Client(providers={'<provider>': {'base_url': ...}})",
    "base_url": "set the provider's base_url: Client(providers={'<provider>': {'base_url': ...}})",
    "timeout": "set it on the Client: Client(timeout=...) or Client(total_timeout=...)",
    "max_retries": "set it on the Client: Client(max_retries=...)",
    "stream": "call client.stream(...) for a stream",
    "extra_headers": "set static headers per provider: Client(providers={'<provider>': {'headers': {...}}})",
}


# pepperpy's own call arguments (complete, stream, run, embed, create_provider): names a typo may be close to
CALL_ARGUMENTS = frozenset({"prompt", "model", "messages", "system", "temperature", "max_tokens", "top_p", "stop",
                            "fallbacks", "cache", "response_format", "tools", "repair_rounds", "max_turns",
                            "raise_tool_errors", "input"})


def check_params(model: ModelSpec, params: dict[str, Any], known: Collection[str] = ()) -> dict[str, Any]:
    """Drop None values and check each param against the model's ranges; returns the params to send.

    ``known`` are the params the dialect knows (``Dialect.params``). A name nobody knows passes through to the
    provider, unless it is a near miss of a known one (``temprature``): ValidationError with the suggestion.
    """
    checked: dict[str, Any] = {}
    ranges = model.params
    for name, value in params.items():
        if value is None:
            continue
        if name in CLIENT_OPTIONS:
            raise ValidationError(f"{name} is not a request parameter in pepperpy: {CLIENT_OPTIONS[name]}",
                                  param=name, value=type(value).__name__)  # never the value: it may be a key
        allowed = ranges.get(name)
        if allowed is None and name not in known and name not in CALL_ARGUMENTS:
            check_name(name, [*ranges, *known, *CALL_ARGUMENTS, *CLIENT_OPTIONS], model.name)
        if allowed is not None and not allowed.supported:
            raise ValidationError(f"{model.name} does not accept {name}; remove it from the call",
                                  param=name, value=value)
        if name == "max_tokens":
            _check_max_tokens(model, value)
        elif name == "stop":
            value = _check_stop(value)
        elif name in _NUMERIC or (allowed is not None and (allowed.min is not None or allowed.max is not None)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValidationError(f"{name} must be a number, not {value!r}", param=name, value=value)
        if allowed is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            low = allowed.min if allowed.min is not None else float("-inf")
            high = allowed.max if allowed.max is not None else float("inf")
            if not low <= value <= high:
                raise ValidationError(f"{name}={value!r} is out of range for {model.name}: allowed "
                                      f"{_fmt(allowed.min)}..{_fmt(allowed.max)}", param=name, value=value)
        checked[name] = value
    return checked


def check_name(name: str, known: Collection[str], where: str) -> None:
    """ValidationError when ``name`` is not in ``known`` but a near miss of a name that is (``near_miss``)."""
    best = near_miss(name, known)
    if best is not None:
        raise ValidationError(f"{name!r} is not a parameter of {where}; did you mean {best!r}? (a name pepperpy "
                              f"does not know is passed on as it is, but this one looks like a typo)",
                              param=name, value=None)


def near_miss(name: str, known: Collection[str]) -> str | None:
    """The name of ``known`` that ``name`` is one typo away from (a letter missing, added, changed or two
    swapped; two such edits for names longer than five letters; case, ``-`` and ``_`` aside), or None when it
    is one of them, or near none."""
    if name in known or len(name) < 4:
        return None
    allowed = 1 if len(name) <= 5 else 2
    plain = _plain(name)
    best = min(((_distance(plain, _plain(k)), k) for k in set(known) if len(k) >= 3), default=None)
    return best[1] if best is not None and best[0] <= allowed else None


def _plain(name: str) -> str:
    return name.lower().replace("-", "_")


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbours as one edit (optimal string alignment)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            row.append(value)
        previous2, previous = previous, row
    return previous[-1]


def _check_max_tokens(model: ModelSpec, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"max_tokens must be a positive integer, not {value!r}", param="max_tokens",
                              value=value)
    limit = model.max_output_tokens
    if limit is not None and value > limit:
        raise ValidationError(f"max_tokens={value} is out of range for {model.name}: allowed 1..{limit} "
                              f"(its max_output_tokens)", param="max_tokens", value=value)


def _check_stop(value: Any) -> list[str]:
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, (list, tuple)) or not all(isinstance(s, str) and s for s in stops):
        raise ValidationError(f"stop must be a string or a list of non-empty strings, not {value!r}",
                              param="stop", value=value)
    return list(stops)


def check_embed_input(texts: str | Sequence[str]) -> list[str]:
    items = [texts] if isinstance(texts, str) else texts
    if not isinstance(items, (list, tuple)) or not items or not all(isinstance(t, str) for t in items):
        raise ValidationError("embed() takes a string or a non-empty list of strings", param="input",
                              value=type(texts).__name__)
    return list(items)


def _fmt(value: float | None) -> str:
    if value is None:
        return "∞"
    return str(int(value)) if float(value).is_integer() else str(value)


def check_text(value: Any, param: str) -> str:
    """A non-empty string (a media prompt, the text to speak)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{param} must be a non-empty string, not {value!r}", param=param,
                              value=type(value).__name__)
    return value


def check_count(value: Any, param: str = "n") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{param} must be a whole number of at least 1, not {value!r}", param=param, value=value)
    return value


def check_choice(model: ModelSpec, param: str, value: Any, allowed: Sequence[str]) -> None:
    """Refuse a value outside the ones the model's catalog entry fixes (``voices``, ``sizes``, ``formats``...),
    naming them all, before anything is sent or uploaded. An empty list fixes nothing, but the value must still
    be a string (a voice may also be a provider's custom-voice object, ``{"id": "voice_..."}``)."""
    if value is None or (param == "voice" and isinstance(value, Mapping)):
        return
    if not isinstance(value, str):
        example = f" such as {allowed[0]!r}" if allowed else ""
        raise ValidationError(f"{param} must be a string{example}, not {value!r}", param=param,
                              value=type(value).__name__)
    if not allowed:
        return
    if value not in allowed:
        close = [a for a in allowed if a.lower() == value.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValidationError(f"{param}={value!r} is not available for {model.name}{hint}; allowed: "
                              f"{', '.join(allowed)}", param=param, value=value)
