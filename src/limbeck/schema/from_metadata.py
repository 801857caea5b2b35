"""Build a :class:`~limbeck.schema.model.Schema` from SQLAlchemy ``MetaData``.

Everything is seen the way the target dialect would create it: naming
conventions resolved, types compiled for the dialect, implicit CHECK
constraints of ``Enum``/``Boolean`` kept only where the dialect creates
them, native enum types collected as free-standing types on PostgreSQL,
unique constraints folded into unique indexes on MySQL/MariaDB, options
the backend cannot keep dropped. No database is touched.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import DDLCompiler, IdentifierPreparer, SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from limbeck.schema import model as m
from limbeck.schema.normalize import (
    Rules,
    native_enum_key,
    normalize_default,
    normalize_expression,
    normalize_fk_options,
    normalize_identity,
    normalize_index_element,
    normalize_sequence_options,
    resolve_type,
    rules_for,
    type_descriptor,
)

__all__ = ["VERSION_TABLES", "from_metadata", "load_dialect", "table_reader"]

#: Tables that hold migration state; never part of a compared schema.
VERSION_TABLES = frozenset({"alembic_version", "limbeck_version", "limbeck_history"})


def load_dialect(dialect: Dialect | str) -> Dialect:
    """A dialect instance from a dialect or a name such as ``"postgresql"``."""
    if isinstance(dialect, str):
        cls = sa.engine.make_url(f"{dialect}://").get_dialect()
        instance: Dialect = cls()
        return instance
    return dialect


def _name(value: Any) -> str:
    """``value`` (a name: ``str``, ``quoted_name``, ``conv``) as a plain string, one
    object per distinct name (column names repeat from table to table)."""
    return sys.intern(str(value))


def _dialect_kwargs(item: Any) -> Mapping[str, Any]:
    """The dialect options of an Index or constraint, without making SQLAlchemy build
    (and keep on the item) the empty collections when it has none: they only ever
    arrive through ``dialect_options``."""
    if "dialect_options" not in item.__dict__:
        return {}
    kwargs: Mapping[str, Any] = item.dialect_kwargs
    return kwargs


class _Builder:
    def __init__(
        self, dialect: Dialect, default_schema: str | None, exclude: frozenset[str]
    ) -> None:
        self.dialect = dialect
        self.rules: Rules = rules_for(dialect)
        self.default_schema = default_schema
        self.exclude = exclude
        self.ddl: DDLCompiler = dialect.ddl_compiler(dialect, None)  # type: ignore[arg-type]
        self.sql: SQLCompiler = self.ddl.sql_compiler
        self.preparer: IdentifierPreparer = self.ddl.preparer
        self.enums: dict[m.TableKey, m.EnumType] = {}
        #: one ServerDefault per distinct default: many columns share a few
        self.defaults: dict[tuple[str, str], m.ServerDefault] = {}

    # -- helpers
    def schema_name(self, schema: str | None) -> str | None:
        if schema is None or schema == self.default_schema:
            return None
        return str(schema)

    def constraint_name(self, item: sa.Constraint | sa.Index) -> str | None:
        if item.name is None:
            return None
        try:
            # unquoted: quoting would cache every name on the dialect's preparer
            text = self.preparer.format_constraint(item, _alembic_quote=False)
        except sa.exc.CompileError:  # a convention token that cannot be filled
            return None
        if text is None:
            return None
        return str(text)

    def compile_sql(self, clause: Any) -> str:
        if isinstance(clause, str):
            return clause
        if isinstance(clause, ClauseElement):
            return str(self.sql.process(clause, include_table=False, literal_binds=True))
        return str(clause)

    # -- columns
    def column(self, table: sa.Table, col: sa.Column[Any]) -> m.Column:
        sql_type = type_descriptor(col.type, self.dialect, default_schema=self.default_schema)
        self.collect_enum(col.type)
        default = None
        default_sql = self.ddl.get_column_default_string(col)
        if default_sql is not None:
            normalized = normalize_default(default_sql, sql_type, self.rules)
            default = self.defaults.get((normalized, default_sql))
            if default is None:
                default = m.ServerDefault(normalized, default_sql)
                self.defaults[(normalized, default_sql)] = default
        computed = None
        if col.computed is not None:
            raw = self.compile_sql(col.computed.sqltext)
            persisted = col.computed.persisted
            if persisted is None:
                persisted = self.rules.computed_default_persisted
            computed = m.Computed(normalize_expression(raw), bool(persisted), raw)
        identity = None
        if col.identity is not None and self.rules.identity:
            ident = col.identity
            identity = normalize_identity(
                sql_type.name,
                always=ident.always,
                start=ident.start,
                increment=ident.increment,
                minvalue=ident.minvalue,
                maxvalue=ident.maxvalue,
                cycle=ident.cycle,
                cache=ident.cache,
            )
        comment = col.comment if self.rules.comments and col.comment else None
        return m.Column(
            name=_name(col.name),
            type=sql_type,
            nullable=bool(col.nullable),
            server_default=default,
            computed=computed,
            identity=identity,
            comment=comment,
            autoincrement=table.autoincrement_column is col,
            sa_type=col.type,
        )

    def collect_enum(self, type_: Any) -> None:
        if not self.rules.native_enum_types:
            return
        resolved = resolve_type(type_, self.dialect)
        item = getattr(resolved, "item_type", None)
        if isinstance(resolved, sa.ARRAY) and item is not None:
            resolved = resolve_type(item, self.dialect)
        key = native_enum_key(resolved, self.dialect, self.default_schema)
        if key is None or key in self.enums:
            return
        assert isinstance(resolved, sa.Enum)
        self.enums[key] = m.EnumType(key[1], tuple(resolved.enums), key[0])

    # -- constraints
    def creates(self, constraint: sa.Constraint) -> bool:
        rule: Callable[[DDLCompiler], bool] | None = getattr(constraint, "_create_rule", None)
        return rule is None or bool(rule(self.ddl))

    def foreign_key(self, table: sa.Table, fk: sa.ForeignKeyConstraint) -> m.ForeignKey:
        referred_schema: str | None
        try:
            target = fk.referred_table
            referred_schema, referred_table = target.schema, _name(target.name)
            referred_columns = tuple(_name(e.column.name) for e in fk.elements)
        except (sa.exc.NoReferencedTableError, sa.exc.NoReferencedColumnError):
            parts = [e.target_fullname.rsplit(".", 2) for e in fk.elements]
            first = parts[0]
            referred_schema = first[0] if len(first) == 3 else None
            referred_table = first[-2]
            referred_columns = tuple(p[-1] for p in parts)
        od, ou, d, ini, mt = normalize_fk_options(
            self.rules, fk.ondelete, fk.onupdate, fk.deferrable, fk.initially, fk.match
        )
        return m.ForeignKey(
            columns=tuple(_name(c.name) for c in fk),
            referred_table=referred_table,
            referred_columns=referred_columns,
            referred_schema=self.schema_name(referred_schema),
            name=self.constraint_name(fk),
            ondelete=od,
            onupdate=ou,
            deferrable=d,
            initially=ini,
            match=mt,
        )

    def index(self, idx: sa.Index) -> m.Index:
        elements: list[str] = []
        raw: list[str] = []
        exprs: list[int] = []
        for pos, expr in enumerate(idx.expressions):
            if isinstance(expr, sa.Column):
                elements.append(_name(expr.name))
                raw.append(elements[-1])
                continue
            text = self.compile_sql(expr)
            canon = normalize_index_element(text)
            elements.append(canon)
            raw.append(text)
            if not _is_plain_name(canon):
                exprs.append(pos)
        return m.Index(
            name=self.constraint_name(idx),
            elements=tuple(elements),
            unique=bool(idx.unique),
            options=self.index_options(_dialect_kwargs(idx)),
            expressions=tuple(exprs),
            sql=() if raw == elements else tuple(raw),
        )

    def index_options(self, kwargs: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        family = self.rules.family
        for key, value in kwargs.items():
            if value is None:
                continue
            if family == "postgresql":
                if (
                    key == "postgresql_where"
                    or key == "postgresql_include"
                    or key == ("postgresql_using")
                    or key == "postgresql_nulls_not_distinct"
                ):
                    out.extend(_index_option(key, value, self.compile_sql))
            elif family == "sqlite":
                if key == "sqlite_where":
                    out.extend(_index_option(key, value, self.compile_sql))
            elif family == "mysql" and key in ("mysql_prefix", "mysql_length"):
                out.extend(_index_option(key, value, self.compile_sql))
        return tuple(sorted(out))

    def table(self, table: sa.Table) -> m.Table:
        columns = tuple(self.column(table, c) for c in table.columns)
        pk = None
        # iterating the key, not reading .columns, which SQLAlchemy would keep on it
        if table.primary_key is not None and len(table.primary_key):
            pk = m.PrimaryKey(
                tuple(_name(c.name) for c in table.primary_key),
                self.constraint_name(table.primary_key) if self.rules.pk_names else None,
            )
        uniques: list[m.UniqueConstraint] = []
        checks: list[m.CheckConstraint] = []
        fks: list[m.ForeignKey] = []
        indexes: list[m.Index] = [self.index(i) for i in table.indexes]
        for c in table.constraints:
            if isinstance(c, sa.PrimaryKeyConstraint):
                continue
            if not self.creates(c):
                continue
            if isinstance(c, sa.UniqueConstraint):
                cols = tuple(_name(x.name) for x in c)
                name = self.constraint_name(c)
                if self.rules.unique_is_index:
                    indexes.append(m.Index(name, cols, unique=True))
                else:
                    options = self.index_options(_dialect_kwargs(c))
                    options = tuple(o for o in options if o[0] == "postgresql_nulls_not_distinct")
                    uniques.append(m.UniqueConstraint(cols, name, options))
            elif isinstance(c, sa.CheckConstraint):
                raw = self.compile_sql(c.sqltext)
                checks.append(
                    m.CheckConstraint(normalize_expression(raw), self.constraint_name(c), raw)
                )
            elif isinstance(c, sa.ForeignKeyConstraint):
                fks.append(self.foreign_key(table, c))
        if self.rules.fk_creates_index:
            indexes = drop_implicit_fk_indexes(indexes, fks, pk)
        comment = table.comment if self.rules.comments and table.comment else None
        return m.Table(
            name=str(table.name),
            columns=columns,
            schema=self.schema_name(table.schema),
            primary_key=pk,
            indexes=tuple(indexes),
            unique_constraints=tuple(uniques),
            check_constraints=tuple(checks),
            foreign_keys=tuple(fks),
            comment=comment,
        )

    def sequence(self, seq: sa.Sequence) -> m.Sequence:
        name = str(seq.name)
        schema = self.schema_name(seq.schema)
        if not self.rules.sequence_options:
            return m.Sequence(name, schema)
        type_name = "BIGINT"
        if seq.data_type is not None:
            type_name = type_descriptor(seq.data_type, self.dialect).name
        s, i, lo, hi, cy, ca = normalize_sequence_options(
            type_name,
            seq.start,
            seq.increment,
            None if seq.nominvalue else seq.minvalue,
            None if seq.nomaxvalue else seq.maxvalue,
            seq.cycle,
            seq.cache,
        )
        return m.Sequence(name, schema, s, i, lo, hi, cy, ca)


def _is_plain_name(text: str) -> bool:
    return text.replace("_", "a").replace("$", "a").isalnum() and not text[:1].isdigit()


def _index_option(key: str, value: Any, compile_sql: Callable[[Any], str]) -> list[tuple[str, str]]:
    if key.endswith("_where"):
        return [(key, normalize_expression(compile_sql(value)))]
    if key == "postgresql_include":
        names = [str(getattr(v, "name", v)) for v in value]
        return [(key, ", ".join(names))] if names else []
    if key == "postgresql_using":
        text = str(value).lower()
        return [] if text == "btree" else [(key, text)]
    if key == "postgresql_nulls_not_distinct":
        return [(key, "true")] if value else []
    if key == "mysql_prefix":
        return [(key, str(value).upper())]
    if key == "mysql_length":
        if isinstance(value, Mapping):
            return [(key, ", ".join(f"{k}={v}" for k, v in sorted(value.items())))]
        return [(key, str(value))]
    return [(key, str(value))]


def drop_implicit_fk_indexes(
    indexes: list[m.Index], fks: list[m.ForeignKey], pk: m.PrimaryKey | None
) -> list[m.Index]:
    """Leave out the index MySQL/MariaDB create by themselves for a foreign key.

    Applied to both sides of a comparison alike: a plain index named like a
    foreign key (or, for an unnamed key, like its first column) over exactly
    its columns.
    """
    if not fks:
        return indexes
    implicit: set[tuple[str, tuple[str, ...]]] = set()
    for fk in fks:
        if fk.name:
            implicit.add((fk.name, fk.columns))
        implicit.add((fk.columns[0], fk.columns))
    return [i for i in indexes if i.unique or i.expressions or (i.name, i.elements) not in implicit]


def _metadatas(metadata: sa.MetaData | Iterable[sa.MetaData]) -> list[sa.MetaData]:
    if isinstance(metadata, sa.MetaData):
        return [metadata]
    return list(metadata)


def from_metadata(
    metadata: sa.MetaData | Iterable[sa.MetaData],
    dialect: Dialect | str,
    *,
    default_schema: str | None = None,
    exclude_tables: Iterable[str] = (),
) -> m.Schema:
    """The schema that ``metadata.create_all()`` would create on ``dialect``.

    ``metadata`` is one ``MetaData`` or several (their table keys must not
    clash). ``dialect`` is a SQLAlchemy dialect (``connection.dialect``) or a
    name such as ``"postgresql"``. Tables whose schema is ``default_schema``
    are treated as being in the default schema (``schema=None``), which is
    how :func:`~limbeck.schema.from_database` reports them. Tables named in
    ``exclude_tables`` and the version tables are left out.
    """
    dia = load_dialect(dialect)
    exclude = VERSION_TABLES | frozenset(exclude_tables)
    builder = _Builder(dia, default_schema, exclude)
    tables: list[m.Table] = []
    sequences: dict[m.TableKey, m.Sequence] = {}
    seen: set[m.TableKey] = set()
    for md in _metadatas(metadata):
        for table in md.tables.values():
            if table.name in exclude:
                continue
            built = builder.table(table)
            if built.key in seen:
                raise ValueError(f"table {built.fullname!r} appears in more than one MetaData")
            seen.add(built.key)
            tables.append(built)
        if builder.rules.sequences:
            for seq in getattr(md, "_sequences", {}).values():
                s = builder.sequence(seq)
                sequences.setdefault(s.key, s)
    return m.Schema.of(tables, builder.enums.values(), sequences.values(), dia.name)


def table_reader(
    dialect: Dialect | str, *, default_schema: str | None = None
) -> Callable[[sa.Table], m.Table]:
    """A function building the model of one ``Table`` exactly as :func:`from_metadata`
    builds it for the same ``dialect`` and ``default_schema``.

    For callers that would rather rebuild a table's model when they need it
    again than keep it (autogenerate renders new tables from it).
    """
    builder = _Builder(load_dialect(dialect), default_schema, VERSION_TABLES)
    return builder.table
