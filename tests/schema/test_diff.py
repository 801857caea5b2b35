"""Specific behaviours of diff and apply."""

from __future__ import annotations

import pytest

from limbeck.schema import (
    AddConstraint,
    AddTable,
    AlterColumn,
    AlterEnum,
    ChangeConflict,
    CheckConstraint,
    Column,
    DiffOptions,
    DropConstraint,
    DropTable,
    EnumType,
    ForeignKey,
    PrimaryKey,
    Schema,
    ServerDefault,
    SqlType,
    Table,
    UniqueConstraint,
    apply,
    diff,
)

INT = SqlType("INTEGER")


def table(name: str, *fks: str, **kw: object) -> Table:
    cols = [Column("id", INT, nullable=False)] + [Column(f"{r}_id", INT) for r in fks]
    return Table(
        name,
        tuple(cols),
        primary_key=PrimaryKey(("id",)),
        foreign_keys=tuple(
            ForeignKey((f"{r}_id",), r, ("id",), name=f"fk_{name}_{r}") for r in fks
        ),
        **kw,  # type: ignore[arg-type]
    )


def test_new_tables_follow_their_references_and_cycles_are_split() -> None:
    new = Schema.of([table("a", "b"), table("b", "c"), table("c", "a"), table("d", "a")])
    changes = diff(Schema(), new)
    assert [type(c).__name__ for c in changes] == ["AddTable"] * 4 + ["AddConstraint"]
    assert [c.table.name for c in changes if isinstance(c, AddTable)] == ["a", "c", "b", "d"]
    (late,) = [c for c in changes if isinstance(c, AddConstraint)]
    assert late.from_cycle and late.table_name == "a" and late.constraint.name == "fk_a_b"
    assert apply(Schema(), changes) == new


def test_dropped_tables_go_in_reverse_and_cycles_are_split() -> None:
    old = Schema.of([table("a", "b"), table("b", "a"), table("c", "a")])
    changes = diff(old, Schema())
    assert [type(c).__name__ for c in changes] == ["DropConstraint"] + ["DropTable"] * 3
    assert isinstance(changes[0], DropConstraint) and changes[0].from_cycle
    assert [c.table.name for c in changes if isinstance(c, DropTable)] == ["c", "b", "a"]
    assert apply(old, changes) == Schema()


def test_self_reference_is_not_a_cycle() -> None:
    changes = diff(Schema(), Schema.of([table("node", "node")]))
    assert len(changes) == 1 and isinstance(changes[0], AddTable)


def test_primary_key_change_drops_then_adds() -> None:
    old = Schema.of([table("t")])
    new_table = Table(
        "t",
        (Column("id", INT, nullable=False), Column("v", INT, nullable=False)),
        primary_key=PrimaryKey(("id", "v")),
    )
    changes = diff(old, Schema.of([new_table]))
    assert [c.kind for c in changes] == ["drop_constraint", "add_column", "add_constraint"]
    assert apply(old, changes) == Schema.of([new_table])


def test_unnamed_constraints_match_named_ones_by_content() -> None:
    named = Table(
        "t",
        (Column("id", INT),),
        unique_constraints=(UniqueConstraint(("id",), "t_id_key"),),
        check_constraints=(CheckConstraint("id > 0", "t_id_check"),),
    )
    unnamed = Table(
        "t",
        (Column("id", INT),),
        unique_constraints=(UniqueConstraint(("id",)),),
        check_constraints=(CheckConstraint("id > 0"),),
    )
    assert diff(Schema.of([named]), Schema.of([unnamed])) == []
    assert diff(Schema.of([unnamed]), Schema.of([named])) == []


def test_alter_column_reports_attributes_and_existing_values() -> None:
    old = Column("c", SqlType("VARCHAR", ("10",)), True, ServerDefault("'a'"), comment="x")
    new = Column("c", SqlType("VARCHAR", ("20",)), False, ServerDefault("'a'"), comment="y")
    (change,) = diff(Schema.of([Table("t", (old,))]), Schema.of([Table("t", (new,))]))
    assert isinstance(change, AlterColumn)
    assert change.changed == ("type", "nullable", "comment")
    assert change.old == old and change.new == new


def test_options_turn_comparisons_off() -> None:
    old = Schema.of([Table("t", (Column("c", INT, comment="a"),), comment="a")])
    new = Schema.of([Table("t", (Column("c", SqlType("BIGINT"), comment="b"),), comment="b")])
    assert diff(old, new, DiffOptions(compare_type=False, compare_comment=False)) == []


def test_enum_value_changes() -> None:
    old = EnumType("mood", ("a", "b"))
    change = AlterEnum(old, EnumType("mood", ("a", "x", "b", "c")))
    assert change.added_values == ("x", "c") and change.only_adds
    shrink = AlterEnum(old, EnumType("mood", ("b",)))
    assert shrink.removed_values == ("a",) and not shrink.only_adds
    assert not AlterEnum(old, EnumType("mood", ("b", "a"))).only_adds


def test_apply_refuses_changes_that_do_not_fit() -> None:
    with pytest.raises(ChangeConflict):
        apply(Schema(), [DropTable(table("t"))])
    with pytest.raises(ChangeConflict):
        apply(Schema.of([table("t")]), [AddTable(table("t"))])


def test_column_order_is_not_a_difference() -> None:
    a = Table("t", (Column("x", INT), Column("y", INT)))
    b = Table("t", (Column("y", INT), Column("x", INT)))
    assert a == b and diff(Schema.of([a]), Schema.of([b])) == []
