"""JSON Schema from Python: a type, a dataclass, a TypedDict, a pydantic model, or a function's signature.

The schemas are written for what LLM providers accept, so they stay plain: nested dataclasses are inlined
(``$defs``/``$ref`` only for recursive types), ``Optional[X]`` is ``anyOf [X, null]``, ``Literal`` and
``Enum`` are ``enum``, ``list[X]`` is an array, ``dict[str, X]`` an object with ``additionalProperties``.
Descriptions come from ``Annotated[X, "text"]``, dataclass ``field(metadata={"description": ...})`` and the
docstrings (Google, NumPy or Sphinx style). pydantic is never imported here: a pydantic model is recognised
only when pydantic is already loaded, and describes itself with ``model_json_schema()``.

>>> def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
...     '''The weather now.
...
...     Args:
...         city: The city name.
...     '''
>>> function_schema(get_weather)["parameters"]["required"]
['city']
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import datetime
import enum
import functools
import inspect
import json
import sys
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union, get_args, get_origin

from ..errors import ValidationError
from ._docstrings import parse_docstring

__all__ = ["function_schema", "is_pydantic_model", "is_typeddict", "json_schema", "unwrap"]

Schema = dict[str, Any]

_PRIMITIVES: dict[Any, Schema] = {
    str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"}, bool: {"type": "boolean"},
    type(None): {"type": "null"}, None: {"type": "null"},
    datetime.datetime: {"type": "string", "format": "date-time"}, datetime.date: {"type": "string", "format": "date"},
    datetime.time: {"type": "string", "format": "time"}, uuid.UUID: {"type": "string", "format": "uuid"},
}
_ARRAYS = frozenset({list, tuple, set, frozenset, typing.List, typing.Tuple, typing.Set, typing.FrozenSet,  # noqa: UP006
                     cabc.Sequence, cabc.MutableSequence, cabc.Iterable, cabc.Collection, cabc.Set, cabc.MutableSet})
_SETS = frozenset({set, frozenset, typing.Set, typing.FrozenSet, cabc.Set, cabc.MutableSet})  # noqa: UP006
_OBJECTS = frozenset({dict, typing.Dict, cabc.Mapping, typing.Mapping, cabc.MutableMapping})  # noqa: UP006
_WRAPPERS = frozenset({"Required", "NotRequired", "ReadOnly", "ClassVar", "Final"})
_UNION_TYPES: tuple[Any, ...] = (Union, types.UnionType)


def json_schema(tp: Any) -> Schema:
    """The JSON Schema of a Python type (a dataclass, TypedDict, pydantic model, or a typing expression).

    >>> json_schema(list[int])
    {'type': 'array', 'items': {'type': 'integer'}}
    """
    if isinstance(tp, Mapping):  # already a schema
        return dict(tp)
    builder = _Builder()
    schema = builder.schema(tp, root=True)
    return builder.finish(schema)


def function_schema(fn: Callable[..., Any], *, name: str | None = None) -> Schema:
    """``{"name", "description", "parameters"}`` for a callable: its signature, type hints and docstring.

    Parameters without a default are required; ``self``/``cls`` of bound methods are left out; ``*args``
    and ``**kwargs`` cannot be described and are refused.
    """
    target = unwrap(fn)
    label = name or getattr(target, "__name__", None) or type(fn).__name__
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"tool {label!r}: its signature cannot be read ({exc}); wrap it in a def",
                              param="tools", value=label) from exc
    hints = _hints(target, label)
    own = inspect.getdoc(target)
    if not own and target is not fn and not isinstance(fn, functools.partial):
        own = inspect.getdoc(type(fn))  # a callable object: its class documents it
    doc = parse_docstring(own)
    builder = _Builder()
    properties: Schema = {}
    required: list[str] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ValidationError(f"tool {label!r}: *{param.name} cannot be described as JSON Schema; give the "
                                  f"function named parameters", param="tools", value=label)
        prop = builder.schema(hints.get(param.name, Any))
        if param.name in doc.params and doc.params[param.name] and "description" not in prop:
            prop = {**prop, "description": doc.params[param.name]}
        if param.default is param.empty:
            required.append(param.name)
        elif _jsonable(param.default):
            prop = {**prop, "default": _plain(param.default)}
        properties[param.name] = prop
    parameters: Schema = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    parameters["additionalProperties"] = False
    result: Schema = {"name": label}
    if doc.description:
        result["description"] = doc.description
    result["parameters"] = builder.finish(parameters)
    return result


def unwrap(fn: Callable[..., Any]) -> Any:
    """Where a callable's type hints and docstring live: a partial's function, a callable object's __call__."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if not inspect.isroutine(fn) and not inspect.isclass(fn) and callable(fn):
        return type(fn).__call__
    return fn


