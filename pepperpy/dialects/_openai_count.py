"""Token counting on OpenAI-dialect servers, chosen by the provider's ``count_tokens`` option.

- ``responses`` (OpenAI): ``POST /responses/input_tokens`` takes a Responses API body, not a chat one, so the
  chat messages and tools are converted: system turns become ``instructions``, tool calls ``function_call``
  items and tool results ``function_call_output`` items, tools the flat shape with ``strict`` stated (a
  required key there; chat tools are not strict unless they say so), ``response_format`` ``text.format``.
  Answer: ``{"input_tokens": N}``.
- ``llamacpp`` (llama.cpp server): ``POST /apply-template`` renders the messages with the model's chat
  template (``{"prompt": ...}``), then ``POST /tokenize`` counts that text (``{"tokens": [...]}``). Both live at
  the server's root, not under ``/v1``. Tools are not part of the template, so a prompt with tools is estimated.

Other OpenAI-compatible servers have no counting endpoint: ``count_tokens`` estimates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..http.transport import Request
from .base import Message, text_of

__all__ = ["count_request", "parse_count"]

RESPONSES_PATH = "/responses/input_tokens"
_SYSTEM_ROLES = ("system", "developer")


def count_request(method: Any, model: str, messages: Sequence[Message], params: Mapping[str, Any],
                  base_url: str) -> Request | None:
    """The first counting request for the provider's ``count_tokens`` option; None to estimate."""
    if method == "responses":
        return Request("POST", RESPONSES_PATH, json=responses_body(model, messages, params))
    if method == "llamacpp" and not params.get("tools"):
        root = base_url.rstrip("/").removesuffix("/v1")
        return Request("POST", f"{root}/apply-template", json={"messages": list(messages)})
    return None


def parse_count(payload: Any, base_url: str) -> int | Request:
    """The count, or (llama.cpp) the tokenize request for the rendered template."""
    if "input_tokens" in payload:
        return int(payload["input_tokens"])
    if "prompt" in payload:
        root = base_url.rstrip("/").removesuffix("/v1")
        return Request("POST", f"{root}/tokenize", json={"content": payload["prompt"], "add_special": True})
    return len(payload["tokens"])


def responses_body(model: str, messages: Sequence[Message], params: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses API body with the same input as a chat request."""
    instructions: list[str] = []
    items: list[dict[str, Any]] = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role in _SYSTEM_ROLES:
            instructions.append(text_of(content))
        elif role == "tool":
            items.append({"type": "function_call_output", "call_id": str(message.get("tool_call_id", "")),
                          "output": content if isinstance(content, str) else json.dumps(content)})
        else:
            if content:
                items.append({"role": role, "content": _parts(content, role)})
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                arguments = function.get("arguments")
                items.append({"type": "function_call", "call_id": str(call.get("id", "")),
                              "name": str(function.get("name", "")),
                              "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments)})
    body: dict[str, Any] = {"model": model, "input": items}
    if instructions:
        body["instructions"] = "\n\n".join(instructions)
    tools = [_tool(t) for t in params.get("tools") or ()]
    if tools:
        body["tools"] = tools
    text_format = _text_format(params.get("response_format"))
    if text_format is not None:
        body["text"] = {"format": text_format}
    return body


def _text_format(response_format: Any) -> dict[str, Any] | None:
    """Chat's ``response_format`` as the Responses API's ``text.format`` (flat: no ``json_schema`` wrapper)."""
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema" and isinstance(response_format.get("json_schema"), Mapping):
        return {"type": "json_schema", **response_format["json_schema"]}
    return {"type": "json_object"} if kind == "json_object" else None


def _parts(content: Any, role: Any) -> Any:
    if isinstance(content, str):
        return content
    kind = "output_text" if role == "assistant" else "input_text"
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, Mapping) and part.get("type") == "image_url":
            parts.append({"type": "input_image", "image_url": str((part.get("image_url") or {}).get("url", ""))})
        elif isinstance(part, Mapping):
            parts.append({"type": kind, "text": str(part.get("text", ""))})
    return parts


def _tool(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    """A chat tool ``{type: function, function: {...}}`` in the Responses API's flat shape."""
    function = tool.get("function")
    if tool.get("type") == "function" and isinstance(function, Mapping):  # chat tools are not strict by default
        return {"type": "function", **function, "strict": bool(function.get("strict"))}
    return tool
