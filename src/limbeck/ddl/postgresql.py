"""PostgreSQL: transactional DDL, ENUM type life cycle, ``USING`` casts.

Beyond what Alembic does here:

* ``add_column`` (and ``alter_column`` to a new ENUM) creates the ENUM type
  if it does not exist yet; offline this is a ``DO`` block that ignores an
  existing type.
* ``drop_table`` and ``drop_column`` note the ENUM types the dropped
  columns used; :meth:`PostgresqlImpl.flush`, run by the runtime at the end
  of each migration step, drops those that nothing uses any more (with
  ``DROP TYPE IF EXISTS``, so a script that drops the type itself still
  works). Pass ``postgresql_keep_enum=True`` to the directive to keep them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Enum, MetaData, Table, text
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql import ENUM
from sqlalchemy.schema import Column, UniqueConstraint

from limbeck.ddl import constructs as ddl
from limbeck.ddl.impl import DialectImpl, register_builtin_impl
from limbeck.ddl.rebuild import TableRebuild
from limbeck.errors import LimbeckError

__all__ = ["PostgresqlImpl"]

_ENUMS_OF_TABLE = """
SELECT DISTINCT tn.nspname, t.typname
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_type at ON at.oid = a.atttypid
JOIN pg_type t ON t.oid = CASE WHEN at.typelem <> 0 AND at.typlen = -1
                               THEN at.typelem ELSE at.oid END
JOIN pg_namespace tn ON tn.oid = t.typnamespace
WHERE c.relname = CAST(:table AS TEXT)
  AND cn.nspname = COALESCE(CAST(:schema AS TEXT), current_schema())
  AND a.attnum > 0 AND NOT a.attisdropped
  AND t.typtype = 'e'
  AND (CAST(:column AS TEXT) IS NULL OR a.attname = CAST(:column AS TEXT))
"""

_ENUM_IN_USE = """
SELECT 1
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_depend d ON d.refobjid IN (t.oid, t.typarray)
WHERE n.nspname = CAST(:schema AS TEXT) AND t.typname = CAST(:name AS TEXT)
  AND NOT (d.classid = 'pg_type'::regclass AND d.objid = t.typarray)
