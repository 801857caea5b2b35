"""Downgrades past ``depends_on`` edges, and ``label@base`` in upgrade and stamp.

The expected rows are the ones Alembic records for the same graphs.
"""

from __future__ import annotations

import pytest
from graph_support import rev

from limbeck.errors import RevisionError
from limbeck.graph import (
    DowngradeTarget,
    RevisionGraph,
    StampTarget,
    TargetResolver,
    downgrade_plan,
    stamp_heads,
    upgrade_plan,
)

# a1 -> a2 -> a3
# s1 -> s2 (depends_on a2) -> s3
CHAINS = RevisionGraph(
    [
        rev("a1"),
        rev("a2", "a1"),
        rev("a3", "a2"),
        rev("s1"),
        rev("s2", "s1", deps=("a2",)),
        rev("s3", "s2"),
    ]
)

# a1 -> a2; s1 (a base of its own) depends_on a1
DEPENDENT_BASE = RevisionGraph([rev("a1"), rev("a2", "a1"), rev("s1", deps=("a1",))])


def downgrade(
    graph: RevisionGraph, rows: tuple[str, ...], target: str
) -> tuple[list[str], list[str]]:
    """(revisions removed in order, version rows after) for ``downgrade target``."""
    resolver = TargetResolver(graph, lambda: rows)
    steps = downgrade_plan(graph, rows, resolver.downgrade_target(target))
    after = steps[-1].heads_after if steps else rows
    return [step.revision for step in steps], sorted(after)


# -- downgrade keeps what only depends on the target ----------------------------------


def test_downgrade_to_a_dependency_keeps_its_dependents() -> None:
    # Alembic: rows a3 s3 -> `downgrade a2` -> rows s3 (a2 is implied by s2).
    assert downgrade(CHAINS, ("a3", "s3"), "a2") == (["a3"], ["s3"])


def test_downgrade_below_a_dependency_removes_its_dependents() -> None:
    # Alembic: rows a3 s3 -> `downgrade a1` -> rows a1 s1.
    removed, rows = downgrade(CHAINS, ("a3", "s3"), "a1")
    assert set(removed) == {"a2", "a3", "s2", "s3"}
    assert removed.index("s2") < removed.index("a2")  # s2 needs a2: it goes first
    assert rows == ["a1", "s1"]


def test_downgrade_on_the_dependent_branch_leaves_the_other_alone() -> None:
    # Alembic: rows a3 s3 -> `downgrade s1` -> rows a3 s1.
    assert downgrade(CHAINS, ("a3", "s3"), "s1") == (["s3", "s2"], ["a3", "s1"])


def test_relative_downgrade_from_a_dependent_head() -> None:
    # Alembic: rows s3 -> `downgrade -1` -> s2 -> `downgrade -1` -> a2 s1.
    assert downgrade(CHAINS, ("s3",), "-1") == (["s3"], ["s2"])
    assert downgrade(CHAINS, ("s2",), "-1") == (["s2"], ["a2", "s1"])


def test_relative_downgrade_to_a_dependency_keeps_the_dependent_base() -> None:
    # Alembic: rows a2 s1 -> `downgrade a2-1` -> s1 -> `downgrade -1` -> a1.
    assert downgrade(DEPENDENT_BASE, ("a2", "s1"), "a2-1") == (["a2"], ["s1"])
    assert downgrade(DEPENDENT_BASE, ("s1",), "-1") == (["s1"], ["a1"])
    # Alembic: rows a2 s1 -> `downgrade a1` -> s1.
    assert downgrade(DEPENDENT_BASE, ("a2", "s1"), "a1") == (["a2"], ["s1"])


def test_removing_the_dependency_itself_takes_its_dependents() -> None:
    assert downgrade(DEPENDENT_BASE, ("a2", "s1"), "base")[1] == []
    resolver = TargetResolver(DEPENDENT_BASE)
    assert resolver.downgrade_target("a1-0") == DowngradeTarget(keep=("a1",))
    steps = downgrade_plan(DEPENDENT_BASE, ("a2", "s1"), DowngradeTarget(remove=("a1",)))
    assert {step.revision for step in steps} == {"a1", "a2", "s1"}
    assert steps[-1].heads_after == ()


