"""Must show 2: client.run with two tools the model calls in one turn, then answers, on the OpenAI,
Anthropic, Gemini and Ollama dialects; a tool that raises; max_turns reached; arun."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.tools.conftest import model_of
from tests.tools.test_hand_back import _wire_calls_and_results


def get_weather(city: str) -> dict[str, Any]:
    """The current weather in a city.

    Args:
        city: The city name.
    """
    return {"city": city, "temp_c": 21}


def get_time(city: str) -> str:
    """The local time in a city."""
    return "10:00"


BOTH = [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {"city": "Paris"}}]


def tool_names(dialect: str, body: Any) -> list[str]:
    """The tools each wire was sent, in its own shape."""
    if dialect == "anthropic":
        return [t["name"] for t in body["tools"]]
    if dialect == "gemini":
        return [d["name"] for d in body["tools"][0]["functionDeclarations"]]
    return [t["function"]["name"] for t in body["tools"]]  # openai, ollama


def test_two_tools_in_one_turn_then_the_answer(fake_client: pepperpy.Client, server: FakeProviderServer,
                                               dialect: str) -> None:
    barrier = threading.Barrier(2, timeout=5)  # both calls must be running at once to pass it

    def weather(city: str) -> dict[str, Any]:
        barrier.wait()
        return get_weather(city)

    def clock(city: str) -> str:
        barrier.wait()
        return get_time(city)

    weather.__name__, clock.__name__ = "get_weather", "get_time"
    server.reply(tool_calls=BOTH, usage=(20, 10))
    server.reply("21 °C and 10:00 in Paris.", usage=(40, 8))
    r = fake_client.run("Weather and time in Paris?", model=model_of(dialect), tools=[weather, clock])
    assert r.text == "21 °C and 10:00 in Paris." and r.finish_reason == "stop"
    assert [(s.name, dict(s.arguments), s.result, s.error) for s in r.steps] == [
        ("get_weather", {"city": "Paris"}, {"city": "Paris", "temp_c": 21}, None),
        ("get_time", {"city": "Paris"}, "10:00", None)]
    assert all(s.seconds >= 0 for s in r.steps)
    assert (r.usage.input_tokens, r.usage.output_tokens) == (60, 18)
    first, second = (request.json for request in server.requests)
    assert tool_names(dialect, first) == tool_names(dialect, second) == ["get_weather", "get_time"]
    calls, results = _wire_calls_and_results(dialect, second)
    assert calls == [("get_weather", {"city": "Paris"}), ("get_time", {"city": "Paris"})]
    assert results == [{"city": "Paris", "temp_c": 21}, "10:00"]


def test_a_tool_that_raises_gives_the_model_its_error(fake_client: pepperpy.Client, server: FakeProviderServer,
                                                      dialect: str) -> None:
    def get_weather(city: str) -> str:
        raise LookupError(f"no station in {city}")

    server.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Atlantis"}}])
    server.reply("There is no weather station in Atlantis.")
    r = fake_client.run("Weather in Atlantis?", model=model_of(dialect), tools=[get_weather])
    assert r.text == "There is no weather station in Atlantis."
    assert r.steps[0].error == "LookupError: no station in Atlantis"
    _, results = _wire_calls_and_results(dialect, server.requests[-1].json)
    assert results == ["LookupError: no station in Atlantis"]

    server.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Atlantis"}}])
    with pytest.raises(LookupError, match="no station in Atlantis"):
        fake_client.run("Again?", model=model_of(dialect), tools=[get_weather], raise_tool_errors=True)


def test_bad_arguments_are_sent_back_not_passed(fake_client: pepperpy.Client, server: FakeProviderServer) -> None:
    calls: list[str] = []

    def get_weather(city: str) -> str:
        calls.append(city)
        return "sunny"

    server.reply(tool_calls=[{"name": "get_weather", "arguments": {"town": "Paris"}}])
    server.reply("Let me fix that.")
    r = fake_client.run("Weather?", model=model_of("openai"), tools=[get_weather])
    assert calls == [] and r.steps[0].error is not None
    assert "$: 'city' is a required property" in r.steps[0].error
    assert server.requests[-1].json["messages"][-1]["content"] == r.steps[0].error


def test_max_turns_reached(fake_client: pepperpy.Client, server: FakeProviderServer, dialect: str) -> None:
    for _ in range(3):
        server.reply(tool_calls=[{"name": "get_time", "arguments": {"city": "Paris"}}])
    with pytest.raises(pepperpy.MaxTurnsError) as info:
        fake_client.run("Time?", model=model_of(dialect), tools=[get_time], max_turns=3)
    error = info.value
    assert len(server.requests) == 3 and server.pending == 0
    assert len(error.steps) == 2  # the third answer's call was not run
    assert [m["role"] for m in error.messages] == ["user", "assistant", "tool", "assistant", "tool"]
    assert error.completion.tool_calls[0].name == "get_time"


def test_run_needs_functions_and_a_dialect_with_tools(fake_client: pepperpy.Client) -> None:
    definition = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(pepperpy.ValidationError, match="pass Python functions"):
        fake_client.run("x", model=model_of("openai"), tools=[definition])


def test_run_with_a_structured_final_answer(fake_client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(tool_calls=[{"name": "get_time", "arguments": {"city": "Oslo"}}])
    server.reply('{"time": "10:00"}')
    schema = {"type": "object", "properties": {"time": {"type": "string"}}, "required": ["time"]}
    r = fake_client.run("Time in Oslo?", model=model_of("openai"), tools=[get_time], response_format=schema)
    assert r.parsed == {"time": "10:00"} and r.steps[0].result == "10:00"


def test_arun(fake_client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(tool_calls=[{"name": "get_time", "arguments": {"city": "Oslo"}}])
    server.reply("10:00 in Oslo.")
    r = asyncio.run(fake_client.arun("Time in Oslo?", model=model_of("anthropic"), tools=[get_time]))
    assert r.text == "10:00 in Oslo." and r.steps[0].result == "10:00"
