"""Build a :class:`~limbeck.schema.model.Schema` by reflecting a live database.

Reflection uses SQLAlchemy's bulk inspector methods (``get_multi_columns``,
``get_multi_indexes``, ...), one call per kind of object and schema, so the
number of queries does not grow with the number of tables on backends that
implement them in bulk (PostgreSQL, Oracle). Enum types come from one
``get_enums`` call and PostgreSQL sequences from one catalog query.

What the database reports is normalised exactly like
:func:`~limbeck.schema.from_metadata` normalises models, so that a database
created by ``metadata.create_all()`` reads back equal to the model.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.reflection import Inspector

from limbeck.schema import model as m
from limbeck.schema.from_metadata import VERSION_TABLES, _index_option, drop_implicit_fk_indexes
from limbeck.schema.normalize import (
    Rules,
    normalize_default,
    normalize_expression,
    normalize_fk_options,
    normalize_identity,
    normalize_index_element,
    normalize_sequence_options,
    rules_for,
    type_descriptor,
)

__all__ = ["IncludeName", "from_database"]

#: ``include_name(name, type_, parent_names) -> bool``, as in Alembic's
#: ``context.configure(include_name=...)``: ``type_`` is ``"schema"``,
#: ``"table"``, ``"column"``, ``"index"``, ``"unique_constraint"``,
#: ``"foreign_key_constraint"`` or ``"check_constraint"``; ``parent_names``
#: has ``schema_name``, ``table_name`` and ``schema_qualified_table_name``.
IncludeName = Callable[[Any, str, Mapping[str, Any]], bool]

_NEXTVAL_RE = re.compile(r"""^nextval\('(?:"?[^'"]*"?\.)?"?([^'"]+)"?'(?:::regclass)?\)$""", re.I)

_PG_SEQUENCES = sa.text(
    """
    SELECT n.nspname AS schema_name, c.relname AS name,
           format_type(s.seqtypid, NULL) AS data_type,
           s.seqstart AS start, s.seqincrement AS increment,
           s.seqmin AS minvalue, s.seqmax AS maxvalue,
           s.seqcycle AS cycle, s.seqcache AS cache
    FROM pg_catalog.pg_sequence s
    JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY(:schemas)
      AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_class'::regclass
          AND d.objid = s.seqrelid
          AND d.deptype IN ('a', 'i')
      )
    """
)


_SQLITE_INDEX_RE = re.compile(
    r"""^\s*CREATE\s+(?P<unique>UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?
    (?P<name>"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\S+?)\s+ON\s+
    (?P<table>"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[^\s(]+)\s*\((?P<rest>.*)$""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)


def _sqlite_ident(text: str) -> str:
    if text[:1] in ('"', "`", "[") and len(text) >= 2:
        body = text[1:-1]
        return body.replace('""', '"') if text[0] == '"' else body
    return text.split(".")[-1]


def _split_top_level(text: str) -> tuple[list[str], str]:
    """Split ``a, f(b, c)) WHERE x`` at top-level commas up to the closing parenthesis."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    buf: list[str] = []
    for i, ch in enumerate(text):
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                parts.append("".join(buf).strip())
                return parts, text[i + 1 :]
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(buf).strip())
            buf = []
            continue
        buf.append(ch)
    raise ValueError("unbalanced parentheses")


def _sqlite_expression_indexes(
    connection: Connection, schema: str | None
) -> dict[str, list[dict[str, Any]]]:
    """Indexes SQLAlchemy skips on SQLite (on expressions), read from their SQL.

    One query for the whole database; keyed by table name.
    """
    master = "sqlite_master" if schema is None else f'"{schema}".sqlite_master'
    rows = connection.exec_driver_sql(
        f"SELECT name, tbl_name, sql FROM {master} WHERE type = 'index' AND sql IS NOT NULL"
    ).all()
    out: dict[str, list[dict[str, Any]]] = {}
    for name, table, sql in rows:
        match = _SQLITE_INDEX_RE.match(sql or "")
        if match is None:
            continue
        try:
            elements, tail = _split_top_level(match.group("rest"))
        except ValueError:
            continue
        where = re.match(r"^\s*WHERE\s+(.*?)\s*;?\s*$", tail, re.IGNORECASE | re.DOTALL)
        out.setdefault(table, []).append(
            {
                "name": name,
                "column_names": [None] * len(elements),
                "expressions": elements,
                "unique": bool(match.group("unique")),
                "dialect_options": {"sqlite_where": where.group(1)} if where else {},
            }
        )
    return out


