"""The tool loop without HTTP: a scripted `send` plays the model; the tools are plain Python functions."""

import datetime
import enum
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import pepperpy
from pepperpy.errors import MaxTurnsError, ValidationError
from pepperpy.tools._toolset import Tool, ToolSet, run_loop, tool_result, tool_text
from pepperpy.types import Completion, ToolCall, ToolStep


def answer(text: str = "", *calls: ToolCall) -> Completion:
    return Completion(text=text, model="m", provider="p", finish_reason="tool_calls" if calls else "stop",
                      tool_calls=tuple(calls))


class Script:
    """Plays the model: hands out the scripted answers, keeping a copy of the messages of each request."""

    def __init__(self, *answers: Completion) -> None:
        self.answers = list(answers)
        self.requests: list[list[dict[str, Any]]] = []

    def __call__(self, messages: list[dict[str, Any]]) -> Completion:
        self.requests.append(json.loads(json.dumps(messages)))
        return self.answers.pop(0)


def get_weather(city: str) -> dict[str, Any]:
    """The weather in a city."""
    return {"city": city, "temp": 21}


def get_time(city: str) -> str:
    """The local time in a city."""
    return "10:00"


def test_two_calls_in_one_turn_run_concurrently_and_their_results_go_back_in_order() -> None:
    barrier = threading.Barrier(2, timeout=5)  # each tool waits for the other: only threads get past it
    threads: set[str] = set()

    def weather(city: str) -> dict[str, Any]:
        threads.add(threading.current_thread().name)
        barrier.wait()
        return get_weather(city)

    def clock(city: str) -> str:
        threads.add(threading.current_thread().name)
        barrier.wait()
        return get_time(city)

    tools = ToolSet([Tool.of(weather), Tool.of(clock)])
    calls = ToolCall("c1", "weather", {"city": "Paris"}), ToolCall("c2", "clock", {"city": "Paris"})
    script = Script(answer("", *calls), answer("21 degrees at 10:00"))
    messages = [{"role": "user", "content": "Weather and time in Paris?"}]
    result = run_loop(script, messages, tools)
    assert result.text == "21 degrees at 10:00"
    assert len(threads) == 2
    assert [(s.name, dict(s.arguments), s.result, s.error) for s in result.steps] == [
        ("weather", {"city": "Paris"}, {"city": "Paris", "temp": 21}, None),
        ("clock", {"city": "Paris"}, "10:00", None)]
    assert all(s.seconds >= 0 for s in result.steps)
    second = script.requests[1]
    assert second[1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
        {"id": "c2", "type": "function", "function": {"name": "clock", "arguments": '{"city": "Paris"}'}}]}
    assert second[2:] == [{"role": "tool", "tool_call_id": "c1", "content": '{"city": "Paris", "temp": 21}'},
                          {"role": "tool", "tool_call_id": "c2", "content": "10:00"}]


def test_a_raising_tool_gives_the_model_the_error_text() -> None:
    def find(city: str) -> str:
        raise LookupError(f"no city named {city}")

    script = Script(answer("", ToolCall("c1", "find", {"city": "Atlantis"})), answer("It does not exist."))
    result = run_loop(script, [{"role": "user", "content": "Where is Atlantis?"}], ToolSet.of([find]))
    assert result.text == "It does not exist."
    assert result.steps[0].error == "LookupError: no city named Atlantis" and result.steps[0].result is None
    assert script.requests[1][-1] == {"role": "tool", "tool_call_id": "c1",
                                      "content": "LookupError: no city named Atlantis"}


def test_raise_tool_errors_lets_the_exception_out() -> None:
    def boom() -> None:
        raise KeyError("missing")

    script = Script(answer("", ToolCall("c1", "boom", {})), answer("never"))
    with pytest.raises(KeyError, match="missing"):
        run_loop(script, [{"role": "user", "content": "go"}], ToolSet.of([boom]), raise_tool_errors=True)


def test_arguments_that_fail_the_schema_are_reported_and_never_passed() -> None:
    calls: list[Any] = []

    def book(room: int, nights: int = 1) -> str:
        calls.append((room, nights))
        return "booked"

    script = Script(answer("", ToolCall("c1", "book", {"room": "twelve", "guests": 2})),
                    answer("", ToolCall("c2", "book", {"room": 12})), answer("done"))
    result = run_loop(script, [{"role": "user", "content": "book"}], ToolSet.of([book]))
    assert calls == [(12, 1)]
    error = result.steps[0].error
    assert error is not None
    assert error.startswith("invalid arguments for book: $: Additional properties are not allowed ('guests' was "
                            "unexpected); $.room: 'twelve' is not of type 'integer'")
    assert script.requests[1][-1]["content"] == error
    assert result.steps[1].result == "booked"


def test_unknown_tools_and_undecodable_arguments_are_reported() -> None:
    script = Script(answer("", ToolCall("c1", "nope", {}), ToolCall("c2", "get_time", {"_raw": "{city"})),
                    answer("ok"))
    result = run_loop(script, [{"role": "user", "content": "x"}], ToolSet.of([get_time]))
    assert result.steps[0].error == "tool 'nope' does not exist; the tools are: get_time"
    assert result.steps[1].error is not None and "not valid JSON: '{city'" in result.steps[1].error


