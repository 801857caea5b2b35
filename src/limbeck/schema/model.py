"""The schema model: plain, immutable data describing a database schema.

Every value here is a frozen dataclass made of strings, numbers, booleans,
tuples and other model values, so two models compare with ``==`` and hash.
A model is built from SQLAlchemy ``MetaData`` (:func:`limbeck.schema.from_metadata`),
from a live database (:func:`limbeck.schema.from_database`) or by applying
changes to another model (:func:`limbeck.schema.apply`); it never builds ORM
classes and never touches a database itself.

What is compared is the *normalised* form: types, server defaults and SQL
expressions are reduced to a canonical text for the dialect the model was
built for (see :mod:`limbeck.schema.normalize`), so that the same schema read
from models and from a database compares equal. The original text and, where
there is one, the SQLAlchemy type object travel along for rendering but take
no part in comparisons (``field(compare=False)``).

Column order is kept (``Table.columns``) but is not part of a table's
identity: two tables with the same columns in another order are equal,
because no migration can (portably) reorder columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeAlias

from sqlalchemy.types import TypeEngine

__all__ = [
    "CheckConstraint",
    "Column",
    "Computed",
    "Constraint",
    "EnumType",
    "ForeignKey",
    "Identity",
    "Index",
    "PrimaryKey",
    "Schema",
    "Sequence",
    "ServerDefault",
    "SqlType",
    "Table",
    "TableKey",
    "UniqueConstraint",
]

#: ``(schema, name)``; ``schema`` is None for the connection's default schema.
TableKey = tuple[str | None, str]


def _schema_sort(schema: str | None) -> str:
    return "" if schema is None else schema


@dataclass(frozen=True, slots=True)
class SqlType:
    """A column type reduced to a comparable form for one dialect.

    ``name`` is the canonical upper-case type name with dialect synonyms
    folded (``INT`` and ``INT4`` become ``INTEGER``, MariaDB's ``TINYINT(1)``
    becomes ``BOOLEAN``); ``args`` are its canonical arguments as text
    (length, precision and scale, enum values, a native enum's name).
    """

    name: str
    args: tuple[str, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(self.args)})"


@dataclass(frozen=True, slots=True)
class ServerDefault:
    """A column's server-side default.

    ``sql`` is the text as written in the model or as the database reports
    it; ``normalized`` is what comparisons use (quotes, casts, redundant
    parentheses, spelling of ``CURRENT_TIMESTAMP`` and numeric literals
    folded).
    """

    normalized: str
    sql: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.sql:
            object.__setattr__(self, "sql", self.normalized)


@dataclass(frozen=True, slots=True)
class Computed:
    """A generated column: ``GENERATED ALWAYS AS (expression)``."""

    expression: str
    persisted: bool | None = None
    sql: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.sql:
            object.__setattr__(self, "sql", self.expression)


@dataclass(frozen=True, slots=True)
class Identity:
    """An identity column. An option equal to the database default is None."""

    always: bool = False
    start: int | None = None
    increment: int | None = None
    minvalue: int | None = None
    maxvalue: int | None = None
    cycle: bool | None = None
    cache: int | None = None


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table.

    ``type`` is the comparable :class:`SqlType`; ``sa_type`` is the
    SQLAlchemy type it came from (None for a model built by hand), kept for
    rendering. ``autoincrement`` records whether the column is the table's
    implicit auto-increment column; it is informational and not compared,
    because backends report it inconsistently.
    """

    name: str
    type: SqlType
    nullable: bool = True
    server_default: ServerDefault | None = None
    computed: Computed | None = None
    identity: Identity | None = None
    comment: str | None = None
    autoincrement: bool = field(default=False, compare=False)
    sa_type: TypeEngine[Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    """A primary key. ``name`` is None where the backend does not name it."""

    columns: tuple[str, ...]
    name: str | None = None

    kind = "primary_key"

    @property
    def signature(self) -> tuple[object, ...]:
        return (self.columns,)


@dataclass(frozen=True, slots=True)
class UniqueConstraint:
    """A unique constraint over ``columns``; ``options`` are dialect options
    such as ``("postgresql_nulls_not_distinct", "true")``."""

    columns: tuple[str, ...]
    name: str | None = None
    options: tuple[tuple[str, str], ...] = ()

    kind = "unique"

    @property
    def signature(self) -> tuple[object, ...]:
        return (self.columns,)


@dataclass(frozen=True, slots=True)
class CheckConstraint:
    """A CHECK constraint; ``expression`` is the normalised SQL text."""

    expression: str
    name: str | None = None
    sql: str = field(default="", compare=False)

    kind = "check"

    def __post_init__(self) -> None:
        if not self.sql:
            object.__setattr__(self, "sql", self.expression)

    @property
    def signature(self) -> tuple[object, ...]:
        return (self.expression,)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key constraint.

    Options the backend does not keep (for instance ``deferrable`` on
    MariaDB) and options equal to the default (``NO ACTION``) are None.
    """

    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    referred_schema: str | None = None
    name: str | None = None
    ondelete: str | None = None
    onupdate: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    match: str | None = None

    kind = "foreign_key"

    @property
    def referred_key(self) -> TableKey:
        return (self.referred_schema, self.referred_table)

    @property
    def signature(self) -> tuple[object, ...]:
        return (self.columns, self.referred_schema, self.referred_table, self.referred_columns)


#: Anything that :class:`~limbeck.schema.diff.AddConstraint` may carry.
Constraint: TypeAlias = PrimaryKey | UniqueConstraint | CheckConstraint | ForeignKey


@dataclass(frozen=True, slots=True)
class Index:
    """An index.

    ``elements`` are column names, or for expression elements the
    normalised expression text (``lower(email)``, ``created desc``);
    ``expressions`` lists the positions of the expression elements and
    ``sql`` the expression text as written, for rendering. ``options`` are
    the dialect options that matter, normalised to text
    (``("postgresql_where", "deleted_at is null")``).
    """

    name: str | None
    elements: tuple[str, ...]
    unique: bool = False
    options: tuple[tuple[str, str], ...] = ()
    expressions: tuple[int, ...] = field(default=(), compare=False)
    sql: tuple[str, ...] = field(default=(), compare=False)

    kind = "index"

    def __post_init__(self) -> None:
        if not self.sql:
            object.__setattr__(self, "sql", self.elements)

    @property
    def columns(self) -> tuple[str, ...]:
        """The plain column elements (expressions left out)."""
        exprs = set(self.expressions)
        return tuple(e for i, e in enumerate(self.elements) if i not in exprs)

    @property
    def signature(self) -> tuple[object, ...]:
        return (self.elements, self.unique)


def _named_sort_key(item: Any) -> tuple[str, str]:
    return ("" if item.name is None else item.name, repr(item.signature))


@dataclass(frozen=True, eq=False)
class Table:
    """A table: columns in their order, and its keys, indexes and constraints.

    Indexes and constraints are held in a canonical order (by name, then by
    content), so equality does not depend on the order they were found in.
    """

    name: str
    columns: tuple[Column, ...] = field(default=(), compare=False)
    schema: str | None = None
    primary_key: PrimaryKey | None = None
    indexes: tuple[Index, ...] = ()
    unique_constraints: tuple[UniqueConstraint, ...] = ()
    check_constraints: tuple[CheckConstraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    comment: str | None = None

    def __post_init__(self) -> None:
        if len({c.name for c in self.columns}) != len(self.columns):
            names = [c.name for c in self.columns]
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"table {self.name!r} has duplicate columns {dupes}")
        for attr in ("indexes", "unique_constraints", "check_constraints", "foreign_keys"):
            items = getattr(self, attr)
            object.__setattr__(self, attr, tuple(sorted(items, key=_named_sort_key)))

    @cached_property
    def column_set(self) -> frozenset[Column]:
        """The columns, order left out; built when first compared."""
        return frozenset(self.columns)

    def _compared(self) -> tuple[object, ...]:
        return (
            self.name,
            self.schema,
            self.primary_key,
            self.indexes,
            self.unique_constraints,
            self.check_constraints,
            self.foreign_keys,
            self.comment,
            self.column_set,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Table)
        return self is other or self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)

    @cached_property
    def columns_by_name(self) -> Mapping[str, Column]:
        return {c.name: c for c in self.columns}

    def column(self, name: str) -> Column | None:
        return self.columns_by_name.get(name)

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        """Primary key, unique, check and foreign key constraints together."""
        pk: tuple[Constraint, ...] = () if self.primary_key is None else (self.primary_key,)
        return pk + self.unique_constraints + self.check_constraints + self.foreign_keys

    @property
    def fullname(self) -> str:
        return self.name if self.schema is None else f"{self.schema}.{self.name}"


@dataclass(frozen=True, slots=True)
class EnumType:
    """A named enumerated type that lives on its own (PostgreSQL ``CREATE TYPE``)."""

    name: str
    values: tuple[str, ...]
    schema: str | None = None

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Sequence:
    """A free-standing sequence. Options equal to the database default are None.

    Sequences that only implement a ``SERIAL`` or identity column are not
    part of the model.
    """

    name: str
    schema: str | None = None
    start: int | None = None
    increment: int | None = None
    minvalue: int | None = None
    maxvalue: int | None = None
    cycle: bool | None = None
    cache: int | None = None

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)


def _key_sort(item: Table | EnumType | Sequence) -> tuple[str, str]:
    return (_schema_sort(item.schema), item.name)


@dataclass(frozen=True)
class Schema:
    """A whole schema: tables, free-standing enum types and sequences.

    ``dialect`` names the dialect the model was normalised for; it is
    informational (two models are compared whatever it says).
    """

    tables: tuple[Table, ...] = ()
    enums: tuple[EnumType, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    dialect: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for attr in ("tables", "enums", "sequences"):
            items: tuple[Table | EnumType | Sequence, ...] = tuple(
                sorted(getattr(self, attr), key=_key_sort)
            )
            keys = [i.key for i in items]
            if len(set(keys)) != len(keys):
                dupes = sorted(
                    {k for k in keys if keys.count(k) > 1}, key=lambda k: (_schema_sort(k[0]), k[1])
                )
                raise ValueError(f"duplicate {attr} in schema: {dupes}")
            object.__setattr__(self, attr, items)

    @classmethod
    def of(
        cls,
        tables: Iterable[Table] = (),
        enums: Iterable[EnumType] = (),
        sequences: Iterable[Sequence] = (),
        dialect: str | None = None,
    ) -> Schema:
        """Build a schema from any iterables."""
        return cls(tuple(tables), tuple(enums), tuple(sequences), dialect)

    @cached_property
    def tables_by_key(self) -> Mapping[TableKey, Table]:
        return {t.key: t for t in self.tables}

    @cached_property
    def enums_by_key(self) -> Mapping[TableKey, EnumType]:
        return {e.key: e for e in self.enums}

    @cached_property
    def sequences_by_key(self) -> Mapping[TableKey, Sequence]:
        return {s.key: s for s in self.sequences}

    def table(self, name: str, schema: str | None = None) -> Table | None:
        return self.tables_by_key.get((schema, name))
