"""``Value``: the frozen, slotted classes of pepperpy's results and catalog entries, made without ``dataclasses``.

A subclass is a frozen dataclass in everything a caller sees: ``__init__`` from its annotated fields (defaults,
``field(default_factory=...)``, ``__post_init__``, init-only ``InitVar`` fields), ``==``, ``hash`` and ``repr`` by
field (``field(compare=False)`` / ``repr=False`` left out), assignment refused with ``FrozenInstanceError``,
``__match_args__``, pickling and copying, and ``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass``
working on it. Only the making of the class differs: ``@dataclass`` costs a one-shot script about 17 ms before its
first call (importing ``dataclasses`` loads ``inspect``, ``ast`` and ``dis``; each class compiles five methods from
source); here the class statement itself does the work, ``__init__`` is the one method written from source (and
only from a class's ``COMPILED_AFTER``-th instance on), and ``dataclasses`` is imported only when something asks a
class for ``__dataclass_fields__``.

    class Usage(Value):
        input_tokens: int = 0
        output_tokens: int = 0
        total_tokens: int = -1
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

if TYPE_CHECKING:
    import dataclasses

    from typing_extensions import dataclass_transform  # typing's from Python 3.11; a type checker has both
elif sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # only a type checker reads the mark
    def dataclass_transform(**_: Any) -> Callable[[type], type]:
        return lambda cls: cls

__all__ = ["MISSING", "InitVar", "Value", "field", "slot_setters"]

T = TypeVar("T")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # no default


class _Factory:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"  # as an ``__init__``'s signature shows a default made per instance


_FACTORY = _Factory()


class Field:
    """One field of a Value class: what ``field()`` says about it, and what the class statement gave it."""

    __slots__ = ("annotation", "compare", "default", "default_factory", "hash", "init", "init_only", "name", "repr")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True,
                 repr: bool = True, compare: bool = True, hash: bool | None = None) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("a field takes a default or a default_factory, not both")
        self.default, self.default_factory = default, default_factory
        self.init, self.repr, self.compare, self.hash = init, repr, compare, hash
        self.name, self.annotation, self.init_only = "", None, False

    def __repr__(self) -> str:
        return f"Field({self.name!r}, default={self.default!r})"


@overload
def field(*, default: T, init: bool = ..., repr: bool = ..., compare: bool = ..., hash: bool | None = ...) -> T: ...
@overload
def field(*, default_factory: Callable[[], T], init: bool = ..., repr: bool = ..., compare: bool = ...,
          hash: bool | None = ...) -> T: ...
def field(*, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True, repr: bool = True,
          compare: bool = True, hash: bool | None = None) -> Any:
    """``dataclasses.field`` for a Value class: ``usage: Usage = field(default_factory=Usage)``."""
    return Field(default, default_factory, init, repr, compare, hash)


class InitVar(Generic[T]):
    """``dataclasses.InitVar`` for a Value class: an ``__init__`` argument handed to ``__post_init__``, not kept."""

    __slots__ = ()


def _is(annotation: Any, name: str) -> bool:
    """Whether a field's annotation is ``ClassVar[...]`` / ``InitVar[...]`` (a text under ``from __future__ import
    annotations``, as ``dataclasses`` reads it too)."""
    if isinstance(annotation, str):
        return annotation.split("[", 1)[0].rsplit(".", 1)[-1] == name
    return getattr(annotation, "__origin__", annotation) in ((ClassVar,) if name == "ClassVar" else (InitVar,))


class _ValueType(type):
    """The metaclass of Value: reads a class statement's annotated fields and makes the frozen class in one go."""

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> _ValueType:
        fields: dict[str, Field] = {}
        for base in reversed(bases):
            fields.update((f.name, f) for f in getattr(base, "__value_fields__", ()))
        inherited, declared = set(fields), False
        for field_name, annotation in namespace.get("__annotations__", {}).items():
            if _is(annotation, "ClassVar"):
                continue
            declared = True
            given = namespace.pop(field_name, MISSING)  # a slot cannot share its name with a class attribute
            spec = given if isinstance(given, Field) else Field(given)
            spec.name, spec.annotation, spec.init_only = field_name, annotation, _is(annotation, "InitVar")
            fields[field_name] = spec
        kept = tuple(f for f in fields.values() if not f.init_only)
        namespace.setdefault("__slots__", tuple(f.name for f in kept if f.name not in inherited))
        namespace["__value_fields__"] = tuple(fields.values())
        namespace["__match_args__"] = tuple(f.name for f in fields.values() if f.init)
        namespace["_compared"] = tuple(f.name for f in kept if f.compare)
        namespace["_hashed"] = tuple(f.name for f in kept if (f.compare if f.hash is None else f.hash))
        namespace["_shown"] = tuple(f.name for f in kept if f.repr)
        namespace["__dataclass_fields__"] = _AsDataclass("__dataclass_fields__")
        namespace["__dataclass_params__"] = _AsDataclass("__dataclass_params__")
        _check(name, tuple(fields.values()))
        own_init = declared or "__post_init__" in namespace  # else the parent's serves
        if "__init__" in namespace:
            namespace.setdefault("__signature__", None)  # inspect reads the class's own __init__
        elif fields and own_init:
            namespace["__signature__"] = _Signature()
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        if fields and own_init and "__init__" not in namespace:
            cls.__init__ = _first_init(cls, tuple(fields.values()))  # type: ignore[misc]
        return cls