def _serial_sequence(default: str, table: str, column: str) -> bool:
    """True for the ``nextval(...)`` default a SERIAL column gets by itself."""
    match = _NEXTVAL_RE.match(default.strip())
    if match is None:
        return False
    seq = match.group(1)
    expected = f"{table}_{column}_seq"
    return seq == expected or (len(expected) > 63 and seq.endswith("_seq"))


class _Reflector:
    def __init__(
        self,
        connection: Connection,
        include_name: IncludeName | None,
        exclude: frozenset[str],
    ) -> None:
        self.connection = connection
        self.dialect: Dialect = connection.dialect
        self.rules: Rules = rules_for(self.dialect)
        self.inspector: Inspector = sa.inspect(connection)
        self.default_schema: str | None = self.inspector.default_schema_name
        self.include_name = include_name
        self.exclude = exclude

    def schema_name(self, schema: str | None) -> str | None:
        if schema is None or schema == self.default_schema:
            return None
        return schema

    def included(self, name: Any, type_: str, parents: Mapping[str, Any]) -> bool:
        return self.include_name is None or bool(self.include_name(name, type_, parents))

    def table_names(self, schema: str | None, names: Iterable[str]) -> list[str]:
        out = []
        for name in names:
            if name in self.exclude:
                continue
            if not self.included(name, "table", _parents(schema, name)):
                continue
            out.append(name)
        return out

    def reflect_schema(self, schema: str | None) -> list[m.Table]:
        with warnings.catch_warnings():
            # SQLite: expression indexes are read from their SQL instead
            warnings.filterwarnings(
                "ignore",
                "Skipped unsupported reflection of expression-based index",
                sa.exc.SAWarning,
            )
            return self._reflect_schema(schema)

    def _reflect_schema(self, schema: str | None) -> list[m.Table]:
        everything = self.inspector.get_table_names(schema=schema)
        names = self.table_names(schema, everything)
        if not names:
            return []
        filter_names: list[str] | None = None if len(names) == len(everything) else names
        kw: dict[str, Any] = {"schema": schema, "filter_names": filter_names}
        insp = self.inspector
        columns = insp.get_multi_columns(**kw)
        pks = insp.get_multi_pk_constraint(**kw)
        fks = insp.get_multi_foreign_keys(**kw)
        indexes = insp.get_multi_indexes(**kw)
        if self.rules.family == "sqlite":
            indexes = self.sqlite_indexes(schema, indexes)
        uniques: Mapping[Any, Any] = {}
        if not self.rules.unique_is_index:
            uniques = _optional(lambda: insp.get_multi_unique_constraints(**kw))
        checks = _optional(lambda: insp.get_multi_check_constraints(**kw))
        comments: Mapping[Any, Any] = {}
        if self.rules.comments:
            comments = _optional(lambda: insp.get_multi_table_comment(**kw))
        wanted = set(names)
        tables: list[m.Table] = []
        for key in sorted(columns, key=lambda k: k[1]):
            name = key[1]
            if name not in wanted:
                continue
            tables.append(
                self.table(
                    schema,
                    name,
                    columns[key],
                    pks.get(key),
                    fks.get(key, []),
                    indexes.get(key, []),
                    uniques.get(key, []),
                    checks.get(key, []),
                    comments.get(key),
                )
            )
        return tables

    def sqlite_indexes(
        self, schema: str | None, indexes: Mapping[Any, list[Any]]
    ) -> dict[Any, list[Any]]:
        """Add the expression indexes SQLAlchemy leaves out on SQLite."""
        from_sql = _sqlite_expression_indexes(self.connection, schema)
        out: dict[Any, list[Any]] = {}
        for key, found in indexes.items():
            names = {i.get("name") for i in found}
            extra = [i for i in from_sql.get(key[1], []) if i["name"] not in names]
            out[key] = [*found, *extra]
        return out

    # -- one table
    def table(
        self,
        schema: str | None,
        name: str,
        columns: Sequence[Any],
        pk: Any,
        fks: Sequence[Any],
        indexes: Sequence[Any],
        uniques: Sequence[Any],
        checks: Sequence[Any],
        comment: Any,
    ) -> m.Table:
        parents = _parents(schema, name)
        cols = tuple(
            self.column(name, schema, c)
            for c in columns
            if self.included(c["name"], "column", parents)
        )
        primary_key = None
        if pk and pk.get("constrained_columns"):
            primary_key = m.PrimaryKey(
                tuple(pk["constrained_columns"]), pk.get("name") if self.rules.pk_names else None
            )
        foreign_keys = [
            self.foreign_key(fk)
            for fk in fks
            if self.included(fk.get("name"), "foreign_key_constraint", parents)
        ]
        idx = [
            self.index(i)
            for i in indexes
            if not i.get("duplicates_constraint") and self.included(i.get("name"), "index", parents)
        ]
        if self.rules.fk_creates_index:
            idx = drop_implicit_fk_indexes(idx, foreign_keys, primary_key)
        uqs = [
            m.UniqueConstraint(
                tuple(u["column_names"]),
                u.get("name"),
                _unique_options(u.get("dialect_options") or {}),
            )
            for u in uniques
            if self.included(u.get("name"), "unique_constraint", parents)
        ]
        cks = [
            m.CheckConstraint(normalize_expression(c["sqltext"]), c.get("name"), c["sqltext"])
            for c in checks
            if self.included(c.get("name"), "check_constraint", parents)
        ]
        text = comment.get("text") if isinstance(comment, Mapping) else None
        return m.Table(
            name=name,
            columns=cols,
            schema=self.schema_name(schema),
            primary_key=primary_key,
            indexes=tuple(idx),
            unique_constraints=tuple(uqs),
            check_constraints=tuple(cks),
            foreign_keys=tuple(foreign_keys),
            comment=text or None,
        )

    def column(self, table: str, schema: str | None, info: Mapping[str, Any]) -> m.Column:
        type_ = info["type"]
        sql_type = type_descriptor(type_, self.dialect, default_schema=self.default_schema)
        raw_default = info.get("default")
        default = None
        autoincrement = bool(info.get("autoincrement"))
        if raw_default is not None:
            raw_default = str(raw_default)
            if self.rules.family == "postgresql" and _serial_sequence(
                raw_default, table, info["name"]
            ):
                autoincrement = True
            else:
                default = m.ServerDefault(
                    normalize_default(raw_default, sql_type, self.rules), raw_default
                )
        computed = None
        comp = info.get("computed")
        if comp:
            sqltext = str(comp["sqltext"])
            persisted = comp.get("persisted")
            if persisted is None:
                persisted = self.rules.computed_default_persisted
            computed = m.Computed(normalize_expression(sqltext), bool(persisted), sqltext)
            if default is not None and self.rules.family == "mysql":
                default = None
        identity = None
        ident = info.get("identity")
        if ident and self.rules.identity:
            identity = normalize_identity(
                sql_type.name,
                always=ident.get("always"),
                start=ident.get("start"),
                increment=ident.get("increment"),
                minvalue=ident.get("minvalue"),
                maxvalue=ident.get("maxvalue"),
                cycle=ident.get("cycle"),
                cache=ident.get("cache"),
            )
        comment = info.get("comment") if self.rules.comments else None
        return m.Column(
            name=info["name"],
            type=sql_type,
            nullable=bool(info.get("nullable", True)),
            server_default=default,
            computed=computed,
            identity=identity,
            comment=comment or None,
            autoincrement=autoincrement,
            sa_type=type_,
        )

    def foreign_key(self, fk: Mapping[str, Any]) -> m.ForeignKey:
        opts = fk.get("options") or {}
        od, ou, d, ini, mt = normalize_fk_options(
            self.rules,
            opts.get("ondelete"),
            opts.get("onupdate"),
            opts.get("deferrable"),
            opts.get("initially"),
            opts.get("match"),
        )
        return m.ForeignKey(
            columns=tuple(fk["constrained_columns"]),
            referred_table=fk["referred_table"],
            referred_columns=tuple(fk["referred_columns"]),
            referred_schema=self.schema_name(fk.get("referred_schema")),
            name=fk.get("name"),
            ondelete=od,
            onupdate=ou,
            deferrable=d,
            initially=ini,
            match=mt,
        )

    def index(self, info: Mapping[str, Any]) -> m.Index:
        names: list[str | None] = list(info.get("column_names") or [])
        exprs: list[str] = list(info.get("expressions") or [])
        sorting: Mapping[str, Sequence[str]] = info.get("column_sorting") or {}
        elements: list[str] = []
        raw: list[str] = []
        expr_pos: list[int] = []
        count = max(len(names), len(exprs))
        for pos in range(count):
            col = names[pos] if pos < len(names) else None
            if col is not None:
                order = sorting.get(col, ())
                if order:
                    text = " ".join([col, *(o.replace("_", " ") for o in order)])
                    elements.append(normalize_index_element(text))
                    raw.append(text)
                    expr_pos.append(pos)
                else:
                    elements.append(col)
                    raw.append(col)
                continue
            text = exprs[pos] if pos < len(exprs) else ""
            order = sorting.get(text, ())
            if order:
                text = " ".join([text, *(o.replace("_", " ") for o in order)])
            elements.append(normalize_index_element(text))
            raw.append(text)
            expr_pos.append(pos)
        options: list[tuple[str, str]] = []
        for key, value in (info.get("dialect_options") or {}).items():
            if key in (
                "postgresql_where",
                "postgresql_include",
                "postgresql_using",
                "postgresql_nulls_not_distinct",
                "sqlite_where",
                "mysql_prefix",
                "mysql_length",
            ) and value not in (None, [], (), False, ""):
                options.extend(_index_option(key, value, str))
        return m.Index(
            name=info.get("name"),
            elements=tuple(elements),
            unique=bool(info.get("unique")),
            options=tuple(sorted(options)),
            expressions=tuple(expr_pos),
            sql=tuple(raw),
        )

    # -- enums and sequences
    def enums(self, schemas: Sequence[str | None]) -> list[m.EnumType]:
        if not self.rules.native_enum_types:
            return []
        get_enums = getattr(self.inspector, "get_enums", None)
        if get_enums is None:
            return []
        wanted = {self.default_schema if s is None else s for s in schemas}
        out: list[m.EnumType] = []
        for enum in get_enums(schema="*"):
            schema = enum.get("schema")
            if schema not in wanted:
                continue
            out.append(m.EnumType(enum["name"], tuple(enum["labels"]), self.schema_name(schema)))
        return out

    def sequences(self, schemas: Sequence[str | None]) -> list[m.Sequence]:
        if not self.rules.sequences:
            return []
        real = [self.default_schema if s is None else s for s in schemas]
        if self.rules.family == "postgresql":
            rows = self.connection.execute(_PG_SEQUENCES, {"schemas": real}).mappings()
            out = []
            for row in rows:
                type_name = {"smallint": "SMALLINT", "integer": "INTEGER"}.get(
                    row["data_type"], "BIGINT"
                )
                s, i, lo, hi, cy, ca = normalize_sequence_options(
                    type_name,
                    row["start"],
                    row["increment"],
                    row["minvalue"],
                    row["maxvalue"],
                    row["cycle"],
                    row["cache"],
                )
                out.append(
                    m.Sequence(
                        row["name"], self.schema_name(row["schema_name"]), s, i, lo, hi, cy, ca
                    )
                )
            return out
        out = []
        for schema in schemas:
            try:
                names = self.inspector.get_sequence_names(schema=schema)
            except NotImplementedError:
                return []
            out.extend(m.Sequence(n, self.schema_name(schema)) for n in names)
        return out


