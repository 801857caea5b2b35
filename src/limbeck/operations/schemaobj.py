"""Building the throw-away SQLAlchemy objects directives compile from.

A directive names a table and columns; SQLAlchemy's DDL constructs want
Table, Column, Constraint and Index objects. :class:`SchemaObjects` builds
minimal ones ("stub" tables holding just the columns a statement mentions),
in a MetaData that carries the migration's naming convention so
constraints created by directives get the names the models would give them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.schema import Constraint
from sqlalchemy.sql.elements import ClauseElement, TextClause
from sqlalchemy.types import NullType

from limbeck.errors import LimbeckError

__all__ = ["SchemaObjects", "naming_convention_of"]


def naming_convention_of(opts: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The naming convention of ``opts["target_metadata"]`` (the first one if a list)."""
    if not opts:
        return None
    target = opts.get("target_metadata")
    if isinstance(target, list | tuple):
        target = target[0] if target else None
    convention = getattr(target, "naming_convention", None)
    return dict(convention) if convention else None


class SchemaObjects:
    """Factory of stub tables, columns, constraints and indexes for one run."""

    def __init__(self, naming_convention: Mapping[str, Any] | None = None) -> None:
        self.naming_convention = dict(naming_convention) if naming_convention else None

    def metadata(self) -> MetaData:
        if self.naming_convention:
            return MetaData(naming_convention=self.naming_convention)
        return MetaData()

    def table(self, name: str, *items: Any, schema: str | None = None, **kw: Any) -> Table:
        """A Table of ``items`` (columns, constraints, indexes) in a fresh MetaData.

        Keys of ``kw`` that SQLAlchemy's Table takes (``comment``, ``info``,
        ``prefixes``, dialect options) go to the Table.
        """
        metadata = kw.pop("_metadata", None) or self.metadata()
        columns = [i for i in items if isinstance(i, Column)]
        others = [i for i in items if not isinstance(i, Column)]
        table = Table(name, metadata, *columns, *others, schema=schema, **kw)
        self._stub_fk_targets(table)
        return table

    def _stub_fk_targets(self, table: Table) -> None:
        from limbeck.ddl.rebuild import ensure_fk_targets

        ensure_fk_targets(table)

    def stub_table(
        self, name: str, column_names: Sequence[str], schema: str | None = None
    ) -> Table:
        return Table(
            name,
            self.metadata(),
            *[Column(c, NullType()) for c in dict.fromkeys(column_names)],
            schema=schema,
        )

    def primary_key_constraint(
        self,
        name: str | None,
        table_name: str,
        columns: Sequence[str],
        schema: str | None = None,
        **kw: Any,
    ) -> PrimaryKeyConstraint:
        table = self.stub_table(table_name, columns, schema)
        constraint = PrimaryKeyConstraint(*columns, name=name, **kw)
        table.append_constraint(constraint)
        return constraint

    def unique_constraint(
        self,
        name: str | None,
        table_name: str,
        columns: Sequence[str],
        schema: str | None = None,
        **kw: Any,
    ) -> UniqueConstraint:
        table = self.stub_table(table_name, columns, schema)
        constraint = UniqueConstraint(*[table.c[c] for c in columns], name=name, **kw)
        table.append_constraint(constraint)
        return constraint

    def check_constraint(
        self,
        name: str | None,
        table_name: str,
        condition: str | ClauseElement,
        schema: str | None = None,
        **kw: Any,
    ) -> CheckConstraint:
        table = Table(table_name, self.metadata(), schema=schema)
        constraint = CheckConstraint(condition, name=name, **kw)  # type: ignore[arg-type]
        table.append_constraint(constraint)
        return constraint

    def foreign_key_constraint(
        self,
        name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        source_schema: str | None = None,
        referent_schema: str | None = None,
        **dialect_kw: Any,
    ) -> ForeignKeyConstraint:
        metadata = self.metadata()
        if source_table == referent_table and source_schema == referent_schema:
            both = list(dict.fromkeys([*local_cols, *remote_cols]))
            source = Table(
                source_table, metadata, *[Column(c, NullType()) for c in both], schema=source_schema
            )
            referent = source
        else:
            source = Table(
                source_table,
                metadata,
                *[Column(c, NullType()) for c in dict.fromkeys(local_cols)],
                schema=source_schema,
            )
            referent = Table(
                referent_table,
                metadata,
                *[Column(c, NullType()) for c in dict.fromkeys(remote_cols)],
                schema=referent_schema,
            )
        constraint = ForeignKeyConstraint(
            list(local_cols),
            [referent.c[c] for c in remote_cols],
            name=name,
            onupdate=onupdate,
            ondelete=ondelete,
            deferrable=deferrable,
            initially=initially,
            match=match,
            **dialect_kw,
        )
        source.append_constraint(constraint)
        return constraint

    def exclude_constraint(
        self,
        name: str | None,
        table_name: str,
        elements: Sequence[tuple[Any, str]],
        *,
        where: str | ClauseElement | None = None,
        schema: str | None = None,
        **kw: Any,
    ) -> Constraint:
        from sqlalchemy.dialects.postgresql import ExcludeConstraint

        names = [e for e, _op in elements if isinstance(e, str)]
        table = self.stub_table(table_name, names, schema)
        constraint = ExcludeConstraint(*elements, name=name, where=where, **kw)
        table.append_constraint(constraint)
        return constraint

    def generic_constraint(
        self,
        name: str | None,
        table_name: str,
        type_: str | None,
        schema: str | None = None,
    ) -> Constraint:
        """A constraint to DROP, of the kind ``type_`` names."""
        table = Table(table_name, self.metadata(), schema=schema)
        constraint: Constraint
        if type_ in (None, "check"):
            constraint = CheckConstraint("1 = 1", name=name)
        elif type_ == "foreignkey":
            constraint = _dummy_fk(table, name)
            return constraint
        elif type_ == "unique":
            constraint = UniqueConstraint(name=name)
        elif type_ == "primary":
            constraint = PrimaryKeyConstraint(name=name)
        else:
            raise LimbeckError(
                f"drop_constraint: type_={type_!r} on table {table_name!r} is not one of "
                "'foreignkey', 'primary', 'unique', 'check'"
            )
        table.append_constraint(constraint)
        if type_ is None:
            constraint.info["limbeck_type_unknown"] = True
        return constraint

    def index(
        self,
        name: str | None,
        table_name: str | None,
        columns: Sequence[str | ClauseElement],
        schema: str | None = None,
        **kw: Any,
    ) -> Index:
        """An Index on a stub table; strings are column names, others expressions."""
        names = [c for c in columns if isinstance(c, str)]
        for key, value in kw.items():
            # INCLUDE columns (postgresql_include, mssql_include) must be in the table too.
            if key.endswith("_include") and isinstance(value, list | tuple):
                names += [v for v in value if isinstance(v, str)]
        table = self.stub_table(table_name or "_unknown_", names, schema)
        exprs: list[Any] = []
        for c in columns:
            if isinstance(c, str):
                exprs.append(table.c[c])
            elif isinstance(c, TextClause | ClauseElement):
                exprs.append(c)
            else:
                raise LimbeckError(f"index {name!r}: cannot index {c!r}")
        index = Index(name, *exprs, _table=table, **kw)
        return index


def _dummy_fk(table: Table, name: str | None) -> ForeignKeyConstraint:
    table.append_column(Column("_limbeck_x", NullType()))
    target = Table("_limbeck_target", table.metadata, Column("_limbeck_y", NullType()))
    constraint = ForeignKeyConstraint(["_limbeck_x"], [target.c._limbeck_y], name=name)
    table.append_constraint(constraint)
    return constraint
