"""Real changes between the models and the database are found, on each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from limbeck.schema import (
    AddColumn,
    AddConstraint,
    AddIndex,
    AddTable,
    AlterColumn,
    AlterEnum,
    AlterTableComment,
    Change,
    DropColumn,
    DropConstraint,
    DropIndex,
    apply,
    diff,
    from_database,
    from_metadata,
)

from .models import NAMING
from .test_reflection import backend_of


def build(backend: str, **v: Any) -> sa.MetaData:
    """A small schema; keyword arguments change one thing each."""
    md = sa.MetaData(naming_convention=NAMING)
    sa.Table(
        "parent",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(10), nullable=False),
        sa.UniqueConstraint("code"),
    )
    child_items: list[Any] = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer),
        sa.Column(
            "name", v.get("name_type", sa.String(50)), server_default=v.get("name_default", "x")
        ),
        sa.Column("qty", sa.Integer, nullable=v.get("qty_nullable", False), server_default="0"),
        sa.Column("mood", sa.Enum(*v.get("mood", ("a", "b")), name="mood")),
        sa.Column("note", sa.Text, comment=v.get("note_comment", "c1")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["parent.id"], ondelete=v.get("ondelete", "CASCADE")
        ),
        sa.CheckConstraint(v.get("check", "qty >= 0"), name="qty_positive"),
    ]
    if "pk" in v:
        child_items[0] = sa.Column("id", sa.Integer, autoincrement=False)
        child_items.append(sa.PrimaryKeyConstraint(*v["pk"]))
    if v.get("drop_column"):
        child_items = [c for c in child_items if getattr(c, "name", None) != "note"]
    if v.get("add_column"):
        child_items.append(sa.Column("extra", sa.Integer))
    if v.get("index", True):
        child_items.append(sa.Index("ix_child_name", "name"))
    if v.get("new_index"):
        child_items.append(sa.Index("ix_child_qty", "qty", "name"))
    if v.get("unique"):
        child_items.append(sa.UniqueConstraint("name", "qty"))
    sa.Table("child", md, *child_items, comment=v.get("table_comment", "t1"))
    if v.get("new_table"):
        sa.Table(
            "extra",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("child_id", sa.ForeignKey("child.id")),
        )
    return md


def describe(change: Change) -> str:
    if isinstance(change, AlterColumn):
        return f"alter_column {change.table_name}.{change.column_name} {','.join(change.changed)}"
    if isinstance(change, (AddColumn, DropColumn)):
        return f"{change.kind} {change.table_name}.{change.column.name}"
    if isinstance(change, (AddIndex, DropIndex)):
        unique = " unique" if change.index.unique else ""
        return f"{change.kind} {change.table_name} {change.index.name}{unique}"
    if isinstance(change, (AddConstraint, DropConstraint)):
        return f"{change.kind} {change.table_name} {change.constraint.kind}"
    if isinstance(change, AlterEnum):
        return f"alter_enum {change.new.name} +{','.join(change.added_values)}"
    if isinstance(change, AlterTableComment):
        return f"alter_table_comment {change.table_name}"
    if isinstance(change, AddTable):
        return f"add_table {change.table.name}"
    return change.kind


ALL = ("sqlite", "postgresql", "mariadb")
Expect = Callable[[str], list[str]]


def same(*lines: str) -> Expect:
    return lambda backend: sorted(lines)


CASES: dict[str, tuple[dict[str, Any], Expect]] = {
    "type": ({"name_type": sa.String(80)}, same("alter_column child.name type")),
    "nullable": ({"qty_nullable": True}, same("alter_column child.qty nullable")),
    "default": ({"name_default": "y"}, same("alter_column child.name server_default")),
    "no default": ({"name_default": None}, same("alter_column child.name server_default")),
    "column comment": (
        {"note_comment": "c2"},
        lambda b: [] if b == "sqlite" else ["alter_column child.note comment"],
    ),
    "table comment": (
        {"table_comment": "t2"},
        lambda b: [] if b == "sqlite" else ["alter_table_comment child"],
    ),
    "add column": ({"add_column": True}, same("add_column child.extra")),
    "drop column": ({"drop_column": True}, same("drop_column child.note")),
    "add index": ({"new_index": True}, same("add_index child ix_child_qty")),
    "drop index": ({"index": False}, same("drop_index child ix_child_name")),
    "add unique": (
        {"unique": True},
        lambda b: (
            ["add_index child uq_child_name_qty unique"]
            if b == "mariadb"
            else ["add_constraint child unique"]
        ),
    ),
    "fk option": (
        {"ondelete": "SET NULL"},
        same("add_constraint child foreign_key", "drop_constraint child foreign_key"),
    ),
    "check": (
        {"check": "qty > 0"},
        same("add_constraint child check", "drop_constraint child check"),
    ),
    "primary key": (
        {"pk": ("id", "qty")},
        same("add_constraint child primary_key", "drop_constraint child primary_key"),
    ),
    "enum values": (
        {"mood": ("a", "b", "c")},
        lambda b: {
            "postgresql": ["alter_enum mood +c"],
            "mariadb": ["alter_column child.mood type"],
            "sqlite": [],  # VARCHAR(1) either way, and no CHECK constraint
        }[b],
    ),
    "longer enum values": (
        {"mood": ("a", "b", "ccc")},
        lambda b: {
            "postgresql": ["alter_enum mood +ccc"],
            "mariadb": ["alter_column child.mood type"],
            "sqlite": ["alter_column child.mood type"],
        }[b],
    ),
    "new table": ({"new_table": True}, same("add_table extra")),
}


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(db_url, poolclass=NullPool)
    yield eng
    eng.dispose()


def test_changes_are_detected(engine: sa.Engine) -> None:
    backend = backend_of(str(engine.url))
    build(backend).create_all(engine)
    with engine.connect() as conn:
        db = from_database(conn)
        dialect = conn.dialect
    assert diff(db, from_metadata(build(backend), dialect)) == []
    failures = []
    for case, (variant, expect) in CASES.items():
        model = from_metadata(build(backend, **variant), dialect)
        changes = diff(db, model)
        got = sorted(describe(c) for c in changes)
        if got != expect(backend):
            failures.append(f"{case}: expected {expect(backend)}, got {got}")
        elif apply(db, changes) != model and diff(apply(db, changes), model):
            failures.append(f"{case}: applying the changes does not give the model")
    assert not failures, "\n".join(failures)


def test_alter_column_keeps_existing_values(engine: sa.Engine) -> None:
    backend = backend_of(str(engine.url))
    build(backend).create_all(engine)
    with engine.connect() as conn:
        db = from_database(conn)
        model = from_metadata(build(backend, name_type=sa.String(80)), conn.dialect)
    (change,) = diff(db, model)
    assert isinstance(change, AlterColumn)
    assert change.old.type.args == ("50",) and change.new.type.args == ("80",)
    assert change.old.nullable is True
    assert change.old.server_default is not None
    assert change.old.server_default.normalized == "'x'"
    assert change.old.sa_type is not None
