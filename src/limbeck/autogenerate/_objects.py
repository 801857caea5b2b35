"""SQLAlchemy objects built from the schema model, for operations and hooks.

Operation objects and ``include_object`` hooks want SQLAlchemy ``Table``,
``Column``, ``Index`` and constraint objects; the model holds plain data
plus the original SQLAlchemy type. These builders turn one into the other.
Names in the model are final (naming conventions already applied), so a
name is wrapped in ``conv()`` when the target metadata's conventions could
otherwise rewrite it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import conv
from sqlalchemy.types import TypeEngine

from limbeck.schema import model as m

__all__ = ["Builder"]

_SIMPLE_TYPES: Mapping[str, str] = {
    "INTEGER": "Integer",
    "BIGINT": "BigInteger",
    "SMALLINT": "SmallInteger",
    "TEXT": "Text",
    "BOOLEAN": "Boolean",
    "DATE": "Date",
    "FLOAT": "Float",
    "JSON": "JSON",
}


def fallback_type(sql_type: m.SqlType) -> TypeEngine[Any]:
    """A SQLAlchemy type for a model column that carries none (hand-built models)."""
    name = sql_type.name.upper()
    args = [int(a) for a in sql_type.args if a.isdigit()]
    if name in ("VARCHAR", "CHAR", "NVARCHAR") and args:
        return sa.String(args[0])
    if name in ("NUMERIC", "DECIMAL") and args:
        scale = args[1] if len(args) > 1 else None
        numeric: TypeEngine[Any] = sa.Numeric(args[0], scale)
        return numeric
    if name.startswith("TIMESTAMP") or name == "DATETIME":
        return sa.DateTime(timezone="WITH TIME ZONE" in name)
    cls = getattr(sa, _SIMPLE_TYPES.get(name, ""), None)
    if cls is not None:
        instance: TypeEngine[Any] = cls()
        return instance
    return sa.types.NullType()


class Builder:
    """Builds SQLAlchemy objects from model objects.

    ``final_names``: wrap names in ``conv()`` (rendered ``op.f('...')``) so
    a naming convention that uses ``%(constraint_name)s`` leaves them alone.
    """

    def __init__(self, final_names: bool = False) -> None:
        self.final_names = final_names

    def name(self, name: str | None) -> Any:
        if name is None:
            return None
        return conv(name) if self.final_names else name

    def type_of(self, column: m.Column) -> TypeEngine[Any]:
        return column.sa_type if column.sa_type is not None else fallback_type(column.type)

    def server_default(self, default: m.ServerDefault | None) -> Any:
        if default is None:
            return None
        return sa.text(default.sql)

    def identity(self, identity: m.Identity) -> sa.Identity:
        return sa.Identity(
            always=identity.always,
            start=identity.start,
            increment=identity.increment,
            minvalue=identity.minvalue,
            maxvalue=identity.maxvalue,
            cycle=identity.cycle,
            cache=identity.cache,
        )

    def column(self, column: m.Column, *, autoincrement: Any = "auto") -> sa.Column[Any]:
        args: list[Any] = []
        if column.computed is not None:
            args.append(
                sa.Computed(sa.text(column.computed.sql), persisted=column.computed.persisted)
            )
        if column.identity is not None:
            args.append(self.identity(column.identity))
        kw: dict[str, Any] = {"nullable": column.nullable}
        if column.server_default is not None and column.identity is None:
            kw["server_default"] = self.server_default(column.server_default)
        if column.comment is not None:
            kw["comment"] = column.comment
        if autoincrement != "auto":
            kw["autoincrement"] = autoincrement
        return sa.Column(column.name, self.type_of(column), *args, **kw)

    def primary_key(self, pk: m.PrimaryKey) -> sa.PrimaryKeyConstraint:
        return sa.PrimaryKeyConstraint(*pk.columns, name=self.name(pk.name))

    def unique(self, uc: m.UniqueConstraint) -> sa.UniqueConstraint:
        kw: dict[str, Any] = {k: v == "true" for k, v in uc.options}
        return sa.UniqueConstraint(*uc.columns, name=self.name(uc.name), **kw)

    def check(self, ck: m.CheckConstraint) -> sa.CheckConstraint:
        return sa.CheckConstraint(sa.text(ck.sql), name=self.name(ck.name))

    def foreign_key(self, fk: m.ForeignKey) -> sa.ForeignKeyConstraint:
        prefix = f"{fk.referred_schema}." if fk.referred_schema else ""
        return sa.ForeignKeyConstraint(
            list(fk.columns),
            [f"{prefix}{fk.referred_table}.{c}" for c in fk.referred_columns],
            name=self.name(fk.name),
            ondelete=fk.ondelete,
            onupdate=fk.onupdate,
            deferrable=fk.deferrable,
            initially=fk.initially,
            match=fk.match,
        )

    def index_elements(self, index: m.Index) -> list[Any]:
        exprs = set(index.expressions)
        return [sa.text(sql) if pos in exprs else sql for pos, sql in enumerate(index.sql)]

    def index_options(self, index: m.Index) -> dict[str, Any]:
        return index_options(index.options)

    def index(self, index: m.Index) -> sa.Index:
        return sa.Index(
            self.name(index.name),
            *self.index_elements(index),
            unique=index.unique,
            **self.index_options(index),
        )

    def autoincrement(self, table: m.Table, column: m.Column) -> Any:
        """The ``autoincrement`` argument for ``column`` of ``table``: False for a
        single-column primary key the model says does not auto-increment."""
        pk = table.primary_key
        single = pk is not None and len(pk.columns) == 1 and column.name == pk.columns[0]
        return False if single and not column.autoincrement else "auto"

    def constraints(self, table: m.Table, *, with_fks: bool = True) -> list[sa.Constraint]:
        """Primary key, unique, check and (``with_fks``) foreign key constraints, in this order."""
        out: list[sa.Constraint] = []
        if table.primary_key is not None:
            out.append(self.primary_key(table.primary_key))
        out += [self.unique(u) for u in table.unique_constraints]
        out += [self.check(c) for c in table.check_constraints]
        if with_fks:
            out += [self.foreign_key(f) for f in table.foreign_keys]
        return out

    def table(
        self, table: m.Table, metadata: sa.MetaData | None = None, *, with_fks: bool = True
    ) -> sa.Table:
        """A Table with the columns, keys, constraints and indexes of ``table``."""
        md = metadata if metadata is not None else sa.MetaData()
        items: list[Any] = [
            self.column(col, autoincrement=self.autoincrement(table, col)) for col in table.columns
        ]
        items += self.constraints(table, with_fks=with_fks)
        items += [self.index(i) for i in table.indexes]
        kw: dict[str, Any] = {}
        if table.comment is not None:
            kw["comment"] = table.comment
        return sa.Table(table.name, md, *items, schema=table.schema, **kw)


def index_options(options: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Dialect keyword arguments of an index from the model's normalised options."""
    out: dict[str, Any] = {}
    for key, value in options:
        if key.endswith("_where"):
            out[key] = sa.text(value)
        elif key == "postgresql_include":
            out[key] = [v.strip() for v in value.split(",") if v.strip()]
        elif key == "postgresql_nulls_not_distinct":
            out[key] = value == "true"
        elif key == "mysql_length" and "=" in value:
            out[key] = {
                k.strip(): int(v) for k, v in (p.split("=") for p in value.split(",")) if v.strip()
            }
        elif key == "mysql_length" and value.isdigit():
            out[key] = int(value)
        else:
            out[key] = value
    return out
