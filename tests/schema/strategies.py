"""Hypothesis strategies for random schema models.

Names come from small pools so that two independently drawn schemas share
many tables, columns and constraints: their diff then exercises every kind
of change, not only whole-table adds and drops.
"""

from __future__ import annotations

from hypothesis import strategies as st

from limbeck.schema import (
    CheckConstraint,
    Column,
    Computed,
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
    UniqueConstraint,
)

TABLE_NAMES = ("users", "orders", "items", "tags", "notes")
COLUMN_NAMES = ("id", "name", "owner_id", "price", "created", "flag")
SCHEMAS = (None, None, None, "other")

types = st.sampled_from(
    [
        SqlType("INTEGER"),
        SqlType("BIGINT"),
        SqlType("VARCHAR", ("20",)),
        SqlType("VARCHAR", ("50",)),
        SqlType("TEXT"),
        SqlType("NUMERIC", ("10", "2")),
        SqlType("BOOLEAN"),
        SqlType("ENUM", ("mood",)),
    ]
)
defaults = st.none() | st.sampled_from(
    [ServerDefault("0"), ServerDefault("'x'"), ServerDefault("current_timestamp")]
)
comments = st.none() | st.sampled_from(["a comment", "another"])
computed = st.none() | st.builds(
    Computed, st.sampled_from(["price * 2", "lower(name)"]), st.sampled_from([None, True])
)
identity = st.none() | st.builds(Identity, st.booleans(), st.sampled_from([None, 10]))


@st.composite
def columns(draw: st.DrawFn) -> tuple[Column, ...]:
    names = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=5, unique=True))
    return tuple(
        Column(
            name,
            draw(types),
            nullable=draw(st.booleans()),
            server_default=draw(defaults),
            computed=draw(computed),
            identity=draw(identity),
            comment=draw(comments),
        )
        for name in names
    )


def _name(draw: st.DrawFn, prefix: str, named: bool) -> str | None:
    if not named and draw(st.integers(0, 3)) == 0:
        return None
    return f"{prefix}_{draw(st.integers(0, 3))}"


@st.composite
def tables(draw: st.DrawFn, named: bool = True) -> Table:
    name = draw(st.sampled_from(TABLE_NAMES))
    schema = draw(st.sampled_from(SCHEMAS))
    cols = draw(columns())
    col_names = [c.name for c in cols]
    some_cols = st.lists(st.sampled_from(col_names), min_size=1, max_size=3, unique=True).map(tuple)
    pk = None
    if draw(st.booleans()):
        pk = PrimaryKey(draw(some_cols), _name(draw, "pk", named))
    indexes = {}
    for _ in range(draw(st.integers(0, 2))):
        elements = draw(some_cols)
        if draw(st.booleans()):
            elements = (*elements, "lower(name)")
        idx = Index(
            f"ix_{name}_{draw(st.integers(0, 3))}",
            elements,
            unique=draw(st.booleans()),
            options=draw(st.sampled_from([(), (("postgresql_where", "flag"),)])),
        )
        indexes[idx.name] = idx
    uniques = [
        UniqueConstraint(draw(some_cols), _name(draw, f"uq_{name}", named))
        for _ in range(draw(st.integers(0, 2)))
    ]
    checks = [
        CheckConstraint(
            draw(st.sampled_from(["price > 0", "flag in (0, 1)", "name <> ''"])),
            _name(draw, f"ck_{name}", named),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    fks = [
        ForeignKey(
            draw(some_cols),
            draw(st.sampled_from(TABLE_NAMES)),
            ("id",),
            referred_schema=draw(st.sampled_from(SCHEMAS)),
            name=_name(draw, f"fk_{name}", named),
            ondelete=draw(st.sampled_from([None, "CASCADE", "SET NULL"])),
            deferrable=draw(st.sampled_from([None, True])),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    return Table(
        name,
        cols,
        schema=schema,
        primary_key=pk,
        indexes=tuple(indexes.values()),
        unique_constraints=_unique_by_name(uniques),
        check_constraints=_unique_by_name(checks),
        foreign_keys=_unique_by_name(fks),
        comment=draw(comments),
    )


def _unique_by_name(items: list) -> tuple:  # type: ignore[type-arg]
    """Names are unique within a table (a database insists)."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item.name is not None:
            if item.name in seen:
                continue
            seen.add(item.name)
        elif item in out:
            continue
        out.append(item)
    return tuple(out)


@st.composite
def schemas(draw: st.DrawFn, named: bool = True) -> Schema:
    drawn = draw(st.lists(tables(named=named), max_size=5, unique_by=lambda t: t.key))
    enums = draw(
        st.lists(
            st.builds(
                EnumType,
                st.sampled_from(["mood", "status"]),
                st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True).map(tuple),
            ),
            max_size=2,
            unique_by=lambda e: e.key,
        )
    )
    sequences = draw(
        st.lists(
            st.builds(
                Sequence,
                st.sampled_from(["seq_a", "seq_b"]),
                start=st.sampled_from([None, 100]),
                increment=st.sampled_from([None, 5]),
            ),
            max_size=2,
            unique_by=lambda s: s.key,
        )
    )
    return Schema.of(drawn, enums, sequences)
