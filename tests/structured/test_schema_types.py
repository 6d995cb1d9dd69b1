"""json_schema() for the types a response_format or a tool parameter can be."""
# ruff: noqa: UP045  (Optional[...] is a spelling under test)

import datetime
import enum
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NewType, Optional, TypedDict

import pydantic
import pytest
from typing_extensions import NotRequired, Required

from pepperpy.errors import ValidationError
from pepperpy.tools.schema import is_pydantic_model, is_typeddict, json_schema


class Movie(TypedDict):
    title: str
    year: int


class Partial(TypedDict, total=False):
    """Search options.

    Attributes:
        query: What to look for.
    """

    query: Required[str]
    page: int


class Mixed(TypedDict):
    id: str
    note: NotRequired[Optional[str]]


@dataclass
class Node:
    value: int
    children: "list[Node]" = field(default_factory=list)


class Color(enum.Enum):
    """A paint colour."""

    RED = "red"
    BLUE = "blue"


class City(pydantic.BaseModel):
    name: str
    population: int = 0


class Trip(pydantic.BaseModel):
    cities: list[City]


UserId = NewType("UserId", int)


@pytest.mark.parametrize(("tp", "expected"), [
    (str, {"type": "string"}),
    (Optional[float], {"anyOf": [{"type": "number"}, {"type": "null"}]}),
    (Literal[1, 2.5], {"type": "number", "enum": [1, 2.5]}),
    (Literal["a", 1], {"enum": ["a", 1]}),
    (Literal[True], {"type": "boolean", "enum": [True]}),
    (list[Any], {"type": "array", "items": {}}),
    (list, {"type": "array"}),
    (dict, {"type": "object"}),
    (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
    (frozenset[int], {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
    (datetime.datetime, {"type": "string", "format": "date-time"}),
    (datetime.date, {"type": "string", "format": "date"}),
    (uuid.UUID, {"type": "string", "format": "uuid"}),
    (UserId, {"type": "integer"}),
    (Annotated[str, "A name", "in full"], {"type": "string", "description": "A name in full"}),
    (Color, {"type": "string", "enum": ["red", "blue"], "description": "A paint colour."}),
])
def test_types(tp: Any, expected: dict[str, Any]) -> None:
    assert json_schema(tp) == expected


def test_typeddict_total_and_not_required() -> None:
    assert is_typeddict(Movie) and not is_typeddict(dict)
    assert json_schema(Movie) == {"type": "object", "properties": {"title": {"type": "string"},
                                                                   "year": {"type": "integer"}},
                                  "required": ["title", "year"]}
    assert json_schema(Partial) == {
        "type": "object", "description": "Search options.",
        "properties": {"query": {"type": "string", "description": "What to look for."}, "page": {"type": "integer"}},
        "required": ["query"]}
    assert json_schema(Mixed)["required"] == ["id"]
    assert json_schema(Mixed)["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_a_recursive_root_refers_to_itself() -> None:
    assert json_schema(Node) == {
        "type": "object",
        "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["value"], "additionalProperties": False}


def test_pydantic_models_describe_themselves_and_their_defs_move_to_the_root() -> None:
    assert is_pydantic_model(Trip) and not is_pydantic_model(Movie)
    schema = json_schema(Trip)
    assert schema["properties"]["cities"]["items"] == {"$ref": "#/$defs/City"}
    assert schema["$defs"]["City"]["properties"]["population"]["default"] == 0

    @dataclass
    class Plan:
        trip: Trip

    nested = json_schema(Plan)
    assert nested["properties"]["trip"]["properties"]["cities"]["items"] == {"$ref": "#/$defs/City"}
    assert "City" in nested["$defs"]  # hoisted: "#/$defs/City" resolves from the root


def test_dataclass_field_metadata_describes_a_field() -> None:
    @dataclass
    class Review:
        stars: int = field(metadata={"description": "1 to 5"})

    assert json_schema(Review)["properties"]["stars"] == {"type": "integer", "description": "1 to 5"}
    assert "description" not in json_schema(Review)  # the generated "Review(stars: int)" is not a description


def test_a_schema_dict_is_returned_as_it_is() -> None:
    schema = {"type": "object", "properties": {}}
    assert json_schema(schema) == schema


@pytest.mark.parametrize("tp", [dict[int, str], bytes, complex])
def test_types_without_a_json_schema(tp: Any) -> None:
    with pytest.raises(ValidationError):
        json_schema(tp)
