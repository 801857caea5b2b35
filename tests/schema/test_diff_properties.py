"""Properties of diff and apply over random schemas."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from limbeck.schema import (
    AddConstraint,
    AddTable,
    DropConstraint,
    DropTable,
    ForeignKey,
    Schema,
    apply,
    diff,
)

from .strategies import schemas


@given(schemas(named=False))
@settings(max_examples=150, deadline=None)
def test_no_changes_between_a_schema_and_itself(a: Schema) -> None:
    assert diff(a, a) == []


@given(schemas(), schemas())
@settings(max_examples=200, deadline=None)
def test_applying_the_diff_gives_the_target(a: Schema, b: Schema) -> None:
    assert apply(a, diff(a, b)) == b


@given(schemas(named=False), schemas(named=False))
@settings(max_examples=200, deadline=None)
def test_unnamed_constraints_leave_nothing_to_do(a: Schema, b: Schema) -> None:
    # An unnamed constraint matches a named one with the same content, so
    # names may differ afterwards, but nothing is left to change.
    assert diff(apply(a, diff(a, b)), b) == []


@given(schemas(), schemas())
@settings(max_examples=150, deadline=None)
def test_diff_is_deterministic(a: Schema, b: Schema) -> None:
    shuffled = Schema.of(reversed(b.tables), reversed(b.enums), reversed(b.sequences))
    assert diff(a, b) == diff(a, shuffled)


@given(schemas(), schemas())
@settings(max_examples=150, deadline=None)
def test_tables_are_created_after_the_tables_they_reference(a: Schema, b: Schema) -> None:
    changes = diff(a, b)
    existing = {t.key for t in a.tables}
    created: set[tuple[str | None, str]] = set()
    for change in changes:
        if isinstance(change, DropTable):
            existing.discard(change.table.key)
        if isinstance(change, AddTable):
            for fk in change.table.foreign_keys:
                ref = fk.referred_key
                if ref != change.table.key and ref in {t.key for t in b.tables}:
                    assert ref in created or ref in existing, (change.table.key, ref)
            created.add(change.table.key)
        if isinstance(change, AddConstraint) and isinstance(change.constraint, ForeignKey):
            # every foreign key is added once all tables exist
            assert all(not isinstance(c, AddTable) for c in changes[changes.index(change) :])


@given(schemas(), schemas())
@settings(max_examples=150, deadline=None)
def test_tables_are_dropped_before_the_tables_they_reference(a: Schema, b: Schema) -> None:
    changes = diff(a, b)
    dropped_keys = {c.table.key for c in changes if isinstance(c, DropTable)}
    gone: set[tuple[str | None, str]] = set()
    cycle_fks = {
        (c.table_key, c.constraint)
        for c in changes
        if isinstance(c, DropConstraint) and c.from_cycle
    }
    for change in changes:
        if isinstance(change, DropTable):
            old = a.tables_by_key[change.table.key]
            for fk in old.foreign_keys:
                if (old.key, fk) in cycle_fks:
                    continue
                # nothing this table references was dropped before it
                assert fk.referred_key == old.key or fk.referred_key not in gone
            gone.add(change.table.key)
    assert gone == dropped_keys


@given(st.data())
@settings(max_examples=100, deadline=None)
def test_reverse_diff_undoes(data: st.DataObject) -> None:
    a = data.draw(schemas())
    b = data.draw(schemas())
    there = apply(a, diff(a, b))
    back = apply(there, diff(there, a))
    assert back == a