def _unique_options(options: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    if options.get("postgresql_nulls_not_distinct"):
        return (("postgresql_nulls_not_distinct", "true"),)
    return ()


def _optional(fetch: Callable[[], Mapping[Any, Any]]) -> Mapping[Any, Any]:
    try:
        return fetch()
    except NotImplementedError:
        return {}


def _parents(schema: str | None, table: str) -> dict[str, Any]:
    return {
        "schema_name": schema,
        "table_name": table,
        "schema_qualified_table_name": table if schema is None else f"{schema}.{table}",
    }


def from_database(
    connection: Connection,
    *,
    schemas: Iterable[str | None] | None = None,
    include_name: IncludeName | None = None,
    exclude_tables: Iterable[str] = (),
) -> m.Schema:
    """Reflect the schema of the database behind ``connection``.

    ``schemas`` lists the schemas to read (None, the default, reads the
    default schema only; put ``None`` in the list for the default schema next
    to others). Tables of the default schema get ``schema=None``.
    ``include_name`` filters names before anything is built (see
    :data:`IncludeName`). The version tables (``alembic_version``,
    ``limbeck_version``, ``limbeck_history``) and the names in
    ``exclude_tables`` are left out.
    """
    reflector = _Reflector(connection, include_name, VERSION_TABLES | frozenset(exclude_tables))
    wanted: list[str | None] = []
    for schema in [None] if schemas is None else list(schemas):
        norm = reflector.schema_name(schema)
        if norm in wanted:
            continue
        if norm is not None and not reflector.included(norm, "schema", {}):
            continue
        wanted.append(norm)
    tables: list[m.Table] = []
    for schema in wanted:
        tables.extend(reflector.reflect_schema(schema))
    return m.Schema.of(
        tables, reflector.enums(wanted), reflector.sequences(wanted), connection.dialect.name
    )
