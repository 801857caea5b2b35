"""The schema model: what autogenerate, ``check``, drift detection, squash and
lint compare.

A :class:`Schema` is plain immutable data. Build one from SQLAlchemy
``MetaData`` with :func:`from_metadata`, from a live database with
:func:`from_database`, compare two with :func:`diff`, and replay a list of
changes onto one with :func:`apply`.
"""

from __future__ import annotations

from limbeck.schema.diff import (
    COLUMN_ATTRIBUTES,
    AddColumn,
    AddConstraint,
    AddIndex,
    AddTable,
    AlterColumn,
    AlterEnum,
    AlterSequence,
    AlterTableComment,
    Change,
    ChangeConflict,
    CreateEnum,
    CreateSequence,
    DiffOptions,
    DropColumn,
    DropConstraint,
    DropEnum,
    DropIndex,
    DropSequence,
    DropTable,
    apply,
    diff,
)
from limbeck.schema.from_database import IncludeName, from_database
from limbeck.schema.from_metadata import VERSION_TABLES, from_metadata
from limbeck.schema.model import (
    CheckConstraint,
    Column,
    Computed,
    Constraint,
    EnumType,
    ForeignKey,
    Identity,
    Index,
    PrimaryKey,
    Schema,
    Sequence,
    ServerDefault,
    SqlType,
    Table,
    TableKey,
    UniqueConstraint,
)

__all__ = [
    "COLUMN_ATTRIBUTES",
    "VERSION_TABLES",
    "AddColumn",
    "AddConstraint",
    "AddIndex",
    "AddTable",
    "AlterColumn",
    "AlterEnum",
    "AlterSequence",
    "AlterTableComment",
    "Change",
    "ChangeConflict",
    "CheckConstraint",
    "Column",
    "Computed",
    "Constraint",
    "CreateEnum",
    "CreateSequence",
    "DiffOptions",
    "DropColumn",
    "DropConstraint",
    "DropEnum",
    "DropIndex",
    "DropSequence",
    "DropTable",
    "EnumType",
    "ForeignKey",
    "Identity",
    "IncludeName",
    "Index",
    "PrimaryKey",
    "Schema",
    "Sequence",
    "ServerDefault",
    "SqlType",
    "Table",
    "TableKey",
    "UniqueConstraint",
    "apply",
    "diff",
    "from_database",
    "from_metadata",
]
