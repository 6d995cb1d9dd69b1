"""ResponseFormat: what response_format accepts, the schema on the wire (strict where the schema allows),
and the checks on the answer: every error with its JSON path, then the user's type built back."""
# ruff: noqa: UP045  (Optional[...] is a spelling under test)

import datetime
import enum
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Optional, TypedDict

import pydantic
import pytest
from typing_extensions import NotRequired

from pepperpy.errors import StructuredOutputError, ValidationError
from pepperpy.tools.structured import ResponseFormat, repair_prompt, schema_errors


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


@dataclass
class Item:
    name: str
    price: float
    tags: list[str] = field(default_factory=list)


@dataclass
class Order:
    """An order."""

    items: list[Item]
    mood: Mood
    note: str = "none"
    when: Optional[datetime.date] = None


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


class City(pydantic.BaseModel):
    name: str
    population: int


PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
          "required": ["name"]}


def test_a_dataclass_goes_on_the_wire_strict_with_optional_fields_nullable() -> None:
    fmt = ResponseFormat.of(Order)
    assert fmt is not None
    wire = fmt.wire()
    assert wire["type"] == "json_schema"
    body = wire["json_schema"]
    assert (body["name"], body["strict"], body["description"]) == ("Order", True, "An order.")
    schema = body["schema"]
    assert schema["required"] == ["items", "mood", "note", "when"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}  # default dropped
    assert schema["properties"]["when"] == {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}
    item = schema["properties"]["items"]["items"]
    assert item["required"] == ["name", "price", "tags"] and item["additionalProperties"] is False
    assert fmt.schema["required"] == ["items", "mood"]  # the user's schema is kept for validation


def test_the_answer_becomes_the_dataclass_and_nulls_for_optional_fields_take_the_defaults() -> None:
    fmt = ResponseFormat.of(Order)
    assert fmt is not None
    order = fmt.parse('{"items": [{"name": "tea", "price": 3, "tags": null}], "mood": "sad", "note": null, '
                      '"when": "2025-01-31"}')
    assert order == Order(items=[Item("tea", 3.0)], mood=Mood.SAD, note="none", when=datetime.date(2025, 1, 31))
    assert isinstance(order.items[0].price, float)


def test_every_schema_error_is_reported_with_its_json_path() -> None:
    fmt = ResponseFormat.of(Order)
    assert fmt is not None
    text = '{"items": [{"name": 1, "price": "x"}, {"name": "ok"}], "mood": "meh", "extra": true}'
    with pytest.raises(StructuredOutputError) as info:
        fmt.parse(text)
    error = info.value
    assert isinstance(error, ValidationError) and isinstance(error, ValueError)
    assert error.text == text
    assert error.errors == [
        ("$", "Additional properties are not allowed ('extra' was unexpected)"),
        ("$.items[0].name", "1 is not of type 'string'"),
        ("$.items[0].price", "'x' is not of type 'number'"),
        ("$.items[1]", "'price' is a required property"),
        ("$.mood", "'meh' is not one of ['happy', 'sad']"),
    ]
    assert "$.items[0].price: 'x' is not of type 'number'" in str(error)
    assert "- $.mood: 'meh' is not one of ['happy', 'sad']" in repair_prompt(error)


def test_text_that_is_not_json() -> None:
    fmt = ResponseFormat.of(PERSON)
    assert fmt is not None
    with pytest.raises(StructuredOutputError) as info:
        fmt.parse("Sure! Here is the person: Ann")
    assert info.value.errors[0][0] == "$"
    assert info.value.errors[0][1].startswith("the answer is not valid JSON")


def test_a_schema_dict_gives_a_dict_and_a_fenced_answer_is_read() -> None:
    fmt = ResponseFormat.of(PERSON)
    assert fmt is not None and fmt.name == "response" and fmt.strict is not None
    assert fmt.parse('```json\n{"name": "Ann", "age": null}\n```') == {"name": "Ann"}
    with pytest.raises(StructuredOutputError, match=r"\$\.age: -1 is less than the minimum of 0"):
        fmt.parse('{"name": "Ann", "age": -1}')