def is_typeddict(tp: Any) -> bool:
    """A TypedDict class (from typing or typing_extensions)."""
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def is_pydantic_model(tp: Any) -> bool:
    """A pydantic BaseModel subclass; never imports pydantic (a model exists only when pydantic is loaded)."""
    pydantic = sys.modules.get("pydantic")
    return (pydantic is not None and isinstance(tp, type) and hasattr(pydantic, "BaseModel")
            and issubclass(tp, pydantic.BaseModel))


def _hints(target: Any, label: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as exc:  # NameError for an unresolvable forward reference, TypeError for odd objects
        raise ValidationError(f"{label!r}: its type hints cannot be resolved ({type(exc).__name__}: {exc}); define "
                              f"the types it names at module level", param="tools", value=label) from exc


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(_plain(value))
    except (TypeError, ValueError):
        return False
    return True


def _plain(value: Any) -> Any:
    """A default value as JSON: enum members by value, tuples as lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _literal_type(values: tuple[Any, ...]) -> Schema:
    kinds = {type(v) for v in values}
    for kind, name in ((bool, "boolean"), (str, "string"), (int, "integer"), (float, "number")):
        if kinds == {kind}:
            return {"type": name}
    if kinds <= {int, float} and bool not in kinds:
        return {"type": "number"}
    return {}


class _Builder:
    """Builds one schema; remembers the classes being built (recursion) and the ``$defs`` it needs."""

    def __init__(self) -> None:
        self.defs: dict[str, Schema] = {}
        self.stack: list[type] = []
        self.recursive: set[type] = set()
        self.root_class: type | None = None  # the class the whole schema describes, which refers to itself as "#"

    def finish(self, schema: Schema) -> Schema:
        if self.defs:
            schema = {**schema, "$defs": {**schema.get("$defs", {}), **self.defs}}
        return schema

    def schema(self, tp: Any, *, root: bool = False) -> Schema:
        origin, args = get_origin(tp), get_args(tp)
        if origin is typing.Annotated:
            inner = self.schema(args[0], root=root)
            notes = [a for a in args[1:] if isinstance(a, str)]
            return {**inner, "description": " ".join(notes)} if notes else inner
        if origin is not None and getattr(origin, "_name", None) in _WRAPPERS:
            return self.schema(args[0], root=root)
        if tp is Any or tp is object or tp is inspect.Parameter.empty:
            return {}
        if isinstance(tp, typing.NewType):
            return self.schema(tp.__supertype__)
        if tp in _PRIMITIVES:
            return dict(_PRIMITIVES[tp])
        if origin is Literal:
            return {**_literal_type(args), "enum": [_plain(a) for a in args]}
        if origin in _UNION_TYPES:
            return self._union(args)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            values = tuple(member.value for member in tp)
            schema = {**_literal_type(values), "enum": list(values)}
            own = tp.__dict__.get("__doc__")  # not the docstring inherited from Enum
            if own and own != "An enumeration.":  # what Python 3.10 fills in
                schema["description"] = parse_docstring(own).description
            return schema
        if isinstance(tp, type) and (dataclasses.is_dataclass(tp) or is_typeddict(tp) or is_pydantic_model(tp)):
            return self._class(tp, root)
        if tp in _ARRAYS or origin in _ARRAYS:
            return self._array(origin or tp, args)
        if tp in _OBJECTS or origin in _OBJECTS:
            if args and args[0] is not str and args[0] is not Any:
                raise ValidationError(f"{tp!r}: JSON object keys are strings; use dict[str, ...]",
                                      param="schema", value=repr(tp))
            return {"type": "object", "additionalProperties": self.schema(args[1])} if args else {"type": "object"}
        if isinstance(tp, typing.TypeVar):
            return self.schema(tp.__bound__) if tp.__bound__ is not None else {}
        raise ValidationError(f"{tp!r} has no JSON Schema; use str, int, float, bool, None, list, dict, Literal, "
                              f"an Enum, a dataclass, a TypedDict or a pydantic model", param="schema",
                              value=repr(tp))

    def _union(self, args: tuple[Any, ...]) -> Schema:
        members = [self.schema(a) for a in args if a is not type(None)]
        if len(members) < len(args):
            members.append({"type": "null"})
        return members[0] if len(members) == 1 else {"anyOf": members}

    def _array(self, origin: Any, args: tuple[Any, ...]) -> Schema:
        schema: Schema = {"type": "array"}
        if origin in (tuple, typing.Tuple) and args and not (len(args) == 2 and args[1] is Ellipsis):  # noqa: UP006
            if args == ((),):
                return {"type": "array", "maxItems": 0}
            items = [self.schema(a) for a in args]
            return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
        if args:
            schema["items"] = self.schema(args[0])
        if origin in _SETS:
            schema["uniqueItems"] = True
        return schema

    def _class(self, cls: type, root: bool) -> Schema:
        name = cls.__name__
        if cls in self.stack:  # recursive: the root refers to itself as "#", others through $defs
            if cls is self.root_class:
                return {"$ref": "#"}
            self.recursive.add(cls)
            return {"$ref": f"#/$defs/{name}"}
        if root:
            self.root_class = cls
        self.stack.append(cls)
        try:
            schema = self._pydantic(cls) if is_pydantic_model(cls) else self._fields(cls)
        finally:
            self.stack.pop()
        if cls in self.recursive and cls is not self.root_class:
            self.defs[name] = schema
            return {"$ref": f"#/$defs/{name}"}
        return schema

    def _pydantic(self, cls: type) -> Schema:
        schema: Schema = dict(cls.model_json_schema())  # type: ignore[attr-defined]
        self.defs.update(schema.pop("$defs", {}))  # its refs are "#/$defs/...": they must live at our root
        return schema

    def _fields(self, cls: type) -> Schema:
        hints = _hints(cls, cls.__name__)
        own_doc = cls.__doc__ if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}(") else None
        doc = parse_docstring(own_doc)
        properties: Schema = {}
        required: list[str] = []
        if dataclasses.is_dataclass(cls):
            for f in dataclasses.fields(cls):
                if not f.init:
                    continue
                prop = self.schema(hints.get(f.name, Any))
                text = f.metadata.get("description") or doc.params.get(f.name)
                if text:
                    prop = {**prop, "description": text}
                if f.default is not dataclasses.MISSING:
                    if _jsonable(f.default):
                        prop = {**prop, "default": _plain(f.default)}
                elif f.default_factory is dataclasses.MISSING:
                    required.append(f.name)
                properties[f.name] = prop
        else:  # TypedDict: which keys are required is known per key (total=, Required, NotRequired)
            required_keys: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
            for key, tp in hints.items():
                prop = self.schema(tp)
                if doc.params.get(key):
                    prop = {**prop, "description": doc.params[key]}
                properties[key] = prop
                if key in required_keys:
                    required.append(key)
        schema: Schema = {"type": "object"}
        if doc.description:
            schema["description"] = doc.description
        schema["properties"] = properties
        if required:
            schema["required"] = required
        if dataclasses.is_dataclass(cls):
            schema["additionalProperties"] = False  # its constructor refuses unknown names
        return schema
