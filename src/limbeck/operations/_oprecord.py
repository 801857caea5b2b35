"""Field-declared classes for the operation objects, built without generated code.

The operation classes read like dataclasses (annotated fields, defaults,
``field(default_factory=...)``) and behave like them: an ``__init__`` taking
the fields in order (base classes' first; a field redeclared in a subclass
keeps its place), a ``repr`` listing them, ``__match_args__``, identity
equality, and for :func:`frozen_op` immutability (``FrozenInstanceError``).
``ClassVar`` annotations are not fields.

``dataclasses`` builds each class by compiling generated source, about half
a millisecond a class; the operation classes are imported by every migration
run. Here ``__init__`` is one shared function reading the class's field
table, so declaring a class costs almost nothing.

For ``dataclasses.fields``, ``replace``, ``asdict``, ``is_dataclass`` and
dataclass subclasses, a class answers ``__dataclass_fields__`` and
``__dataclass_params__`` too: they are taken from an equivalent dataclass made
the first time they are asked for (so only code using them pays for it).

Not provided: ``__post_init__``, keyword-only fields and per-field options
other than ``default_factory``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from reprlib import recursive_repr
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

__all__ = ["field", "fields_of", "frozen_op", "mutable_op"]

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type)
_MISSING: Any = object()


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], _T]) -> _T:
    """A field whose default is made afresh for each object."""
    return cast(_T, _Factory(default_factory))


if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_kw: Any) -> Callable[[_T], _T]:
        return lambda decorated: decorated


def _is_classvar(annotation: object) -> bool:
    if isinstance(annotation, str):  # ``from __future__ import annotations``
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return annotation is ClassVar or getattr(annotation, "__origin__", None) is ClassVar


def _fields_of(cls: type) -> dict[str, Any]:
    """Field name -> default (or _MISSING / a _Factory), base classes' first."""
    fields: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        fields.update(base.__dict__.get("_op_fields", {}))
    for name, annotation in inspect.get_annotations(cls).items():
        if _is_classvar(annotation):
            continue
        default = cls.__dict__.get(name, _MISSING)
        if isinstance(default, _Factory):
            delattr(cls, name)
        elif default is not _MISSING and type(default).__hash__ is None:
            # as dataclasses: one list/dict/set would be shared by every object
            raise ValueError(
                f"mutable default {type(default).__name__} for field {name!r} of "
                f"{cls.__qualname__}: use field(default_factory=...)"
            )
        fields[name] = default  # a redeclared field keeps its place, as in dataclasses
    return fields


def _build(cls: _C, frozen: bool) -> _C:
    fields = _fields_of(cls)
    names = tuple(fields)
    count = len(names)
    position = {name: at for at, name in enumerate(names)}
    # Fields needing work after the arguments are in: required ones, factories.
    special = tuple(
        name
        for name, default in fields.items()
        if default is _MISSING or isinstance(default, _Factory)
    )
    cls._op_fields = fields  # type: ignore[attr-defined]  # read by subclasses' _fields_of

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > count:
            raise TypeError(
                f"{type(self).__name__}() takes {count} arguments but {len(args)} were given"
            )
        state = fields.copy()
        if args:
            state.update(zip(names, args, strict=False))
        if kwargs:
            for name in kwargs:
                at = position.get(name)
                if at is None:
                    raise TypeError(f"{type(self).__name__}() got an unexpected keyword {name!r}")
                if at < len(args):
                    raise TypeError(f"{type(self).__name__}() got multiple values for {name!r}")
            state.update(kwargs)
        for name in special:
            value = state[name]
            if value is _MISSING:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
            if type(value) is _Factory:
                state[name] = value.make()
        # Stored in field order without going through a frozen __setattr__.
        self.__dict__.update(state)

    @recursive_repr()
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in fields:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in fields:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        object.__delattr__(self, name)

    added: dict[str, Any] = {"__init__": __init__, "__repr__": __repr__, "__match_args__": names}
    if frozen:
        added.update(__setattr__=__setattr__, __delattr__=__delattr__)
    for attr, value in added.items():
        # As with dataclasses, what the class body defines wins.
        if attr not in cls.__dict__:
            if callable(value):
                value.__qualname__ = f"{cls.__qualname__}.{attr}"
            setattr(cls, attr, value)
    for attr in _DATACLASS_ATTRS:
        setattr(cls, attr, _DataclassView(cls, frozen, attr))
    return cls


_DATACLASS_ATTRS = ("__dataclass_fields__", "__dataclass_params__")


class _DataclassView:
    """``__dataclass_fields__`` / ``__dataclass_params__`` of a class built here,
    taken on first use from an equivalent dataclass (then stored on the class)."""

    __slots__ = ("attr", "frozen", "owner")

    def __init__(self, owner: type, frozen: bool, attr: str) -> None:
        self.owner = owner
        self.frozen = frozen
        self.attr = attr

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        owner = self.owner
        fields: dict[str, Any] = owner.__dict__["_op_fields"]
        types: dict[str, Any] = {}
        for base in reversed(owner.__mro__):
            if "_op_fields" in base.__dict__:
                annotations = inspect.get_annotations(base)
                types.update((n, a) for n, a in annotations.items() if n in fields)
        specs = []
        for name, default in fields.items():
            if default is _MISSING:
                spec = dataclasses.field()
            elif isinstance(default, _Factory):
                spec = dataclasses.field(default_factory=default.make)
            else:
                spec = dataclasses.field(default=default)
            specs.append((name, types[name], spec))
        made = dataclasses.make_dataclass(owner.__name__, specs, eq=False, frozen=self.frozen)
        for attr in _DATACLASS_ATTRS:
            setattr(owner, attr, made.__dict__[attr])
        return owner.__dict__[self.attr]


@dataclass_transform(frozen_default=True, field_specifiers=(field,), eq_default=False)
def frozen_op(cls: _C) -> _C:
    """An immutable operation class (a frozen dataclass with identity equality)."""
    return _build(cls, frozen=True)


@dataclass_transform(field_specifiers=(field,), eq_default=False)
def mutable_op(cls: _C) -> _C:
    """A mutable operation container (a dataclass with identity equality)."""
    return _build(cls, frozen=False)


def fields_of(cls: type) -> tuple[str, ...]:
    """The field names of a class built here (base classes' first)."""
    return tuple(cls.__dict__.get("_op_fields", {}))
