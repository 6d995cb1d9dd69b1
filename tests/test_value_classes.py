"""Results and catalog entries are Value classes: frozen dataclasses in all a caller sees, made without
``dataclasses`` (issue 27: a one-shot script no longer imports it, nor ``inspect``, ``ast`` and ``dis``)."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import subprocess
import sys
from typing import Any, ClassVar

import pytest

from pepperpy.http.transport import Request
from pepperpy.observe.usage import UsageTotals
from pepperpy.resilience.breaker import BreakerConfig
from pepperpy.resilience.cache import CacheConfig
from pepperpy.resilience.retry import RetryPolicy
from pepperpy.types import (
    Chunk,
    Completion,
    Embeddings,
    ModelSpec,
    ParamRange,
    Pricing,
    ProviderSpec,
    RetiredModel,
    TokenCount,
    ToolCall,
    ToolStep,
    Usage,
)
from pepperpy.types._value import InitVar, Value, field

SAMPLES: list[Any] = [
    Completion("hi", "gpt-4o-mini", "openai", "stop", Usage(3, 2), 0.5, {"id": "x"}, tool_calls=(
        ToolCall("c1", "add", {"a": 1}),)),
    Chunk("piece", raw={"n": 1}),
    Usage(1, 2, cached_tokens=1),
    ToolCall("c1", "add", {"a": 1}),
    ModelSpec("m", "p", context_window=10, prices=(Pricing(1.0, 2.0),), capabilities=frozenset({"tools"})),
    Pricing(1.0, 2.0, since="2026-01-01"),
    ParamRange(0, 2),
    ProviderSpec("p", "openai", base_url="https://example.test/v1"),
    RetiredModel("old", date="2026-01-01", replacement="new"),
    Request("POST", "/chat", json={"a": 1}),
    RetryPolicy(max_retries=3),
    BreakerConfig(3, 10.0),
    CacheConfig(),
    Embeddings([[0.1]], "e", "openai"),
    TokenCount(3, True),
    ToolStep("add", {"a": 1}, 2),
    UsageTotals(),
]


def _name(value: Any) -> str:
    return type(value).__name__


@pytest.mark.parametrize("value", SAMPLES, ids=_name)
def test_dataclasses_reads_every_value_class(value: Any) -> None:
    cls = type(value)
    assert dataclasses.is_dataclass(cls) and dataclasses.is_dataclass(value)
    names = [f.name for f in dataclasses.fields(value)]
    assert names == [f.name for f in cls.__value_fields__ if not f.init_only]
    assert cls.__match_args__ == tuple(f.name for f in cls.__value_fields__)
    if _name(value) not in ("ModelSpec", "ProviderSpec"):  # asdict deep-copies, and a read-only proxy never copies
        assert dataclasses.asdict(value).keys() == set(names)
    assert dataclasses.replace(value) == value
    assert list(inspect.signature(cls).parameters) == list(cls.__match_args__)


@pytest.mark.parametrize("value", SAMPLES, ids=_name)
def test_every_value_is_frozen_and_survives_pickle_and_copy(value: Any) -> None:
    name = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot assign to field '{name}'"):
        setattr(value, name, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(value, name)
    with pytest.raises(AttributeError):
        value.not_a_field = 1  # slotted: no attribute of another name either
    assert copy.copy(value) == value
    if _name(value) not in ("ModelSpec", "ProviderSpec"):  # their mappings are read-only proxies, which never pickle
        assert pickle.loads(pickle.dumps(value)) == value and copy.deepcopy(value) == value
    try:
        expected: int | None = hash(value)
    except TypeError:  # a field holds a dict or a list: unhashable, as the same dataclass would be
        expected = None
    assert (hash(copy.copy(value)) if expected is not None else None) == expected


def test_replace_keeps_the_other_fields_and_checks_names() -> None:
    answer = SAMPLES[0]
    changed = dataclasses.replace(answer, text="other")
    assert (changed.text, changed.model, changed.usage, changed.tool_calls) == ("other", "gpt-4o-mini",
                                                                                answer.usage, answer.tool_calls)
    assert answer.text == "hi"
    with pytest.raises(TypeError, match="unexpected keyword argument 'txt'"):
        dataclasses.replace(answer, txt="x")
    assert copy.replace(answer, text="x").text == "x" if sys.version_info >= (3, 13) else True


def test_a_model_spec_keeps_its_init_only_pricing_through_replace() -> None:
    spec = ModelSpec("m", "p", pricing=Pricing(1.0, 2.0))
    assert spec.prices == (Pricing(1.0, 2.0),) and spec.pricing == Pricing(1.0, 2.0)
    assert dataclasses.replace(spec, id="n").prices == spec.prices
    assert "pricing" not in [f.name for f in dataclasses.fields(ModelSpec)]


class _Point(Value):
    """A Value made here: what the metaclass reads from a class statement."""

    unit: ClassVar[str] = "m"
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)
    scale: InitVar[int] = 1

    def __post_init__(self, scale: int = 1) -> None:
        object.__setattr__(self, "x", self.x * scale)


def test_a_value_class_has_dataclass_semantics() -> None:
    a, b = _Point(1), _Point(1)
    assert a.tags == [] and a.tags is not b.tags  # a factory makes one per instance
    assert _Point(2, scale=3).x == 6  # the init-only field goes to __post_init__ and is not kept
    assert not hasattr(_Point(1), "scale") or _Point.scale == 1
    assert a == _Point(1, note="other") and a != _Point(2)  # note does not compare
    assert repr(_Point(1, 2, ["t"])) == "_Point(x=1, y=2, tags=['t'])"
    assert _Point.unit == "m" and "unit" not in _Point.__match_args__
    assert str(inspect.signature(_Point)) == "(x, y=0, tags=<factory>, note='', scale=1)"
    assert [f.name for f in dataclasses.fields(_Point)] == ["x", "y", "tags", "note"]
    assert (a == "not a point") is False


def test_a_class_statement_with_a_mistake_is_refused_when_it_is_made() -> None:
    with pytest.raises(TypeError, match="field 'y' without a default follows a field with one"):
        class _Bad(Value):
            x: int = 0
            y: int
    with pytest.raises(TypeError, match="field names must be identifiers, not 'self'"):
        class _Self(Value):
            self: int
    with pytest.raises(ValueError, match="a default or a default_factory, not both"):
        field(default=1, default_factory=int)


def test_a_subclass_without_fields_keeps_its_parents() -> None:
    class Strict(RetryPolicy):
        def should_retry(self, exc: Any) -> bool:
            return False

    policy = Strict(max_retries=2)
    assert policy.max_retries == 2 and Strict.__slots__ == ()
    assert [f.name for f in dataclasses.fields(policy)] == [f.name for f in dataclasses.fields(RetryPolicy)]
    assert dataclasses.replace(policy, max_retries=5) == Strict(max_retries=5)


def test_importing_the_types_loads_no_dataclasses() -> None:
    code = ("import sys\nfrom pepperpy.types import Completion, ModelSpec, Usage\n"
            "c = Completion('a', 'm', 'p', usage=Usage(1, 2))\n"
            "assert 'dataclasses' not in sys.modules and 'inspect' not in sys.modules, sorted(sys.modules)\n"
            "import dataclasses\nassert dataclasses.replace(c, text='b').text == 'b'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_first_instances_are_bound_in_python_then_the_compiled_init_takes_over() -> None:
    from pepperpy.types import _value

    class Pair(Value):
        a: int
        b: list[int] = field(default_factory=list)
        scale: InitVar[int] = 1

        def __post_init__(self, scale: int = 1) -> None:
            object.__setattr__(self, "a", self.a * scale)

    first = Pair.__init__
    made = [Pair(1), Pair(a=2, scale=3), Pair(1, [5])] + [Pair(i) for i in range(_value.COMPILED_AFTER)]
    assert [p.a for p in made[:3]] == [1, 6, 1] and made[2].b == [5] and made[0].b is not made[3].b
    assert Pair.__init__ is not first  # compiled once the class had made COMPILED_AFTER instances
    assert (Pair(2, scale=2).a, Pair(1).b) == (4, [])
    assert str(inspect.signature(Pair)) == "(a, b=<factory>, scale=1)"


@pytest.mark.parametrize(("call", "message"), [
    (lambda: Usage(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), "takes from 1 to 10 positional arguments but 11 were given"),
    (lambda: Usage(1, input_tokens=2), "got multiple values for argument 'input_tokens'"),
    (lambda: Usage(tokens=1), "got an unexpected keyword argument 'tokens'"),
    (lambda: ToolCall("c1", "add"), "missing 1 required positional argument: 'arguments'"),
])
def test_a_call_that_does_not_bind_gets_pythons_own_message(call: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        call()


def test_a_subclass_that_changes_a_default_or_writes_its_own_init_gets_what_it_wrote() -> None:
    class Base(Value):
        x: int = 1

    class Other(Base):
        x: int = 2

    class Own(Base):
        def __init__(self, text: str) -> None:
            object.__setattr__(self, "x", len(text))

    assert (Base().x, Other().x, Own("abc").x) == (1, 2, 3)
    assert str(inspect.signature(Own)) == "(text: 'str') -> 'None'"
