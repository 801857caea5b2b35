"""The field-declared record classes behind the operation objects (``_oprecord``)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from limbeck.operations import ops
from limbeck.operations._oprecord import field, fields_of, frozen_op, mutable_op


@frozen_op
class _Base:
    name: str
    size: int = 1
    tags: list[str] = field(default_factory=list)


@frozen_op
class _Child(_Base):
    extra: str | None = None
    size: int = 2  # redeclared: keeps its place, new default
    kind: ClassVar[str] = "child"


@mutable_op
class _Box:
    items: list[Any] = field(default_factory=list)
    label: str = ""


def test_fields_in_order_base_classes_first() -> None:
    assert fields_of(_Base) == ("name", "size", "tags")
    assert fields_of(_Child) == ("name", "size", "tags", "extra")
    child = _Child("n", 5, ["t"], "e")
    assert (child.name, child.size, child.tags, child.extra) == ("n", 5, ["t"], "e")
    assert _Child("n").size == 2 and _Base("n").size == 1
    assert _Child.kind == "child"
    assert _Child.__match_args__ == ("name", "size", "tags", "extra")
    # the same order as the dataclasses these classes used to be
    assert fields_of(ops.CreateTableOp) == (
        "table_name",
        "columns",
        "schema",
        "if_not_exists",
        "kw",
        "_namespace_metadata",
        "_constraints_included",
    )
    assert fields_of(ops.UpgradeOps) == ("ops", "upgrade_token")
    assert fields_of(ops.ModifyTableOps) == ("ops", "table_name", "schema")
    upgrade = ops.UpgradeOps([], "custom")
    assert upgrade.upgrade_token == "custom"


def test_defaults_and_factories_are_not_shared() -> None:
    one, two = _Base("a"), _Base("b")
    assert one.tags == [] and one.tags is not two.tags
    assert "tags" not in vars(_Base)  # as dataclasses: no class attribute for a factory
    assert ops.UpgradeOps().ops is not ops.UpgradeOps().ops
    assert ops.CreateTableOp("t", []).kw is not ops.CreateTableOp("t", []).kw
    script = ops.MigrationScript("r", ops.UpgradeOps(), ops.DowngradeOps())
    assert script.imports == set()
    assert (
        script.imports
        is not ops.MigrationScript("r", script.upgrade_ops, ops.DowngradeOps()).imports
    )

    with pytest.raises(ValueError, match="mutable default"):

        @frozen_op
        class _Shared:
            items: list[int] = []


def test_constructor_errors() -> None:
    with pytest.raises(TypeError, match="missing argument 'name'"):
        _Base()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 3 arguments"):
        _Base("a", 1, [], "x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for 'name'"):
        _Base("a", name="b")  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword 'colour'"):
        _Base("a", colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword"):
        ops.RenameTableOp("a", "b", bogus=1)  # type: ignore[call-arg]


def test_frozen_and_mutable() -> None:
    op = ops.RenameTableOp("a", "b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.table_name = "c"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.anything_else = 1  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del op.schema  # type: ignore[misc]
    op.info["mine"] = 1  # the free-form dictionary stays writable
    assert op.info == {"mine": 1}
    assert op.table_name == "a"

    upgrade = ops.UpgradeOps()
    upgrade.ops = [op]
    upgrade.upgrade_token = "other"
    assert (upgrade.ops, upgrade.upgrade_token) == ([op], "other")
    group = ops.ModifyTableOps("t", [], schema="s")  # its own __init__ is kept
    group.ops.append(op)
    group.table_name = "u"
    script = ops.MigrationScript("r", upgrade, ops.DowngradeOps())
    script.message = "m"
    box = _Box()
    box.label = "x"
    del box.label
    assert box.label == ""  # the class default shows again, as with dataclasses


def test_identity_equality_and_hashing() -> None:
    one, two = ops.RenameTableOp("a", "b"), ops.RenameTableOp("a", "b")
    assert one == one and one != two
    assert len({one, two}) == 2
    assert ops.UpgradeOps() != ops.UpgradeOps()


def test_repr() -> None:
    assert repr(_Child("n", tags=["t"])) == "_Child(name='n', size=2, tags=['t'], extra=None)"
    assert repr(ops.RenameTableOp("a", "b")) == (
        "RenameTableOp(table_name='a', new_table_name='b', schema=None)"
    )
    assert repr(ops.UpgradeOps(ops=[ops.DropEnumOp("e")])) == (
        "UpgradeOps(ops=[DropEnumOp(enum_name='e', schema=None, values=None)], "
        "upgrade_token='upgrades')"
    )
    box = _Box()
    box.items.append(box)
    assert repr(box) == "_Box(items=[...], label='')"


def test_unknown_keywords_are_collected_into_kw() -> None:
    column = sa.Column("x", sa.Integer())
    op = ops.AddColumnOp("t", column, mysql_after="y", kw={"comment": "c"})
    assert op.kw == {"comment": "c", "mysql_after": "y"}
    assert ops.CreateIndexOp("ix", "t", ["a"], postgresql_using="gin").kw == {
        "postgresql_using": "gin"
    }
    assert ops.DropTableOp("t").kw == {}


def test_match_args() -> None:
    op: ops.MigrateOperation = ops.RenameTableOp("a", "b", schema="s")
    match op:
        case ops.RenameTableOp(old, new, schema):
            assert (old, new, schema) == ("a", "b", "s")
        case _:
            pytest.fail("no match")


def test_copy_and_pickle() -> None:
    op = ops.AlterColumnOp("t", "c", modify_nullable=False, kw={"autoincrement": True})
    op.info["note"] = "n"
    for made in (copy.copy(op), copy.deepcopy(op), pickle.loads(pickle.dumps(op))):
        assert type(made) is ops.AlterColumnOp and made is not op
        assert repr(made) == repr(op)
        assert made.info == {"note": "n"}
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.column_name = "d"  # type: ignore[misc]
    script = ops.MigrationScript("r", ops.UpgradeOps([op]), ops.DowngradeOps())
    loaded = pickle.loads(pickle.dumps(script))
    assert repr(loaded) == repr(script)
    loaded.message = "still mutable"


def test_no_code_is_generated_per_class() -> None:
    init: Any = ops.RenameTableOp.__init__
    assert init.__code__ is ops.DropEnumOp.__init__.__code__
    # the dataclass view is made only when asked for
    assert not isinstance(vars(_Child)["__dataclass_fields__"], dict)


def test_dataclasses_functions_still_work() -> None:
    assert dataclasses.is_dataclass(ops.RenameTableOp("a", "b"))
    assert [f.name for f in dataclasses.fields(_Child)] == ["name", "size", "tags", "extra"]
    size = dataclasses.fields(_Child)[1]
    assert (size.default, size.type) == (2, "int")
    assert dataclasses.fields(_Base)[2].default_factory is list
    assert isinstance(vars(_Child)["__dataclass_fields__"], dict)  # kept once made

    op = ops.CreateTableOp("t", [sa.Column("x", sa.Integer())], schema="s", mysql_engine="InnoDB")
    renamed = dataclasses.replace(op, table_name="u")
    assert type(renamed) is ops.CreateTableOp
    assert (renamed.table_name, renamed.schema, renamed.kw) == (
        "u",
        "s",
        {"mysql_engine": "InnoDB"},
    )
    assert renamed.columns is op.columns and op.table_name == "t"
    upgrade = dataclasses.replace(ops.UpgradeOps([op]), upgrade_token="x")
    assert upgrade.ops == [op] and upgrade.upgrade_token == "x"
    assert dataclasses.asdict(ops.DropEnumOp("e", values=["a"])) == {
        "enum_name": "e",
        "schema": None,
        "values": ["a"],
    }


def test_a_dataclass_subclass_keeps_the_fields() -> None:
    @dataclasses.dataclass(frozen=True, eq=False)
    class Tagged(ops.DropEnumOp):
        tag: str = ""

    tagged = Tagged("e", None, ["a"], "t")
    assert (tagged.enum_name, tagged.values, tagged.tag) == ("e", ["a"], "t")
    assert repr(tagged).endswith("Tagged(enum_name='e', schema=None, values=['a'], tag='t')")
    assert tagged.reverse().values == ["a"]
    with pytest.raises(TypeError, match="non-frozen"):

        @dataclasses.dataclass
        class Thawed(ops.DropEnumOp):
            pass


def test_annotations_of_plain_bases_are_not_fields() -> None:
    """``AlterTableOp`` and ``AddConstraintOp`` only declare what subclasses provide."""
    assert not fields_of(ops.AlterTableOp) and not fields_of(ops.AddConstraintOp)
    pk = ops.CreatePrimaryKeyOp("pk", "t", ["id"])
    assert pk.constraint_type == "primarykey"
    assert fields_of(ops.CreatePrimaryKeyOp) == (
        "constraint_name",
        "table_name",
        "columns",
        "schema",
        "kw",
    )
    fk = ops.CreateForeignKeyOp("fk", "a", "b", ["x"], ["y"], source_schema="s")
    assert (fk.table_name, fk.schema) == ("a", "s")