def _check(name: str, fields: tuple[Field, ...]) -> None:
    """TypeError for a class statement whose fields cannot make an ``__init__``, when the class is made."""
    seen_default = False
    for f in fields:
        if not f.name.isidentifier() or f.name.startswith("__v_") or f.name == "self":
            raise TypeError(f"{name}: field names must be identifiers, not 'self' or '__v_...'")
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = True
        elif not f.init:
            raise TypeError(f"{name}.{f.name}: a field left out of __init__ needs a default")
        elif seen_default:
            raise TypeError(f"{name}: field {f.name!r} without a default follows a field with one")


def slot_setters(cls: type) -> dict[str, Callable[[Any, Any], None]]:
    """How each kept field of a Value class is stored, by name and in order: through its slot, or
    ``object.__setattr__`` for a field without one (a subclass's, say)."""
    setters: dict[str, Callable[[Any, Any], None]] = {}
    for f in getattr(cls, "__value_fields__", ()):
        if not f.init_only:
            slot = getattr(cls, f.name, None)
            setters[f.name] = slot.__set__ if isinstance(slot, types.MemberDescriptorType) else _setter(f.name)
    return setters


def _setter(name: str) -> Callable[[Any, Any], None]:
    return lambda obj, value: object.__setattr__(obj, name, value)


COMPILED_AFTER = 64  # instances a Value class makes through its first __init__ before it compiles its own


