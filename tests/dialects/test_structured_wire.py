"""Structured output and token counting in each dialect's own shape: pure request/response tests."""

from __future__ import annotations

import json
from typing import Any

from pepperpy.dialects import anthropic, gemini, ollama, openai
from pepperpy.dialects._openai_count import responses_body
from pepperpy.dialects._structured import ANSWER_TOOL, anthropic_schema
from pepperpy.http.transport import Request, iter_sse
from pepperpy.tools.structured import ResponseFormat
from pepperpy.types import ModelSpec, ProviderSpec

SCHEMA = {"type": "object", "properties": {"name": {"type": "string", "pattern": "^[A-Z]"},
                                           "age": {"type": "integer", "minimum": 0, "maximum": 150},
                                           "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2}},
          "required": ["name"]}
FORMAT = ResponseFormat.of(SCHEMA).wire()  # type: ignore[union-attr]
USER = [{"role": "user", "content": "Who?"}]


def spec(dialect: str, *caps: str, **options: Any) -> tuple[ProviderSpec, ModelSpec]:
    provider = ProviderSpec(name=dialect, dialect=dialect, base_url="http://x", options=options)
    return provider, ModelSpec(id="m", provider=dialect, capabilities=frozenset(caps))


def test_anthropic_schema_keeps_what_the_api_takes_and_describes_the_rest() -> None:
    assert anthropic_schema(SCHEMA) == {
        "type": "object", "additionalProperties": False, "required": ["name"],
        "properties": {
            "name": {"type": "string", "description": "{pattern: ^[A-Z]}"},
            "age": {"type": "integer", "description": "{minimum: 0, maximum: 150}"},
            "tags": {"type": "array", "items": {"type": "string"}, "description": "{minItems: 2}"},
        }}
    union = {"oneOf": [{"type": "string", "format": "email"}, {"type": "null"}], "description": "Mail", "default": None}
    assert anthropic_schema(union) == {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}],
                                       "description": "Mail"}
    assert anthropic_schema({"type": ["string", "null"]}) == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert anthropic_schema({"$ref": "#/$defs/A", "description": "x"}) == {"$ref": "#/$defs/A"}


def test_each_dialect_sends_its_own_structured_output_mechanism() -> None:
    strict = FORMAT["json_schema"]["schema"]
    provider, model = spec("openai")
    body = openai.DIALECT.build_chat(provider, model, USER, {"response_format": FORMAT}, stream=False).json
    assert body["response_format"] == FORMAT and FORMAT["json_schema"]["strict"] is True
    provider, model = spec("anthropic", "tools", "json_output")
    body = anthropic.DIALECT.build_chat(provider, model, USER, {"response_format": FORMAT}, stream=False).json
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": anthropic_schema(strict)}}
    assert "tools" not in body
    provider, model = spec("gemini")
    body = gemini.DIALECT.build_chat(provider, model, USER, {"response_format": FORMAT}, stream=False).json
    assert body["generationConfig"] == {"responseMimeType": "application/json", "responseJsonSchema": strict}
    provider, model = spec("ollama")
    body = ollama.DIALECT.build_chat(provider, model, USER, {"response_format": FORMAT}, stream=False).json
    assert body["format"] == strict