def test_arguments_become_the_parameter_types() -> None:
    class Unit(enum.Enum):
        C = "c"
        F = "f"

    @dataclass
    class Place:
        city: str
        country: str

    seen: list[Any] = []

    def forecast(place: Place, unit: Unit = Unit.C) -> str:
        seen.append((place, unit))
        return "sunny"

    forecast.__annotations__.update(place=Place, unit=Unit)
    script = Script(answer("", ToolCall("c1", "forecast", {"place": {"city": "Oslo", "country": "NO"}, "unit": "f"})),
                    answer("sunny"))
    run_loop(script, [{"role": "user", "content": "x"}], ToolSet.of([forecast]))
    assert seen == [(Place("Oslo", "NO"), Unit.F)]


def test_arguments_that_cannot_become_the_parameter_types_are_reported_even_with_raise_tool_errors() -> None:
    # "next tuesday" passes the schema where jsonschema cannot check date-time (no rfc3339 checker installed),
    # and a dataclass may refuse a value in __post_init__: the model's arguments are wrong, the tool is not
    # called, and the model is told so, even with raise_tool_errors (which is about the tool's own errors).
    @dataclass
    class Span:
        first: int
        last: int

        def __post_init__(self) -> None:
            if self.first > self.last:
                raise ValueError("first must not be after last")

    called: list[Any] = []

    def remind(at: datetime.datetime, span: Span) -> str:
        called.append((at, span))
        return "set"

    remind.__annotations__.update(at=datetime.datetime, span=Span)
    at = "2026-01-02T10:00:00"
    script = Script(answer("", ToolCall("c1", "remind", {"at": "next tuesday", "span": {"first": 1, "last": 2}})),
                    answer("", ToolCall("c2", "remind", {"at": at, "span": {"first": 5, "last": 1}})),
                    answer("", ToolCall("c3", "remind", {"at": at, "span": {"first": 1, "last": 2}})),
                    answer("done"))
    result = run_loop(script, [{"role": "user", "content": "x"}], ToolSet.of([remind]), raise_tool_errors=True)
    assert called == [(datetime.datetime(2026, 1, 2, 10), Span(1, 2))]
    first, second = result.steps[0].error, result.steps[1].error
    assert first is not None and first.startswith("invalid arguments for remind: ")
    assert "next tuesday" in first and first.endswith("Call it again with arguments that match its schema")
    assert second is not None and "first must not be after last" in second
    assert script.requests[1][-1]["content"] == first and result.steps[2].result == "set"


def test_max_turns_raises_with_the_transcript_and_runs_no_call_past_the_limit() -> None:
    ran: list[str] = []

    def step(n: int) -> int:
        ran.append(str(n))
        return n + 1

    script = Script(*(answer("", ToolCall(f"c{i}", "step", {"n": i})) for i in range(3)))
    messages: list[dict[str, Any]] = [{"role": "user", "content": "count"}]
    with pytest.raises(MaxTurnsError) as info:
        run_loop(script, messages, ToolSet.of([step]), max_turns=2)
    error = info.value
    assert ran == ["0"]  # the second answer's call was not run
    assert error.max_turns == 2 and len(error.steps) == 1
    assert [m["role"] for m in error.messages] == ["user", "assistant", "tool"]
    assert error.completion.tool_calls[0].id == "c1"
    assert "after max_turns=2 requests" in str(error)
    assert isinstance(error, pepperpy.PepperpyError)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
def test_max_turns_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ValidationError, match="max_turns must be a positive integer"):
        run_loop(Script(), [], ToolSet([]), max_turns=bad)


def test_tool_definitions_and_sets() -> None:
    dict_tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    tools = ToolSet.of([get_weather, dict_tool])
    assert tools.definitions() == [
        {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city.",
                                          "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                         "required": ["city"], "additionalProperties": False}}},
        dict_tool]
    assert not tools.runnable() and ToolSet.of([get_weather]).runnable()
    with pytest.raises(ValidationError, match="two tools are named 'get_weather'"):
        ToolSet.of([get_weather, get_weather])
    with pytest.raises(ValidationError, match=r"tools takes a list"):
        ToolSet.of(get_weather)
    with pytest.raises(ValidationError, match=r"a tool dict must look like"):
        ToolSet.of([{"name": "x"}])


def test_tool_result_and_the_message_of_an_answer() -> None:
    @dataclass
    class Weather:
        temp: int

    call = ToolCall("call_1", "get_weather", {"city": "Paris"})
    assert tool_result(call, Weather(21)) == {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'}
    assert tool_result({"id": "x"}, "plain") == {"role": "tool", "tool_call_id": "x", "content": "plain"}
    assert pepperpy.tool_result is tool_result
    assert tool_text(None) == "null" and tool_text([1, "a"]) == '[1, "a"]'
    assert answer("hi").message == {"role": "assistant", "content": "hi"}
    assert answer("", call).message["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'


def test_steps_are_frozen_records() -> None:
    step = ToolStep("f", {"a": 1}, result=2, seconds=0.1, id="c")
    with pytest.raises(AttributeError):
        step.result = 3  # type: ignore[misc]
    callable_check: Callable[..., Any] = get_time
    assert Tool.of(callable_check).fn is get_time


def test_the_final_answer_counts_the_usage_and_cost_of_every_turn() -> None:
    from pepperpy.types import Usage

    first = Completion(text="", model="m", provider="p", usage=Usage(10, 2), cost=0.01,
                       tool_calls=(ToolCall("c1", "get_time", {"city": "Oslo"}),))
    last = Completion(text="10:00", model="m", provider="p", usage=Usage(30, 4), cost=0.02)
    result = run_loop(Script(first, last), [{"role": "user", "content": "time?"}], ToolSet.of([get_time]))
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.total_tokens) == (40, 6, 46)
    assert result.cost == 0.03
