"""Handing tool calls back by hand: ``r.message`` and ``ToolCall`` objects in messages, and
``pepperpy.tool_result``, on every dialect with tools (the requests seen by the fake server are checked)."""

from __future__ import annotations

from typing import Any

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.tools.conftest import model_of


def last_body(server: FakeProviderServer) -> Any:
    return server.requests[-1].json


def test_tool_calls_go_back_as_objects_or_as_r_message(fake_client: pepperpy.Client, server: FakeProviderServer,
                                                        dialect: str) -> None:
    model = model_of(dialect)
    server.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}},
                             {"name": "get_time", "arguments": {"city": "Paris"}}])
    question = {"role": "user", "content": "Weather and time in Paris?"}
    r = fake_client.complete(messages=[question], model=model)
    assert [c.name for c in r.tool_calls] == ["get_weather", "get_time"]
    results = [pepperpy.tool_result(call, {"temp": 21} if call.name == "get_weather" else "10:00")
               for call in r.tool_calls]

    # 1. the ToolCall objects themselves in an assistant turn (this used to fail on every dialect)
    server.reply("It is 21 degrees at 10:00.")
    by_objects = [question, {"role": "assistant", "content": None, "tool_calls": list(r.tool_calls)}, *results]
    assert fake_client.complete(messages=by_objects, model=model).text == "It is 21 degrees at 10:00."
    sent_by_objects = last_body(server)

    # 2. r.message, ready to append
    server.reply("It is 21 degrees at 10:00.")
    assert fake_client.complete(messages=[question, r.message, *results], model=model).text.startswith("It is 21")
    assert last_body(server) == sent_by_objects

    calls, answers = _wire_calls_and_results(dialect, sent_by_objects)
    assert calls == [("get_weather", {"city": "Paris"}), ("get_time", {"city": "Paris"})]
    assert answers == [{"temp": 21}, "10:00"]


def _wire_calls_and_results(dialect: str, body: Any) -> tuple[list[Any], list[Any]]:
    """The (name, arguments) of the replayed calls and the results, read back from each wire's shape."""
    import json

    if dialect == "openai":
        assistant, *tools = body["messages"][1:]
        return ([(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in assistant["tool_calls"]],
                [_maybe_json(t["content"]) for t in tools])
    if dialect == "anthropic":
        assistant, results = body["messages"][1:]
        return ([(b["name"], b["input"]) for b in assistant["content"] if b["type"] == "tool_use"],
                [_maybe_json(b["content"]) for b in results["content"]])
    if dialect == "gemini":
        model_turn, results = body["contents"][1:]
        return ([(p["functionCall"]["name"], p["functionCall"]["args"]) for p in model_turn["parts"]],
                [p["functionResponse"]["response"].get("result", p["functionResponse"]["response"])
                 for p in results["parts"]])
    assistant, *tools = body["messages"][1:]  # ollama
    assert [t["tool_name"] for t in tools] == [c["function"]["name"] for c in assistant["tool_calls"]]
    return ([(c["function"]["name"], c["function"]["arguments"]) for c in assistant["tool_calls"]],
            [_maybe_json(t["content"]) for t in tools])


def _maybe_json(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


def test_anthropic_thinking_blocks_come_back_with_the_tool_calls() -> None:
    from pepperpy.dialects.anthropic import DIALECT
    from pepperpy.types import ModelSpec, ProviderSpec

    model = ModelSpec(id="claude-test", provider="anthropic")
    provider = ProviderSpec(name="anthropic", dialect="anthropic", base_url="https://api.anthropic.com")
    answer = {"id": "msg_1", "type": "message", "role": "assistant", "stop_reason": "tool_use",
              "content": [{"type": "thinking", "thinking": "Need the weather.", "signature": "sig-1"},
                          {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}],
              "usage": {"input_tokens": 5, "output_tokens": 3}}
    r = DIALECT.parse_chat(answer, model)
    messages = [{"role": "user", "content": "Weather in Oslo?"}, r.message,
                pepperpy.tool_result(r.tool_calls[0], "cold")]
    body = DIALECT.build_chat(provider, model, messages, {}, stream=False).json
    assert body["messages"][1]["content"] == answer["content"]  # signed thinking first, the tool_use once
    assert body["messages"][2]["content"][0]["tool_use_id"] == "toolu_1"
