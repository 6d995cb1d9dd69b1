"""Must show 3: the JSON Schema made from a function's signature, hints and docstring, compared with a schema
written by hand, for a dozen signatures (every hint kind the issue names, and each docstring style)."""
# ruff: noqa: UP007, UP045  (Optional[...] and Union[...] are spellings under test)

import enum
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional, TypedDict, Union

import pytest
from typing_extensions import NotRequired

from pepperpy.errors import ValidationError
from pepperpy.tools.schema import function_schema


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclass
class Point:
    x: float
    y: float = 0.0


@dataclass
class Address:
    """A postal address.

    Attributes:
        street: Street and number.
        city: The city.
    """

    street: str
    city: str
    zip_code: Optional[str] = None


@dataclass
class Person:
    name: str
    address: Address
    emails: list[str] = field(default_factory=list)


class Filters(TypedDict):
    tag: str
    limit: NotRequired[int]


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current weather in a city.

    Args:
        city: The city name, e.g. "Paris".
        unit (str): The temperature unit.
    """
    return city


def no_params() -> str:
    """What time is it?"""
    return "now"


def plain(a, b=3):  # type: ignore[no-untyped-def]
    return a


def optional_args(query: str, limit: Optional[int] = None, exact: bool = False) -> list[str]:
    """Search the catalog.

    Parameters
    ----------
    query : str
        Words to look for,
        spread over two lines.
    limit : int, optional
        At most this many results.
    """
    return []


def with_enum(unit: Unit, priority: Priority = Priority.LOW) -> None:
    """Set the unit.

    :param unit: Which unit to use.
    :param Priority priority: How urgent.
    :returns: nothing.
    """


def lists_and_dicts(tags: list[str], scores: dict[str, float], matrix: list[list[int]],
                    pair: tuple[int, str], unique: set[str]) -> None:
    pass


def nested(person: Person, points: list[Point]) -> None:
    """Store a person.

    Args:
        person: Who.
        points: Where they were.
    """


def unions(value: Union[int, str], maybe: "int | None", anything: Any = None) -> None:
    pass


def annotated(count: Annotated[int, "How many to make"], filters: Filters) -> None:
    pass


def keyword_only(*, model: str, temperature: float = 0.7) -> None:
    pass


class Calculator:
    def add(self, a: int, b: int) -> int:
        """Add two numbers."""
        return a + b


OBJECT_POINT = {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number", "default": 0.0}},
                "required": ["x"], "additionalProperties": False}

CASES = [
    (get_weather, {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": 'The city name, e.g. "Paris".'},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The temperature unit.",
                         "default": "celsius"},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    }),
    (no_params, {
        "name": "no_params", "description": "What time is it?",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
    }),
    (plain, {
        "name": "plain",
        "parameters": {"type": "object", "properties": {"a": {}, "b": {"default": 3}}, "required": ["a"],
                       "additionalProperties": False},
    }),
    (optional_args, {
        "name": "optional_args",
        "description": "Search the catalog.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Words to look for, spread over two lines."},
                "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "At most this many results.",
                          "default": None},
                "exact": {"type": "boolean", "default": False},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    }),
    (with_enum, {
        "name": "with_enum",
        "description": "Set the unit.",
        "parameters": {
            "type": "object",
            "properties": {
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Which unit to use."},
                "priority": {"type": "integer", "enum": [1, 2], "description": "How urgent.", "default": 1},
            },
            "required": ["unit"],
            "additionalProperties": False,
        },
    }),
    (lists_and_dicts, {
        "name": "lists_and_dicts",
        "parameters": {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}},
                "scores": {"type": "object", "additionalProperties": {"type": "number"}},
                "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "minItems": 2,
                         "maxItems": 2},
                "unique": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            },
            "required": ["tags", "scores", "matrix", "pair", "unique"],
            "additionalProperties": False,
        },
    }),
    (nested, {
        "name": "nested",
        "description": "Store a person.",
        "parameters": {
            "type": "object",
            "properties": {
                "person": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "address": {
                            "type": "object",
                            "description": "A postal address.",
                            "properties": {
                                "street": {"type": "string", "description": "Street and number."},
                                "city": {"type": "string", "description": "The city."},
                                "zip_code": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                            },
                            "required": ["street", "city"],
                            "additionalProperties": False,
                        },
                        "emails": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["name", "address"],
                    "additionalProperties": False,
                    "description": "Who.",
                },
                "points": {"type": "array", "items": OBJECT_POINT, "description": "Where they were."},
            },
            "required": ["person", "points"],
            "additionalProperties": False,
        },
    }),
    (unions, {
        "name": "unions",
        "parameters": {
            "type": "object",
            "properties": {
                "value": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "anything": {"default": None},
            },
            "required": ["value", "maybe"],
            "additionalProperties": False,
        },
    }),
    (annotated, {
        "name": "annotated",
        "parameters": {
            "type": "object",
            "properties": {
                "count": {"type": "integer", "description": "How many to make"},
                "filters": {"type": "object", "properties": {"tag": {"type": "string"}, "limit": {"type": "integer"}},
                            "required": ["tag"]},
            },
            "required": ["count", "filters"],
            "additionalProperties": False,
        },
    }),
    (keyword_only, {
        "name": "keyword_only",
        "parameters": {
            "type": "object",
            "properties": {"model": {"type": "string"}, "temperature": {"type": "number", "default": 0.7}},
            "required": ["model"],
            "additionalProperties": False,
        },
    }),
    (Calculator().add, {
        "name": "add", "description": "Add two numbers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                       "required": ["a", "b"], "additionalProperties": False},
    }),
]


@pytest.mark.parametrize(("fn", "expected"), CASES, ids=[c[1]["name"] for c in CASES])
def test_schema_matches_the_hand_written_one(fn: Any, expected: dict[str, Any]) -> None:
    assert function_schema(fn) == expected


def test_every_generated_schema_is_a_valid_json_schema() -> None:
    import jsonschema

    for fn, _ in CASES:
        jsonschema.Draft202012Validator.check_schema(function_schema(fn)["parameters"])


def test_a_recursive_dataclass_goes_through_defs() -> None:
    @dataclass
    class Tree:
        label: str
        children: "list[Tree]" = field(default_factory=list)

    Tree.__annotations__["children"] = list[Tree]  # a local class: resolve the forward reference by hand

    def plant(tree: Tree) -> None:
        pass

    params = function_schema(plant)["parameters"]
    assert params["properties"]["tree"] == {"$ref": "#/$defs/Tree"}
    assert params["$defs"]["Tree"]["properties"]["children"] == {"type": "array", "items": {"$ref": "#/$defs/Tree"}}


def test_a_callable_object_and_a_partial() -> None:
    import functools

    class Lookup:
        """Find a word."""

        def __call__(self, word: str) -> str:
            return word

    assert function_schema(Lookup())["description"] == "Find a word."
    assert function_schema(Lookup())["parameters"]["required"] == ["word"]
    partial = functools.partial(get_weather, unit="celsius")
    schema = function_schema(partial)
    assert schema["name"] == "get_weather"
    assert schema["parameters"]["properties"]["unit"]["default"] == "celsius"


@pytest.mark.parametrize("bad", ["args", "kwargs"])
def test_star_parameters_are_refused_with_a_fix(bad: str) -> None:
    def star_args(*args: int) -> None:
        pass

    def star_kwargs(**kwargs: int) -> None:
        pass

    with pytest.raises(ValidationError, match=r"cannot be described as JSON Schema; give the function named"):
        function_schema(star_args if bad == "args" else star_kwargs)


def test_an_unresolvable_hint_names_the_function() -> None:
    def broken(x: "Missing") -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(ValidationError, match=r"'broken': its type hints cannot be resolved"):
        function_schema(broken)


def test_a_type_without_schema_is_refused() -> None:
    def takes_bytes(data: bytes) -> None:
        pass

    with pytest.raises(ValidationError, match=r"has no JSON Schema"):
        function_schema(takes_bytes)
