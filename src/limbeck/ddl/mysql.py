"""MySQL and MariaDB: whole-column MODIFY/CHANGE, filled in from the database.

MySQL restates the whole column to change any part of it, so Alembic needs
``existing_type``, ``existing_nullable``, ``existing_server_default`` and
``existing_comment`` from the script and silently resets what is missing.
Online, limbeck reads whatever the script did not give from the database,
so ``alter_column("t", "c", nullable=False)`` keeps the type, default,
comment and AUTO_INCREMENT. Offline, ``existing_type`` stays mandatory.

``drop_constraint`` without ``type_`` looks the constraint's kind up in
``information_schema`` online.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Index, text
from sqlalchemy import types as sqltypes
from sqlalchemy.schema import AddConstraint, DropConstraint
from sqlalchemy.sql.elements import ClauseElement, TextClause

from limbeck.ddl import constructs as ddl
from limbeck.ddl.impl import DialectImpl, index_table_name, register_builtin_impl
from limbeck.ddl.rebuild import TableRebuild
from limbeck.errors import LimbeckError

__all__ = ["MySQLImpl"]

_CONSTRAINT_TYPES = {
    "FOREIGN KEY": "foreignkey",
    "PRIMARY KEY": "primary",
    "UNIQUE": "unique",
    "CHECK": "check",
}


def _is_expression_default(default: Any) -> bool:
    arg = getattr(default, "arg", default)
    if isinstance(arg, TextClause):
        stripped = arg.text.strip()
        if stripped.startswith("'"):
            return False
        try:
            float(stripped)
        except ValueError:
            return True
        return False
    return isinstance(arg, ClauseElement)


class MySQLImpl(DialectImpl):
    default_transactional_ddl = False
    # MariaDB rejects a named CHECK inside ADD COLUMN.
    column_checks_inline = False
    if_not_exists_note = "MariaDB only"

    def add_column(self, table_name: str, column: Any, **kw: Any) -> None:
        """ADD COLUMN; foreign keys always as ADD CONSTRAINT (InnoDB ignores inline REFERENCES)."""
        if kw.get("if_not_exists") and not getattr(self.dialect, "is_mariadb", False):
            raise self.unsupported("add_column(if_not_exists=True)", table_name, "MariaDB only")
        kw["inline_references"] = False
        super().add_column(table_name, column, **kw)

    def has_create_index_if_not_exists(self) -> bool:
        # MariaDB has it; MySQL does not.
        return bool(getattr(self.dialect, "is_mariadb", False))

    def drop_index(self, index: Index, *, if_exists: bool = False) -> None:
        if if_exists and not getattr(self.dialect, "is_mariadb", False):
            raise self.unsupported(
                "drop_index(if_exists=True)", index_table_name(index), self.if_not_exists_note
            )
        super().drop_index(index, if_exists=if_exists)

    def drop_column(self, table_name: str, column_name: str, **kw: Any) -> None:
        if kw.get("if_exists") and not getattr(self.dialect, "is_mariadb", False):
            raise self.unsupported("drop_column(if_exists=True)", table_name, "MariaDB only")
        super().drop_column(table_name, column_name, **kw)

    def reflected_column(
        self, table_name: str, column_name: str, schema: str | None
    ) -> dict[str, Any] | None:
        if self.as_sql:
            return None
        for col in self.inspector_get("get_columns", table_name, schema=schema):
            if col["name"] == column_name:
                return dict(col)
        return None

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        *,
        nullable: bool | None = None,
        server_default: Any = False,
        name: str | None = None,
        type_: sqltypes.TypeEngine[Any] | None = None,
        schema: str | None = None,
        autoincrement: bool | None = None,
        comment: str | bool | None = False,
        existing_comment: str | None = None,
        existing_type: sqltypes.TypeEngine[Any] | None = None,
        existing_server_default: Any = None,
        existing_nullable: bool | None = None,
        existing_autoincrement: bool | None = None,
        **kw: Any,
    ) -> None:
        # MySQL has AUTO_INCREMENT (autoincrement=True), no identity columns.
        self.refuse_identity_change(table_name, server_default, existing_server_default)
        restate = (
            type_ is not None
            or nullable is not None
            or (name is not None and name != column_name)
            or autoincrement is not None
            or comment is not False
            or (
                server_default is not False
                and server_default is not None
                and _is_expression_default(server_default)
            )
        )
        if not restate:
            if server_default is not False:
                self.execute(
                    ddl.ColumnDefault(
                        table_name,
                        column_name,
                        server_default,
                        schema=schema,
                        existing_type=existing_type,
                    )
                )
            return
        reflected = self.reflected_column(table_name, column_name, schema)
        if reflected is None and not self.as_sql:
            raise LimbeckError(
                f"alter_column: column {column_name!r} of table {table_name!r} "
                f"not found in the {self.dialect.name} database"
            )
        if reflected is not None:
            facts = self._column_facts(table_name, column_name, schema)
            self._refuse_unrestatable(table_name, column_name, reflected, facts)
            if existing_type is None:
                existing_type = reflected["type"]
                if facts.get("json"):
                    # MariaDB's JSON is LONGTEXT plus a json_valid() CHECK that
                    # restating LONGTEXT would drop; JSON brings it back.
                    from sqlalchemy.dialects.mysql import JSON

                    existing_type = JSON()
            if existing_nullable is None:
                existing_nullable = reflected["nullable"]
            if existing_server_default is None or existing_server_default is False:
                existing_server_default = _reflected_default(
                    reflected.get("default") or facts.get("default")
                )
            if existing_comment is None:
                existing_comment = reflected.get("comment")
            if existing_autoincrement is None:
                existing_autoincrement = reflected.get("autoincrement") is True
        final_type = type_ if type_ is not None else existing_type
        if final_type is None:
            raise LimbeckError(
                f"alter_column on {table_name}.{column_name} needs existing_type "
                f"offline on {self.dialect.name}",
                hint="MySQL restates the whole column; pass existing_type=, existing_nullable=, "
                "existing_server_default= and existing_comment=",
            )
        final_nullable = nullable if nullable is not None else existing_nullable
        if final_nullable is None:
            final_nullable = True
        final_default = server_default if server_default is not False else existing_server_default
        final_comment = comment if comment is not False else existing_comment
        final_autoincrement = autoincrement if autoincrement is not None else existing_autoincrement
        new_checks: list[Any] = []
        if type_ is not None:
            # The CHECK of a non-native Enum/Boolean: the old one goes, the new one follows.
            for check in self._type_checks(table_name, column_name, existing_type, schema):
                if isinstance(check.name, str) and check.name:
                    self.execute(DropConstraint(check))
            new_checks = self._type_checks(table_name, name or column_name, type_, schema)
        self.execute(
            ddl.MySQLModifyColumn(
                table_name,
                column_name,
                schema=schema,
                new_name=name,
                type_=final_type,
                nullable=bool(final_nullable),
                server_default=None if final_default is False else final_default,
                autoincrement=final_autoincrement,
                comment=final_comment if isinstance(final_comment, str) else None,
            )
        )
        for check in new_checks:
            self.execute(AddConstraint(check))

    def _column_facts(
        self, table_name: str, column_name: str, schema: str | None
    ) -> dict[str, Any]:
        """What SQLAlchemy's reflection leaves out (MariaDB): the default as
        the server writes it (expressions, ``b'101'``), EXTRA (INVISIBLE,
        generated) and whether a ``json_valid()`` CHECK makes it JSON."""
        assert self.connection is not None
        row = self.connection.execute(
            text(
                "SELECT COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = COALESCE(:s, DATABASE()) AND TABLE_NAME = :t "
                "AND COLUMN_NAME = :c"
            ),
            {"s": schema, "t": table_name, "c": column_name},
        ).first()
        facts: dict[str, Any] = {}
        if row is None:
            return facts
        facts["default"] = row[0]
        facts["extra"] = str(row[1] or "")
        if getattr(self.dialect, "is_mariadb", False):
            checks = self.connection.execute(
                text(
                    "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                    "WHERE CONSTRAINT_SCHEMA = COALESCE(:s, DATABASE()) AND TABLE_NAME = :t"
                ),
                {"s": schema, "t": table_name},
            ).fetchall()
            quoted = f"json_valid(`{column_name}`)"
            facts["json"] = any(
                str(clause).strip().lower() == quoted.lower() for (clause,) in checks
            )
        return facts

    def _refuse_unrestatable(
        self,
        table_name: str,
        column_name: str,
        reflected: Mapping[str, Any],
        facts: Mapping[str, Any],
    ) -> None:
        """MODIFY restates the whole column: refuse where it would quietly
        drop what the column is (generated, invisible)."""
        extra = str(facts.get("extra", "")).upper()
        what = None
        if reflected.get("computed") or "GENERATED" in extra or "VIRTUAL" in extra:
            what = "a generated column"
        elif "INVISIBLE" in extra:
            what = "an invisible column"
        if what is not None:
            raise LimbeckError(
                f"alter_column: {table_name}.{column_name} is {what} on {_server_name(self)}, "
                "which restating it with MODIFY would undo",
                hint="change it with op.execute('ALTER TABLE ... MODIFY ...') written in full",
            )

    def constraint_type(
        self, table_name: str, constraint_name: str, schema: str | None
    ) -> str | None:
        """``foreignkey``/``primary``/``unique``/``check`` from information_schema, online."""
        if self.as_sql:
            return None
        assert self.connection is not None
        row = self.connection.execute(
            text(
                "SELECT constraint_type FROM information_schema.table_constraints "
                "WHERE table_schema = COALESCE(:s, DATABASE()) AND table_name = :t "
                "AND constraint_name = :n"
            ),
            {"s": schema, "t": table_name, "n": constraint_name},
        ).first()
        if row is None:
            return None
        return _CONSTRAINT_TYPES.get(str(row[0]).upper())

    def rebuild_release_names(self, rebuild: TableRebuild, old_name: str) -> None:
        """Foreign key (and MySQL CHECK) names are per database: drop the old table's."""
        if self.as_sql:
            return
        assert self.connection is not None
        kinds = ["FOREIGN KEY"]
        if not getattr(self.dialect, "is_mariadb", False):
            kinds.append("CHECK")
        rows = self.connection.execute(
            text(
                "SELECT constraint_name, constraint_type FROM information_schema.table_constraints "
                "WHERE table_schema = COALESCE(:s, DATABASE()) AND table_name = :t"
            ),
            {"s": rebuild.schema, "t": old_name},
        ).fetchall()
        prep = self.dialect.identifier_preparer
        target = (prep.quote_schema(rebuild.schema) + "." if rebuild.schema else "") + prep.quote(
            old_name
        )
        for name, kind in rows:
            if kind == "FOREIGN KEY":
                self.execute(
                    ddl.RawDDL(f"ALTER TABLE {target} DROP FOREIGN KEY {prep.quote(name)}")
                )
            elif kind == "CHECK" and "CHECK" in kinds:
                self.execute(ddl.RawDDL(f"ALTER TABLE {target} DROP CHECK {prep.quote(name)}"))


def _server_name(impl: DialectImpl) -> str:
    return "mariadb" if getattr(impl.dialect, "is_mariadb", False) else impl.dialect.name


def _reflected_default(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        if value.upper() == "NULL":
            return None
        return text(value)
    return value


register_builtin_impl("mysql", MySQLImpl)
register_builtin_impl("mariadb", MySQLImpl)