def test_typeddict_and_pydantic() -> None:
    movie = ResponseFormat.of(Movie)
    assert movie is not None
    assert movie.parse('{"title": "Heat", "year": null}') == {"title": "Heat"}
    city = ResponseFormat.of(City)
    assert city is not None and city.name == "City"
    assert city.parse('{"name": "Lima", "population": 10}') == City(name="Lima", population=10)
    with pytest.raises(StructuredOutputError) as info:
        city.parse('{"name": "Lima"}')
    assert info.value.errors == [("$", "'population' is a required property")]


def test_openai_shaped_formats() -> None:
    fmt = ResponseFormat.of({"type": "json_schema", "json_schema": {"name": "person x!", "schema": PERSON,
                                                                    "strict": False}})
    assert fmt is not None
    assert fmt.wire() == {"type": "json_schema", "json_schema": {"name": "person_x_", "schema": PERSON,
                                                                 "strict": False}}
    assert ResponseFormat.of({"type": "json_object"}) is None
    assert ResponseFormat.of({"type": "text"}) is None
    with pytest.raises(ValidationError, match=r"needs 'json_schema': \{'name'"):
        ResponseFormat.of({"type": "json_schema", "schema": PERSON})


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"scores": {"type": "object", "additionalProperties": {"type": "number"}}}},
    {"type": "object", "properties": {"anything": {}}},
    {"type": "object", "properties": {"a": {"allOf": [{"type": "string"}]}}},
    {"type": "object", "properties": {"a": {"type": "string", "minLength": 2}}},
    {"type": "object", "properties": {"p": {"type": "array", "prefixItems": [{"type": "integer"}]}}},
    {"type": "object", "additionalProperties": True, "properties": {"a": {"type": "string"}}},
    {"type": "array", "items": {"type": "string"}},
])
def test_a_schema_outside_strict_mode_is_sent_with_strict_false(schema: dict[str, Any]) -> None:
    fmt = ResponseFormat.of(schema)
    assert fmt is not None and fmt.strict is None
    assert fmt.wire()["json_schema"] == {"name": "response", "schema": schema, "strict": False}


def test_strict_keeps_defs_and_refs_bare() -> None:
    schema = {"type": "object", "properties": {"child": {"$ref": "#/$defs/Leaf", "description": "x"}},
              "required": ["child"],
              "$defs": {"Leaf": {"type": "object", "properties": {"v": {"type": "integer", "default": 1}}}}}
    fmt = ResponseFormat.of(schema)
    assert fmt is not None and fmt.strict is not None
    assert fmt.strict["properties"]["child"] == {"$ref": "#/$defs/Leaf"}
    assert fmt.strict["$defs"]["Leaf"] == {"type": "object", "additionalProperties": False, "required": ["v"],
                                           "properties": {"v": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}
    assert fmt.parse('{"child": {"v": null}}') == {"child": {}}


def test_a_bad_schema_or_type_is_refused_before_any_request() -> None:
    with pytest.raises(ValidationError, match=r"not a valid JSON Schema at properties/a/type"):
        ResponseFormat.of({"type": "object", "properties": {"a": {"type": "strnig"}}})
    with pytest.raises(ValidationError, match=r"takes a JSON Schema dict, a dataclass, a TypedDict"):
        ResponseFormat.of(list[int])


def test_a_dataclass_that_refuses_the_value_is_a_structured_output_error() -> None:
    @dataclass
    class Positive:
        n: int

        def __post_init__(self) -> None:
            if self.n <= 0:
                raise ValueError("n must be positive")

    fmt = ResponseFormat.of(Positive)
    assert fmt is not None
    with pytest.raises(StructuredOutputError) as info:
        fmt.parse('{"n": -2}')
    assert info.value.errors == [("$", "ValueError: n must be positive")]


def test_schema_errors_lists_all_of_them() -> None:
    assert schema_errors({"name": "a"}, PERSON) == []
    assert [p for p, _ in schema_errors({"age": "x"}, PERSON)] == ["$", "$.age"]


def test_pydantic_is_never_imported_by_pepperpy() -> None:
    code = ("import sys, dataclasses, pepperpy.structured as s\n"
            "@dataclasses.dataclass\nclass A:\n    x: int\n"
            "print(s.ResponseFormat.of(A).parse('{\"x\": 1}'), 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out.endswith("False")