def _first_init(cls: type, fields: tuple[Field, ...]) -> Callable[..., None]:
    """``cls.__init__`` for its first instances: the arguments bound in Python, nothing compiled. A one-shot
    script makes one or two of each class, and compiling an ``__init__`` costs about 10 µs a field; from the
    ``COMPILED_AFTER``-th instance on, or for a call it cannot bind (which the compiled one then refuses with
    Python's own message), the compiled ``_init`` takes over."""
    names = tuple(f.name for f in fields if f.init)
    known = frozenset(names)
    plan = [(f.name, f.default if f.init else _FACTORY, f.default_factory, f.init_only) for f in fields]
    post_init = hasattr(cls, "__post_init__")
    made = 0
    compiled: Callable[..., None] | None = None
    setters: dict[str, Callable[[Any, Any], None]] = {}

    def first_init(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal made, compiled
        made += 1
        bound = {**dict(zip(names, args, strict=False)), **kwargs} if args else kwargs
        if made <= COMPILED_AFTER and len(args) <= len(names) and len(bound) == len(args) + len(kwargs) and \
                bound.keys() <= known:
            if not setters:
                setters.update(slot_setters(cls))
            handed: list[Any] = []
            for name, default, factory, init_only in plan:
                value = bound.get(name, default)
                if value is MISSING or value is _FACTORY:
                    if factory is MISSING:
                        break  # a required argument is missing: the compiled __init__ says which
                    value = factory()
                if init_only:
                    handed.append(value)
                else:
                    setters[name](self, value)
            else:
                if post_init:
                    self.__post_init__(*handed)
                return
        if compiled is None:
            compiled = _init(cls, fields)
            if cls.__dict__.get("__init__") is first_init:
                cls.__init__ = compiled  # type: ignore[misc]
        compiled(self, *args, **kwargs)

    first_init.__name__, first_init.__qualname__ = "__init__", f"{cls.__qualname__}.__init__"
    return first_init


class _Signature:
    """``__signature__`` of a Value class whose ``__init__`` is still the first one: the compiled one's, for
    ``inspect.signature`` and ``help()``."""

    def __get__(self, obj: object, owner: type) -> Any:
        import inspect

        signature = inspect.signature(_init(owner, owner.__value_fields__))  # type: ignore[attr-defined]
        return signature.replace(parameters=list(signature.parameters.values())[1:])


def _init(cls: type, fields: tuple[Field, ...]) -> Callable[..., None]:
    """``cls.__init__``, written from source as ``dataclasses`` writes it: each field stored through its slot, a
    default made per instance by its factory, then ``__post_init__`` with the init-only fields."""
    scope: dict[str, Any] = {"__name__": cls.__module__, "__v_FACTORY": _FACTORY}
    params, lines = [], []
    for f in fields:
        if f.default is not MISSING or f.default_factory is not MISSING:
            scope[f"__v_d_{f.name}"] = f.default
            scope[f"__v_f_{f.name}"] = f.default_factory
            default = "__v_FACTORY" if f.default is MISSING else f"__v_d_{f.name}"
            if f.init:
                params.append(f"{f.name}={default}")
        elif f.init:
            params.append(f.name)
    for name, setter in slot_setters(cls).items():
        scope[f"__v_s_{name}"] = setter
        f = next(f for f in fields if f.name == name)
        value = name if f.init else f"__v_d_{name}"
        if f.default_factory is not MISSING:
            value = f"__v_f_{name}() if {value} is __v_FACTORY else {value}" if f.init else f"__v_f_{name}()"
        lines.append(f"    __v_s_{name}(self, {value})\n")
    if hasattr(cls, "__post_init__"):
        lines.append(f"    self.__post_init__({', '.join(f.name for f in fields if f.init_only)})\n")
    source = f"def __init__(self, {', '.join(params)}):\n{''.join(lines) or '    pass'}\n"
    exec(source, scope)  # field names are checked identifiers; every value comes in as an argument or a constant
    made: Callable[..., None] = scope["__init__"]
    made.__qualname__ = f"{cls.__qualname__}.__init__"
    return made


class _AsDataclass:
    """``__dataclass_fields__`` / ``__dataclass_params__`` of a Value class, for ``dataclasses`` and for code that
    reads them: the fields of a twin dataclass made on first use (``dataclasses`` loaded then, not before)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type) -> Any:
        twin = _TWINS.get(owner)
        if twin is None:
            twin = _TWINS[owner] = _twin(owner)
        return getattr(twin, self.name)


_TWINS: dict[type, type] = {}


def _twin(cls: type) -> type:
    import dataclasses

    specs = []
    for f in cls.__value_fields__:  # type: ignore[attr-defined]
        given = {"default": f.default} if f.default is not MISSING else \
            {"default_factory": f.default_factory} if f.default_factory is not MISSING else {}
        kind = dataclasses.InitVar[Any] if f.init_only else Any
        specs.append((f.name, kind, dataclasses.field(init=f.init, repr=f.repr, compare=f.compare, hash=f.hash,
                                                      **given)))
    twin: type = dataclasses.make_dataclass(cls.__name__, specs, frozen=True)
    for f in cls.__value_fields__:  # type: ignore[attr-defined]  # each type as the class statement wrote it
        twin.__dataclass_fields__[f.name].type = f.annotation  # type: ignore[attr-defined]
    return twin


def _frozen(name: str) -> Exception:
    from dataclasses import FrozenInstanceError

    return FrozenInstanceError(f"cannot assign to field {name!r}")


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
class Value(metaclass=_ValueType):
    """Base of the frozen result and spec classes: a subclass's annotated attributes are its fields, as in a
    ``@dataclass(frozen=True, slots=True)``; ``==``, ``hash`` and ``repr`` go over them.

    >>> class Point(Value):
    ...     x: int
    ...     y: int = 0
    >>> Point(1), Point(1) == Point(1, 0), Point(1).__match_args__
    (Point(x=1, y=0), True, ('x', 'y'))
    """

    __slots__ = ()
    __value_fields__: ClassVar[tuple[Field, ...]]
    _compared: ClassVar[tuple[str, ...]]
    _hashed: ClassVar[tuple[str, ...]]
    _shown: ClassVar[tuple[str, ...]]
    if TYPE_CHECKING:
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = self._compared  # tuples, as dataclass compares (a NaN equals itself as the same object)
        return tuple(getattr(self, name) for name in compared) == tuple(getattr(other, name) for name in compared)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self._hashed))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise _frozen(name)

    def __delattr__(self, name: str) -> None:
        raise _frozen(name)

    def __replace__(self, /, **changes: Any) -> Any:
        """``dataclasses.replace(self, **changes)`` (``copy.replace`` on Python 3.13): a copy with ``changes``."""
        for f in self.__value_fields__:
            if f.init_only:
                if f.name not in changes and f.default is MISSING and f.default_factory is MISSING:
                    raise ValueError(f"InitVar {f.name!r} must be specified with replace()")
            elif not f.init:
                if f.name in changes:
                    raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with "
                                     "replace()")
            elif f.name not in changes:
                changes[f.name] = getattr(self, f.name)
        return self.__class__(**changes)

    def __getstate__(self) -> list[Any]:  # as a slotted dataclass pickles: the kept fields' values in order
        return [getattr(self, f.name) for f in self.__value_fields__ if not f.init_only]

    def __setstate__(self, state: list[Any]) -> None:
        for setter, value in zip(slot_setters(type(self)).values(), state, strict=True):
            setter(self, value)
