"""structured.ask without HTTP: the repair round, its limit, and the answers that are not repaired."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from pepperpy.errors import StructuredOutputError, ValidationError
from pepperpy.tools.structured import ResponseFormat, ask, schema_prompt
from pepperpy.types import Completion, ToolCall, Usage


@dataclass
class Person:
    name: str
    age: int


FMT = ResponseFormat.of(Person)
assert FMT is not None


def answer(text: str, finish: str = "stop", tokens: tuple[int, int] = (10, 5)) -> Completion:
    return Completion(text=text, model="m", provider="p", finish_reason=finish, usage=Usage(*tokens),
                      cost=0.001)


class Script:
    def __init__(self, *answers: Completion) -> None:
        self.answers = list(answers)
        self.requests: list[list[dict[str, Any]]] = []

    def __call__(self, messages: list[dict[str, Any]]) -> Completion:
        self.requests.append(json.loads(json.dumps(messages)))
        return self.answers.pop(0)


USER = [{"role": "user", "content": "Who?"}]


def test_a_valid_answer_is_parsed_at_once() -> None:
    script = Script(answer('{"name": "Ann", "age": 30}'))
    r = ask(script, list(USER), FMT)
    assert r.parsed == Person("Ann", 30) and len(script.requests) == 1


def test_one_repair_round_shows_the_model_its_errors() -> None:
    script = Script(answer('{"name": "Ann", "age": "thirty"}'), answer('{"name": "Ann", "age": 30}', tokens=(20, 6)))
    r = ask(script, list(USER), FMT)
    assert r.parsed == Person("Ann", 30)
    assert (r.usage.input_tokens, r.usage.output_tokens, r.cost) == (30, 11, 0.002)  # both rounds
    repair = script.requests[1]
    assert repair[:2] == [USER[0], {"role": "assistant", "content": '{"name": "Ann", "age": "thirty"}'}]
    assert repair[2]["role"] == "user"
    assert "- $.age: 'thirty' is not of type 'integer'" in repair[2]["content"]


def test_after_the_repair_round_the_error_carries_every_path() -> None:
    script = Script(answer('{"age": "x"}'), answer('{"name": 3, "age": "x"}'))
    with pytest.raises(StructuredOutputError) as info:
        ask(script, list(USER), FMT)
    assert info.value.errors == [("$.age", "'x' is not of type 'integer'"), ("$.name", "3 is not of type 'string'")]
    assert info.value.text == '{"name": 3, "age": "x"}'
    assert len(script.requests) == 2


def test_zero_repair_rounds_and_more() -> None:
    with pytest.raises(StructuredOutputError):
        ask(Script(answer("not json"), answer('{"name": "A", "age": 1}')), list(USER), FMT, repair_rounds=0)
    script = Script(answer("no"), answer("still no"), answer('{"name": "A", "age": 1}'))
    assert ask(script, list(USER), FMT, repair_rounds=2).parsed == Person("A", 1)
    with pytest.raises(ValidationError, match="repair_rounds must be 0 or more"):
        ask(script, list(USER), FMT, repair_rounds=-1)


@pytest.mark.parametrize(("finish", "words"), [("length", "cut at max_tokens"), ("content_filter", "refused")])
def test_cut_or_refused_answers_are_not_repaired(finish: str, words: str) -> None:
    script = Script(answer('{"name": "A', finish=finish), answer('{"name": "A", "age": 1}'))
    with pytest.raises(StructuredOutputError, match=words):
        ask(script, list(USER), FMT)
    assert len(script.requests) == 1


def test_an_answer_with_tool_calls_is_left_to_the_caller() -> None:
    calls = Completion(text="", model="m", provider="p", tool_calls=(ToolCall("c", "f", {}),))
    assert ask(Script(calls), list(USER), FMT).parsed is None


def test_schema_prompt_states_the_schema() -> None:
    text = schema_prompt(FMT)
    assert text.startswith("Answer with one JSON value and nothing else")
    assert json.loads(text.split("\n", 1)[1]) == FMT.schema