def test_anthropic_without_json_output_answers_through_a_forced_tool() -> None:
    provider, model = spec("anthropic", "tools")
    weather = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}
    body = anthropic.DIALECT.build_chat(provider, model, USER, {"response_format": FORMAT, "tools": [weather]},
                                        stream=False).json
    assert "output_config" not in body
    assert [t["name"] for t in body["tools"]] == ["weather", ANSWER_TOOL]
    assert body["tools"][1]["input_schema"] == anthropic_schema(FORMAT["json_schema"]["schema"])
    assert body["tool_choice"] == {"type": "tool", "name": ANSWER_TOOL}
    provider, model = spec("anthropic", "tools", "json_output", structured_output="tool")  # the option wins
    body = anthropic.DIALECT.build_chat(provider, model, USER, {"response_format": FORMAT}, stream=False).json
    assert body["tool_choice"] == {"type": "tool", "name": ANSWER_TOOL}

    answer = {"id": "msg_1", "type": "message", "role": "assistant", "stop_reason": "tool_use",
              "content": [{"type": "tool_use", "id": "toolu_1", "name": ANSWER_TOOL, "input": {"name": "Ann"}}],
              "usage": {"input_tokens": 5, "output_tokens": 3}}
    r = anthropic.DIALECT.parse_chat(answer, model)
    assert (json.loads(r.text), r.tool_calls, r.finish_reason) == ({"name": "Ann"}, (), "stop")


def test_anthropic_streams_the_answer_tool_input_as_text() -> None:
    _, model = spec("anthropic", "tools")
    events = [
        ("message_start", {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 5}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "tool_use", "id": "t", "name": ANSWER_TOOL, "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "input_json_delta", "partial_json": '{"name": '}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "input_json_delta", "partial_json": '"Ann"}'}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                           "usage": {"output_tokens": 4}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    raw = b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)
    parser = anthropic.DIALECT.stream_parser(model)
    chunks = [c for c in (parser.feed(e, d) for e, d in iter_sse([raw])) if c is not None]
    assert "".join(c.text for c in chunks) == '{"name": "Ann"}'
    assert chunks[-1].finish_reason == "stop" and chunks[-1].tool_calls == ()


def test_count_requests_per_dialect() -> None:
    system = [{"role": "system", "content": "Be brief."}, *USER]
    tools = [{"type": "function", "function": {"name": "f", "description": "Find", "parameters": {"type": "object"}}}]
    provider, model = spec("anthropic")
    request = anthropic.DIALECT.build_count(provider, model, system, {"tools": tools, "max_tokens": 9}, "http://x")
    assert request == Request("POST", "/v1/messages/count_tokens", json={
        "model": "m", "messages": [{"role": "user", "content": "Who?"}], "system": "Be brief.",
        "tools": [{"name": "f", "input_schema": {"type": "object"}, "description": "Find"}]})
    assert anthropic.DIALECT.parse_count({"input_tokens": 12}, model, "http://x") == 12

    provider, model = spec("gemini")
    plain = gemini.DIALECT.build_count(provider, model, USER, {}, "http://x")
    assert plain == Request("POST", "/models/m:countTokens",
                            json={"contents": [{"role": "user", "parts": [{"text": "Who?"}]}]})
    wrapped = gemini.DIALECT.build_count(provider, model, system, {"tools": tools}, "http://x")
    assert wrapped is not None
    assert wrapped.json["generateContentRequest"]["model"] == "models/m"
    assert wrapped.json["generateContentRequest"]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert gemini.DIALECT.parse_count({"totalTokens": 7}, model, "http://x") == 7

    provider, model = spec("openai", count_tokens="responses")
    request = openai.DIALECT.build_count(provider, model, system, {"tools": tools}, "http://x/v1")
    assert request is not None and request.path == "/responses/input_tokens"
    assert openai.DIALECT.parse_count({"object": "response.input_tokens", "input_tokens": 3}, model, "") == 3

    provider, model = spec("openai", count_tokens="llamacpp")
    first = openai.DIALECT.build_count(provider, model, USER, {}, "http://h:8080/v1")
    assert first == Request("POST", "http://h:8080/apply-template", json={"messages": USER})
    second = openai.DIALECT.parse_count({"prompt": "<user>Who?"}, model, "http://h:8080/v1")
    assert second == Request("POST", "http://h:8080/tokenize", json={"content": "<user>Who?", "add_special": True})
    assert openai.DIALECT.parse_count({"tokens": [1, 2, 3]}, model, "http://h:8080/v1") == 3
    assert openai.DIALECT.build_count(provider, model, USER, {"tools": tools}, "http://h:8080/v1") is None

    for dialect, name in ((openai.DIALECT, "openai"), (ollama.DIALECT, "ollama")):
        provider, model = spec(name)
        assert dialect.build_count(provider, model, USER, {}, "http://x") is None  # estimated


def test_chat_messages_as_a_responses_body() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "look", "arguments": '{"x": 1}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
        {"role": "assistant", "content": "A cat."},
    ]
    tool = {"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}
    assert responses_body("gpt", messages, {"tools": [tool]}) == {
        "model": "gpt", "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "What is this?"},
                                         {"type": "input_image", "image_url": "data:image/png;base64,AA"}]},
            {"type": "function_call", "call_id": "c1", "name": "look", "arguments": '{"x": 1}'},
            {"type": "function_call_output", "call_id": "c1", "output": "a cat"},
            {"role": "assistant", "content": "A cat."},
        ],
        "tools": [{"type": "function", "name": "look", "parameters": {"type": "object"}, "strict": False}],
    }


