"""Property tests: random revision DAGs against an independent model.

Each generated DAG is plain data (ids, parents, dependencies, labels). The
expected answers are computed here from that data with the simplest possible
code, then compared with what :mod:`limbeck.graph` says.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limbeck.errors import AmbiguousWalk, MultipleHeads, RevisionError
from limbeck.graph import (
    DowngradeTarget,
    Revision,
    RevisionGraph,
    StampTarget,
    TargetResolver,
    downgrade_plan,
    downgrade_removals,
    stamp_heads,
    upgrade_plan,
)

# Short ids over a small alphabet, so that prefixes are often shared.
ID = st.text(alphabet="abc0", min_size=4, max_size=6)


@dataclass(frozen=True)
class Dag:
    ids: list[str]  # creation order: parents and dependencies come earlier
    parents: dict[str, tuple[str, ...]]
    deps: dict[str, tuple[str, ...]]
    labels: dict[str, str]  # label -> declaring revision

    def revisions(self) -> list[Revision]:
        owned: dict[str, set[str]] = {key: set() for key in self.ids}
        for label, owner in self.labels.items():
            owned[owner].add(label)
        return [
            Revision(
                key,
                self.parents[key],
                self.deps[key],
                frozenset(owned[key]),
                path=f"{key}.py",
            )
            for key in self.ids
        ]

    def graph(self) -> RevisionGraph:
        return RevisionGraph(self.revisions())

    # -- the independent model ---------------------------------------------------

    def children(self, key: str) -> list[str]:
        return [k for k in self.ids if key in self.parents[k]]

    def ancestors(self, keys: set[str] | list[str]) -> set[str]:
        found: set[str] = set()
        todo = list(keys)
        while todo:
            key = todo.pop()
            if key in found:
                continue
            found.add(key)
            todo.extend(self.parents[key])
            todo.extend(self.deps[key])
        return found

    def down_descendants(self, key: str) -> set[str]:
        """Descendants through down_revision only (inclusive)."""
        found = {key}
        for k in self.ids:  # creation order: parents first
            if any(p in found for p in self.parents[k]):
                found.add(k)
        return found

    def maximal(self, applied: set[str]) -> set[str]:
        below: set[str] = set()
        for key in applied:
            below |= self.ancestors([key]) - {key}
        return applied - below


@st.composite
def dags(draw: st.DrawFn, max_size: int = 10) -> Dag:
    ids = draw(st.lists(ID, min_size=1, max_size=max_size, unique=True))
    parents: dict[str, tuple[str, ...]] = {}
    deps: dict[str, tuple[str, ...]] = {}
    for index, key in enumerate(ids):
        earlier = ids[:index]
        if not earlier or draw(st.integers(0, 5)) == 0:
            parents[key] = ()  # another base
        else:
            count = draw(st.integers(1, min(2, len(earlier))))
            parents[key] = tuple(
                draw(
                    st.lists(st.sampled_from(earlier), min_size=count, max_size=count, unique=True)
                )
            )
        if earlier and draw(st.integers(0, 3)) == 0:
            deps[key] = (draw(st.sampled_from(earlier)),)
        else:
            deps[key] = ()
    owners = draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    labels = {f"br{n}": owner for n, owner in enumerate(owners)}
    return Dag(ids, parents, deps, labels)


@st.composite
def dag_and_state(draw: st.DrawFn) -> tuple[Dag, set[str]]:
    """A DAG and an applied set closed under ancestors."""
    dag = draw(dags())
    chosen = draw(st.lists(st.sampled_from(dag.ids), max_size=3))
    return dag, dag.ancestors(chosen)


FAST = settings(max_examples=100, deadline=None)


# -- structure -----------------------------------------------------------------------


@FAST
@given(dags())
def test_heads_bases_and_effective_heads(dag: Dag) -> None:
    graph = dag.graph()
    heads = {k for k in dag.ids if not dag.children(k)}
    depended = {d for k in dag.ids for d in dag.deps[k]}
    assert set(graph.heads) == heads
    assert set(graph.bases) == {k for k in dag.ids if not dag.parents[k]}
    assert set(graph.effective_heads) == heads - depended
    # Applying everything leaves exactly the effective heads as version rows.
    assert dag.maximal(set(dag.ids)) == set(graph.effective_heads)
    assert set(graph.branch_points) == {k for k in dag.ids if len(dag.children(k)) > 1}
    for key in dag.ids:
        assert graph.is_merge_point(key) == (len(dag.parents[key]) > 1)
        assert set(graph.children(key)) == set(dag.children(key))


@FAST
@given(dags())
def test_topological_order(dag: Dag) -> None:
    graph = dag.graph()
    order = graph.order
    assert sorted(order) == sorted(dag.ids)
    position = {key: index for index, key in enumerate(order)}
    for key in dag.ids:
        for earlier in dag.parents[key] + dag.deps[key]:
            assert position[earlier] < position[key]
    assert [rev.revision for rev in graph] == list(order)
    # Reproducible whatever order the revisions arrive in.
    assert RevisionGraph(reversed(dag.revisions())).order == order


@FAST
@given(dags())
def test_ancestors_and_label_membership(dag: Dag) -> None:
    graph = dag.graph()
    for key in dag.ids:
        assert graph.ancestors(key) == dag.ancestors([key])
    for label, owner in dag.labels.items():
        members = graph.branch_members(label)
        # The owner and every descendant through down_revision carry it.
        assert dag.down_descendants(owner) <= members
        # Extra members are only the owner's straight-line ancestors.
        for extra in members - dag.down_descendants(owner):
            assert extra in dag.ancestors([owner])
            assert len(dag.children(extra)) == 1


# -- targets ---------------------------------------------------------------------------


@FAST
@given(dags())
def test_ids_and_prefixes_resolve(dag: Dag) -> None:
    resolver = TargetResolver(dag.graph())
    for key in dag.ids:
        assert resolver.resolve(key) == (key,)
        for size in range(1, len(key)):
            prefix = key[:size]
            if prefix in dag.ids:
                continue
            matches = [k for k in dag.ids if k.startswith(prefix)]
            if len(matches) == 1:
                assert resolver.resolve(prefix) == (key,)
            else:
                with pytest.raises(RevisionError, match="ambiguous"):
                    resolver.resolve(prefix)


@FAST
@given(dags())
def test_symbols_and_labels_resolve(dag: Dag) -> None:
    graph = dag.graph()
    resolver = TargetResolver(graph)
    heads = [k for k in dag.ids if not dag.children(k)]
    assert resolver.resolve("base") == ()
    assert set(resolver.resolve("heads")) == set(heads)
    if len(heads) == 1:
        assert resolver.resolve("head") == (heads[0],)
    else:
        with pytest.raises(MultipleHeads):
            resolver.resolve("head")
    for label, owner in dag.labels.items():
        assert resolver.resolve(label) == (owner,)
        branch_heads = {h for h in heads if h in dag.down_descendants(owner)}
        assert set(resolver.resolve(f"{label}@heads")) == branch_heads
        if len(branch_heads) == 1:
            assert resolver.resolve(f"{label}@head") == tuple(branch_heads)
        else:
            with pytest.raises(MultipleHeads, match=label):
                resolver.resolve(f"{label}@head")
        members = graph.branch_members(label)
        bases = resolver.resolve(f"{label}@base")
        assert bases
        for base in bases:
            assert base in members
            assert not set(dag.parents[base]) & members
        assert all(any(b in dag.ancestors([m]) for b in bases) for m in members)


@FAST
@given(dags())
def test_rev_at_head_is_a_head_of_its_line(dag: Dag) -> None:
    resolver = TargetResolver(dag.graph())
    heads = {k for k in dag.ids if not dag.children(k)}
    for key in dag.ids:
        expected = heads & dag.down_descendants(key)
        assert set(resolver.resolve(f"{key}@heads")) == expected
        if len(expected) == 1:
            assert resolver.resolve(f"{key}@head") == tuple(expected)
        else:
            with pytest.raises(MultipleHeads):
                resolver.resolve(f"{key}@head")


def _walk(dag: Dag, start: str, upward: bool, count: int) -> str | None:
    """The revision ``count`` single steps away, or None if the way forks or ends."""
    node = start
    for _ in range(count):
        nxt = dag.children(node) if upward else list(dag.parents[node])
        if len(nxt) != 1:
            return None
        node = nxt[0]
    return node


@FAST
@given(dags(), st.integers(0, 3))
def test_relative_steps_from_a_revision(dag: Dag, count: int) -> None:
    resolver = TargetResolver(dag.graph())
    for key in dag.ids:
        for sign, upward in (("+", True), ("-", False)):
            target = f"{key}{sign}{count}"
            expected = _walk(dag, key, upward, count)
            if expected is not None:
                assert resolver.resolve(target) == (expected,)
            else:
                with pytest.raises(RevisionError) as caught:
                    resolver.resolve(target)
                if isinstance(caught.value, AmbiguousWalk):
                    # The message names the revisions one could go to instead.
                    assert caught.value.hint and "`" in caught.value.hint


@FAST
@given(dag_and_state(), st.integers(1, 3))
def test_relative_steps_from_the_database(case: tuple[Dag, set[str]], count: int) -> None:
    dag, applied = case
    rows = tuple(sorted(dag.maximal(applied)))
    resolver = TargetResolver(dag.graph(), lambda: rows)
    bases = [k for k in dag.ids if not dag.parents[k]]
    if len(rows) > 1:
        with pytest.raises(AmbiguousWalk):
            resolver.resolve(f"+{count}")
        return
    if not rows:
        with pytest.raises(RevisionError, match="at base"):
            resolver.resolve(f"-{count}")
        if len(bases) == 1:
            expected = _walk(dag, bases[0], True, count - 1)
            if expected is not None:
                assert resolver.resolve(f"+{count}") == (expected,)
            else:
                with pytest.raises(RevisionError):
                    resolver.resolve(f"+{count}")
        else:
            with pytest.raises(AmbiguousWalk):
                resolver.resolve(f"+{count}")
        return
    for sign, upward in (("+", True), ("-", False)):
        expected = _walk(dag, rows[0], upward, count)
        if expected is not None:
            assert resolver.resolve(f"{sign}{count}") == (expected,)
        else:
            with pytest.raises(RevisionError):
                resolver.resolve(f"{sign}{count}")


# -- plans ------------------------------------------------------------------------------


def _check_upgrade(dag: Dag, applied: set[str], destinations: list[str]) -> set[str]:
    graph = dag.graph()
    rows = tuple(graph.sort(dag.maximal(applied)))
    steps = upgrade_plan(graph, rows, destinations)
    wanted = dag.ancestors(destinations)
    assert [s.revision for s in steps] == [k for k in graph.order if k in wanted - applied]
    done = set(applied)
    heads = set(rows)
    for step in steps:
        assert step.is_upgrade
        assert set(step.heads_before) == heads
        assert set(dag.parents[step.revision] + dag.deps[step.revision]) <= done
        done.add(step.revision)
        heads = set(step.heads_after)
        # After every step the version rows are the maximal applied revisions.
        assert heads == dag.maximal(done)
        assert len(step.heads_after) == len(heads)
    assert done == applied | wanted
    return done


@FAST
@given(dag_and_state())
def test_upgrade_to_heads_applies_exactly_the_missing_ancestors(
    case: tuple[Dag, set[str]],
) -> None:
    dag, applied = case
    graph = dag.graph()
    done = _check_upgrade(dag, applied, list(graph.heads))
    assert done == set(dag.ids)
    assert dag.maximal(done) == set(graph.effective_heads)


@FAST
@given(dag_and_state(), st.data())
def test_upgrade_to_one_revision_runs_only_its_ancestors(
    case: tuple[Dag, set[str]], data: st.DataObject
) -> None:
    dag, applied = case
    target = data.draw(st.sampled_from(dag.ids))
    done = _check_upgrade(dag, applied, [target])
    assert done == applied | dag.ancestors([target])


def _check_downgrade(
    dag: Dag, applied: set[str], target: DowngradeTarget, expected_left: set[str]
) -> None:
    graph = dag.graph()
    rows = tuple(graph.sort(dag.maximal(applied)))
    steps = downgrade_plan(graph, rows, target)
    remaining = set(applied)
    heads = set(rows)
    for step in steps:
        assert not step.is_upgrade
        assert set(step.heads_before) == heads
        assert step.revision in remaining
        remaining.discard(step.revision)
        # Nothing still applied needs the revision just removed.
        assert not {k for k in remaining if step.revision in dag.ancestors([k]) - {k}}
        heads = set(step.heads_after)
        assert heads == dag.maximal(remaining)
    assert remaining == expected_left


@FAST
@given(dag_and_state())
def test_downgrade_to_base_removes_everything(case: tuple[Dag, set[str]]) -> None:
    dag, applied = case
    _check_downgrade(dag, applied, DowngradeTarget(everything=True), set())
    resolver = TargetResolver(dag.graph())
    assert resolver.downgrade_target("base") == DowngradeTarget(everything=True)


@FAST
@given(dag_and_state())
def test_upgrade_then_downgrade_returns_to_the_start(case: tuple[Dag, set[str]]) -> None:
    dag, applied = case
    graph = dag.graph()
    start_rows = tuple(graph.sort(dag.maximal(applied)))
    _check_upgrade(dag, applied, list(graph.heads))
    missing = set(dag.ids) - applied
    # The first revisions that were missing: removing them (and all that
    # follows them) plus everything past the start rows restores the start.
    frontier = tuple(k for k in missing if not set(dag.parents[k] + dag.deps[k]) & missing)
    everything_rows = tuple(graph.sort(graph.effective_heads))
    steps = downgrade_plan(
        graph, everything_rows, DowngradeTarget(keep=start_rows, remove=frontier)
    )
    assert {s.revision for s in steps} == missing
    final = steps[-1].heads_after if steps else everything_rows
    assert set(final) == set(start_rows)
    _check_downgrade(dag, set(dag.ids), DowngradeTarget(keep=start_rows, remove=frontier), applied)


@FAST
@given(dag_and_state(), st.data())
def test_stamp(case: tuple[Dag, set[str]], data: st.DataObject) -> None:
    dag, applied = case
    graph = dag.graph()
    rows = tuple(graph.sort(dag.maximal(applied)))
    assert stamp_heads(graph, rows, ()) == ()
    target = data.draw(st.sampled_from(dag.ids))
    line = dag.ancestors([target]) | {k for k in dag.ids if target in dag.ancestors([k])}
    stamped = stamp_heads(graph, rows, [target])
    assert set(stamped) == {r for r in rows if r not in line} | {target}
    assert set(stamped) == dag.maximal(set(stamped))
    # Stamping every head records the same rows as upgrading everything.
    assert set(stamp_heads(graph, rows, graph.heads)) == set(graph.effective_heads)
    # Stamping from nothing to a revision equals upgrading to it from nothing.
    steps = upgrade_plan(graph, (), [target])
    assert stamp_heads(graph, (), [target]) == steps[-1].heads_after == (target,)


def _needs(dag: Dag, key: str) -> set[str]:
    """``key`` and every revision that needs it (down_revision or depends_on)."""
    return {k for k in dag.ids if key in dag.ancestors([k])}


@FAST
@given(dag_and_state())
def test_downgrade_to_a_revision_removes_only_what_sits_above_it(
    case: tuple[Dag, set[str]],
) -> None:
    dag, applied = case
    graph = dag.graph()
    for target in sorted(applied):
        above = set().union(*(_needs(dag, child) for child in dag.children(target)))
        removed = downgrade_removals(graph, applied, DowngradeTarget(keep=(target,)))
        assert removed == above & applied
        # The target and its ancestors stay; so does anything that merely
        # depends on the target (or its ancestors) without needing a removed one.
        assert not removed & dag.ancestors([target])
        for key in removed:
            needed = set(dag.parents[key] + dag.deps[key])
            assert key in dag.children(target) or needed & removed
        _check_downgrade(dag, applied, DowngradeTarget(keep=(target,)), applied - removed)


@FAST
@given(dag_and_state(), st.data())
def test_removing_a_revision_removes_everything_that_needs_it(
    case: tuple[Dag, set[str]], data: st.DataObject
) -> None:
    dag, applied = case
    if not applied:
        return
    target = data.draw(st.sampled_from(sorted(applied)))
    expected_left = applied - _needs(dag, target)
    _check_downgrade(dag, applied, DowngradeTarget(remove=(target,)), expected_left)


@FAST
@given(dag_and_state())
def test_label_base_is_before_the_branch_for_upgrade_and_stamp(
    case: tuple[Dag, set[str]],
) -> None:
    dag, applied = case
    graph = dag.graph()
    rows = tuple(graph.sort(dag.maximal(applied)))
    resolver = TargetResolver(graph, lambda: rows)
    for label, owner in dag.labels.items():
        assert resolver.upgrade_destinations(f"{label}@base") == ()
        assert upgrade_plan(graph, rows, resolver.upgrade_destinations(f"{label}@base")) == []
        stamp = resolver.stamp_target([f"{label}@base"])
        assert stamp == StampTarget(cleared=(owner,))
        line = dag.ancestors([owner]) | _needs(dag, owner)
        stamped = stamp_heads(graph, rows, stamp.revisions, cleared=stamp.cleared)
        assert set(stamped) == {row for row in rows if row not in line}