LIMIT 1
"""


def _enum_types(type_: Any) -> list[Any]:
    inner = getattr(type_, "item_type", None)
    if inner is not None:
        type_ = inner
    if isinstance(type_, sqltypes.SchemaType) and isinstance(type_, Enum) and type_.native_enum:
        return [type_]
    return []


def _declared_key_names(table: Table) -> list[str]:
    """Names of the primary key and unique constraints of a table definition,
    with PostgreSQL's default name for an unnamed one (unique first, as the
    online query orders them)."""
    names: list[str] = []
    for constraint in sorted(table.constraints, key=lambda c: str(c.name or "")):
        if isinstance(constraint, UniqueConstraint) and len(constraint.columns):
            columns = "_".join(column.name for column in constraint.columns)
            names.append(_pg_name(constraint.name, f"{table.name}_{columns}_key"))
    primary = table.primary_key
    if primary is not None and len(primary.columns):
        names.append(_pg_name(primary.name, f"{table.name}_pkey"))
    return names


def _pg_name(declared: object, default: str) -> str:
    if isinstance(declared, str) and declared:
        return declared
    if len(default) > _PG_MAX_NAME:
        # PostgreSQL shortens such names its own way; guessing wrong would
        # make the script fail on a DROP CONSTRAINT of a name that is not there.
        raise LimbeckError(
            f"batch with copy_from on PostgreSQL: the unnamed key constraint {default!r} "
            f"is longer than {_PG_MAX_NAME} characters, so its name is not known offline",
            hint="give the constraint its name (the one the database shows) in copy_from",
        )
    return default


_PG_MAX_NAME = 63


class PostgresqlImpl(DialectImpl):
    default_transactional_ddl = True

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        #: ENUM types (schema, name) whose last known user was dropped this step.
        self.pending_enum_drops: list[tuple[str, str]] = []

    # -- ENUM creation ------------------------------------------------------------------

    def ensure_enum(self, type_: Any) -> None:
        """Create a native ENUM type unless it exists (or was created this run)."""
        for enum in _enum_types(type_):
            if not getattr(enum, "create_type", True):
                continue
            key = ("limbeck_enum", enum.schema, enum.name)
            if key in self.memo:
                continue
            self.memo[key] = True
            # SQLAlchemy's own memo: a CREATE TABLE later in this run must not
            # create the type again.
            self.memo.setdefault("pg_enum", set()).add((enum.schema, enum.name))
            pg_enum = (
                enum
                if isinstance(enum, ENUM)
                else ENUM(*enum.enums, name=enum.name, schema=enum.schema)
            )
            if self.as_sql:
                create = self.compile(_create_type(pg_enum))
                self.execute(
                    ddl.RawDDL(
                        "DO $limbeck$ BEGIN " + create + "; "
                        "EXCEPTION WHEN duplicate_object THEN NULL; END $limbeck$"
                    )
                )
            else:
                pg_enum.create(self.bind, checkfirst=True)

    def before_add_column(self, column: Column[Any]) -> None:
        self.ensure_enum(column.type)

    def alter_type(
        self,
        table_name: str,
        column_name: str,
        type_: sqltypes.TypeEngine[Any],
        existing: dict[str, Any],
        kw: Any,
    ) -> None:
        self.ensure_enum(type_)
        super().alter_type(table_name, column_name, type_, existing, kw)

    def drop_enum(self, name: str, schema: str | None) -> None:
        """``DROP TYPE IF EXISTS`` (and forget that this run created it)."""
        self.memo.pop(("limbeck_enum", schema, name), None)
        self.memo.get("pg_enum", set()).discard((schema, name))
        prep = self.dialect.identifier_preparer
        target = (prep.quote_schema(schema) + "." if schema else "") + prep.quote(name)
        self.execute(ddl.RawDDL(f"DROP TYPE IF EXISTS {target}"))

    # -- ENUM clean-up ----------------------------------------------------------------

    def note_enums_of(self, table_name: str, schema: str | None, column: str | None) -> None:
        if self.as_sql:
            return
        assert self.connection is not None
        rows = self.connection.execute(
            text(_ENUMS_OF_TABLE), {"table": table_name, "schema": schema, "column": column}
        )
        for nspname, typname in rows:
            if (nspname, typname) not in self.pending_enum_drops:
                self.pending_enum_drops.append((nspname, typname))

    def drop_table(self, table: Table, *, if_exists: bool = False, **kw: Any) -> None:
        if not kw.get("postgresql_keep_enum"):
            self.note_enums_of(table.name, table.schema, None)
        super().drop_table(table, if_exists=if_exists)

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
        **kw: Any,
    ) -> None:
        if not kw.get("postgresql_keep_enum"):
            self.note_enums_of(table_name, schema, column_name)
        super().drop_column(table_name, column_name, schema=schema, if_exists=if_exists)

    def flush(self) -> None:
        """Drop the ENUM types noted by drop_table/drop_column that nothing uses now."""
        pending, self.pending_enum_drops = self.pending_enum_drops, []
        if self.as_sql:
            return
        assert self.connection is not None
        for schema, name in pending:
            used = self.connection.execute(
                text(_ENUM_IN_USE), {"schema": schema, "name": name}
            ).first()
            if used is None:
                quoted = self.dialect.identifier_preparer
                self.execute(
                    ddl.RawDDL(
                        f"DROP TYPE IF EXISTS {quoted.quote_schema(schema)}.{quoted.quote(name)}"
                    )
                )

    # -- rebuild ------------------------------------------------------------------------

    def rebuild_release_names(self, rebuild: TableRebuild, old_name: str) -> None:
        """Drop the old table's primary key, unique and exclusion constraints.

        Their indexes share the schema's namespace with the new table's.
        Offline the names come from the table's definition (``copy_from``),
        unnamed ones by PostgreSQL's own naming (``<table>_pkey``,
        ``<table>_<columns>_key``).
        """
        if self.as_sql:
            names = _declared_key_names(rebuild.old_table)
        else:
            names = self._key_constraint_names(rebuild, old_name)
        prep = self.dialect.identifier_preparer
        target = (prep.quote_schema(rebuild.schema) + "." if rebuild.schema else "") + prep.quote(
            old_name
        )
        for name in names:
            self.execute(ddl.RawDDL(f"ALTER TABLE {target} DROP CONSTRAINT {prep.quote(name)}"))

    def _key_constraint_names(self, rebuild: TableRebuild, old_name: str) -> list[str]:
        assert self.connection is not None
        rows = self.connection.execute(
            text(
                "SELECT con.conname FROM pg_constraint con "
                "JOIN pg_class c ON c.oid = con.conrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = CAST(:t AS TEXT) "
                "AND n.nspname = COALESCE(CAST(:s AS TEXT), current_schema()) "
                "AND con.contype IN ('p', 'u', 'x') ORDER BY con.contype DESC"
            ),
            {"t": old_name, "s": rebuild.schema},
        ).fetchall()
        return [name for (name,) in rows]

    def rebuild_before_drop_old(self, rebuild: TableRebuild, old_name: str) -> None:
        """Keep SERIAL sequences alive: detach them from the old table."""
        owned: list[tuple[str, str, str]] = []
        if not self.as_sql:
            assert self.connection is not None
            rows = self.connection.execute(
                text(
                    "SELECT sn.nspname, s.relname, a.attname FROM pg_depend d "
                    "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
                    "JOIN pg_namespace sn ON sn.oid = s.relnamespace "
                    "JOIN pg_class c ON c.oid = d.refobjid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid "
                    "WHERE c.relname = CAST(:t AS TEXT) "
                    "AND n.nspname = COALESCE(CAST(:s AS TEXT), current_schema()) "
                    "AND d.deptype = 'a'"
                ),
                {"t": old_name, "s": rebuild.schema},
            ).fetchall()
            prep = self.dialect.identifier_preparer
            for seq_schema, seq, col in rows:
                qualified = f"{prep.quote_schema(seq_schema)}.{prep.quote(seq)}"
                self.execute(ddl.RawDDL(f"ALTER SEQUENCE {qualified} OWNED BY NONE"))
                owned.append((qualified, col, seq))
        rebuild.state["sequences"] = owned

    def rebuild_copy_rows(self, rebuild: TableRebuild, statement: Any) -> None:
        always = [
            c
            for c in rebuild.new_table.columns
            if c.identity is not None and c.identity.always and c.name in rebuild.sources
        ]
        if always:
            sql = self.compile(statement).replace(") SELECT", ") OVERRIDING SYSTEM VALUE SELECT", 1)
            self.execute(ddl.RawDDL(sql))
        else:
            self.execute(statement)

    def rebuild_finish(self, rebuild: TableRebuild) -> None:
        prep = self.dialect.identifier_preparer
        target = (prep.quote_schema(rebuild.schema) + "." if rebuild.schema else "") + prep.quote(
            rebuild.table_name
        )
        new_columns = {c.name for c in rebuild.new_table.columns}
        for qualified, col, _seq in rebuild.state.get("sequences", []):
            if col in new_columns:
                self.execute(
                    ddl.RawDDL(f"ALTER SEQUENCE {qualified} OWNED BY {target}.{prep.quote(col)}")
                )
        literal_table = prep.quote(rebuild.table_name)
        if rebuild.schema:
            literal_table = prep.quote_schema(rebuild.schema) + "." + literal_table
        for column in _counters_to_advance(rebuild, offline=self.as_sql):
            self.execute(
                ddl.RawDDL(
                    "SELECT setval(pg_get_serial_sequence("
                    f"'{literal_table.replace(chr(39), chr(39) * 2)}', "
                    f"'{column.name.replace(chr(39), chr(39) * 2)}'), "
                    f"COALESCE(MAX({prep.quote(column.name)}), 0) + 1, false) "
                    f"FROM {target}"
                )
            )
        super().rebuild_finish(rebuild)


def _counters_to_advance(rebuild: TableRebuild, *, offline: bool) -> list[Column[Any]]:
    """Columns of the rebuilt table whose new sequence must move past the copied values.

    Identity columns get a new sequence. Offline, a SERIAL column (the
    ``copy_from`` definition, not a reflected ``nextval`` default) gets one
    too, because the old sequence cannot be looked up and handed over.
    """
    table = rebuild.new_table
    serial = table._autoincrement_column if offline else None
    counters = []
    for column in table.columns:
        if column.name not in rebuild.sources:
            continue
        if column.identity is not None or (column is serial and column.server_default is None):
            counters.append(column)
    return counters


def _create_type(enum: ENUM) -> Any:
    from sqlalchemy.dialects.postgresql.named_types import CreateEnumType

    return CreateEnumType(enum)


_ = MetaData
register_builtin_impl("postgresql", PostgresqlImpl)
