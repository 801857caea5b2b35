"""Small immutable records for the start-up path.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis`` and
``tokenize``): several milliseconds that ``limbeck heads`` cannot afford. A
:class:`Record` subclass lists its fields in ``__slots__`` and writes an
ordinary typed ``__init__`` that stores them with :meth:`_set`; it gets value
equality, hashing, a readable repr and pickling from here.
"""

from __future__ import annotations


class Record:
    """Base of immutable value objects: fields are the ``__slots__``."""

    __slots__ = ()
    #: Fields left out of equality and hashing (display-only data).
    _not_compared: tuple[str, ...] = ()

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _fields(self) -> tuple[str, ...]:
        names: tuple[str, ...] = self.__slots__
        return names

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields())

    def _compared(self) -> tuple[object, ...]:
        skip = self._not_compared
        return tuple(getattr(self, name) for name in self._fields() if name not in skip)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._compared()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields())
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), self._values())