def test_a_responses_count_carries_the_response_format_and_the_tools_as_the_chat_sent_them() -> None:
    # The count must see what the chat request sends: the schema goes in text.format (the Responses API's
    # flat shape), and tools keep Chat Completions' default, non-strict (strict is a required key of a
    # Responses function tool; openai-python converts a chat tool with strict False likewise).
    tool = {"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}
    body = responses_body("gpt", USER, {"response_format": FORMAT, "tools": [tool]})
    assert body["text"] == {"format": {"type": "json_schema", **FORMAT["json_schema"]}}
    assert body["tools"] == [{"type": "function", "name": "look", "parameters": {"type": "object"}, "strict": False}]
    strict_tool = {"type": "function", "function": {"name": "look", "parameters": {"type": "object"}, "strict": True}}
    assert responses_body("gpt", USER, {"tools": [strict_tool]})["tools"][0]["strict"] is True
    assert responses_body("gpt", USER, {"response_format": {"type": "json_object"}})["text"] == {
        "format": {"type": "json_object"}}
    assert "text" not in responses_body("gpt", USER, {"response_format": {"type": "text"}})


def test_anthropic_answers_a_schema_with_free_form_objects_through_the_tool_not_an_emptied_format() -> None:
    # output_config.format wants additionalProperties: false on every object, so dict[str, int] would become
    # "always {}": the answer would validate and silently lose its data. The forced answer tool takes the
    # schema as it is (a tool's input_schema is not restricted that way).
    by_name = {"type": "object", "additionalProperties": {"type": "integer"}}
    properties = {"name": {"type": "string"}, "scores": by_name, "extra": {"type": "object"}}
    scores = {"type": "object", "properties": properties,
              "required": ["name", "scores"], "additionalProperties": False}
    fmt = ResponseFormat.of(scores).wire()  # type: ignore[union-attr]
    provider, model = spec("anthropic", "tools", "json_output")
    body = anthropic.DIALECT.build_chat(provider, model, USER, {"response_format": fmt}, stream=False).json
    assert "output_config" not in body
    assert body["tools"] == [{"name": ANSWER_TOOL, "description": body["tools"][0]["description"],
                              "input_schema": scores}]
    assert body["tool_choice"] == {"type": "tool", "name": ANSWER_TOOL}
    # Where a forced tool cannot go (the caller's own tools, extended thinking), the format stays as before.
    weather = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}
    for extra in ({"tools": [weather]}, {"thinking": {"type": "enabled", "budget_tokens": 1024}}):
        body = anthropic.DIALECT.build_chat(provider, model, USER, {"response_format": fmt, **extra},
                                            stream=False).json
        assert body["output_config"]["format"]["schema"] == anthropic_schema(scores)
    # Objects with their properties listed are not free-form: the format as before.
    body = anthropic.DIALECT.build_chat(provider, model, USER, {"response_format": FORMAT}, stream=False).json
    assert "output_config" in body and "tools" not in body