def test_keeping_several_revisions_never_removes_one_of_them() -> None:
    # Keeping a1 and a2 removes only what sits above a2.
    steps = downgrade_plan(CHAINS, ("a3", "s3"), DowngradeTarget(keep=("a1", "a2")))
    assert [step.revision for step in steps] == ["a3"]


# -- label@base in upgrade and stamp ----------------------------------------------------

# a1 (base); s1 (base, label "side") -> s2
SIDE = RevisionGraph([rev("a1"), rev("s1", labels=("side",)), rev("s2", "s1")])

# a1 -> a2; a1 -> s1 (label "side") -> s2
FORKED = RevisionGraph(
    [rev("a1"), rev("a2", "a1"), rev("s1", "a1", labels=("side",)), rev("s2", "s1")]
)

# s1 -> s2 (label "side") -> s3; x1 depends_on s2; y1
DECLARED_ABOVE = RevisionGraph(
    [
        rev("s1"),
        rev("s2", "s1", labels=("side",)),
        rev("s3", "s2"),
        rev("x1", deps=("s2",)),
        rev("y1"),
    ]
)


def stamp(graph: RevisionGraph, rows: tuple[str, ...], *targets: str) -> list[str]:
    target = TargetResolver(graph, lambda: rows).stamp_target(targets)
    return sorted(stamp_heads(graph, rows, target.revisions, cleared=target.cleared))


def test_upgrade_to_label_base_applies_nothing() -> None:
    resolver = TargetResolver(SIDE, lambda: ())
    assert resolver.upgrade_destinations("side@base") == ()
    assert upgrade_plan(SIDE, (), resolver.upgrade_destinations("side@base")) == []
    assert upgrade_plan(SIDE, ("a1",), resolver.upgrade_destinations("side@base")) == []
    # Other targets resolve as before.
    assert resolver.upgrade_destinations("side@head") == ("s2",)
    assert resolver.upgrade_destinations("heads") == SIDE.heads


def test_label_base_still_names_the_first_revision_elsewhere() -> None:
    # show / history ranges keep reading label@base as the branch's first revision.
    assert TargetResolver(SIDE).resolve("side@base") == ("s1",)


def test_stamp_label_base_clears_only_that_branch() -> None:
    assert TargetResolver(SIDE).stamp_target(["side@base"]) == StampTarget(cleared=("s1",))
    # Alembic: rows a1 s2 -> `stamp side@base` -> a1; rows s2 -> nothing.
    assert stamp(SIDE, ("a1", "s2"), "side@base") == ["a1"]
    assert stamp(SIDE, ("s2",), "side@base") == []
    assert stamp(SIDE, ("a1",), "side@base") == ["a1"]


def test_stamp_label_base_clears_the_rows_on_the_labels_line() -> None:
    # Alembic: rows a2 s2 -> a2; rows a1 (an ancestor of s1) -> nothing; rows a2 -> a2.
    assert stamp(FORKED, ("a2", "s2"), "side@base") == ["a2"]
    assert stamp(FORKED, ("a1",), "side@base") == []
    assert stamp(FORKED, ("a2",), "side@base") == ["a2"]
    # The line is the declaring revision's: x1 needs s2, so it goes too.
    # Alembic: rows s3 x1 y1 -> y1; rows s1 y1 -> y1.
    assert stamp(DECLARED_ABOVE, ("s3", "x1", "y1"), "side@base") == ["y1"]
    assert stamp(DECLARED_ABOVE, ("s1", "y1"), "side@base") == ["y1"]


def test_stamp_base_still_clears_everything() -> None:
    resolver = TargetResolver(SIDE)
    assert resolver.stamp_target(["base"]) == StampTarget()
    assert resolver.stamp_target(["base", "side@base"]) == StampTarget()
    assert stamp(SIDE, ("a1", "s2"), "base") == []
    assert stamp(SIDE, ("a1", "s2"), "s1") == ["a1", "s1"]


def test_label_base_with_an_unknown_label_is_an_error() -> None:
    resolver = TargetResolver(SIDE)
    for call in (resolver.upgrade_destinations, lambda t: resolver.stamp_target([t])):
        with pytest.raises(RevisionError, match="unknown branch label 'nope'"):
            call("nope@base")
