"""Hand-built revision graphs: labels, ambiguity messages, ranges, bad graphs."""

from __future__ import annotations

import pytest
from graph_support import rev

from limbeck.errors import AmbiguousWalk, CycleDetected, MultipleHeads, RevisionError
from limbeck.graph import (
    DowngradeTarget,
    Revision,
    RevisionGraph,
    TargetResolver,
    downgrade_plan,
    revisions_between,
    split_range,
    upgrade_plan,
)


def resolver(*revisions: Revision, current: tuple[str, ...] | None = None) -> TargetResolver:
    graph = RevisionGraph(revisions)
    return TargetResolver(graph, (lambda: current) if current is not None else None)


# aaa1 -> bbb2 -> ccc3 (label "main") -> merge eee5
#      \-> ddd4 (label "feature") ------/
#                                          fff6 (base, label "other")
DIAMOND = (
    rev("aaa1"),
    rev("bbb2", "aaa1"),
    rev("ccc3", "bbb2", labels=("main",)),
    rev("ddd4", "aaa1", labels=("feature",)),
    rev("eee5", "ccc3", "ddd4"),
    rev("fff6", labels=("other",)),
    rev("fff7", "fff6"),
)


# -- labels -----------------------------------------------------------------------------


def test_label_propagates_to_descendants_and_down_to_the_branch_point() -> None:
    graph = RevisionGraph(DIAMOND)
    # "main" is declared on ccc3: it covers bbb2 (up to, not including, the
    # branch point aaa1) and the descendant merge eee5.
    assert graph.branch_members("main") == {"bbb2", "ccc3", "eee5"}
    assert graph.branch_members("feature") == {"ddd4", "eee5"}
    assert graph.labels("eee5") == {"main", "feature"}
    assert graph.labels("aaa1") == frozenset()
    assert graph.branch_members("other") == {"fff6", "fff7"}
    assert graph.declared_labels() == {"main": "ccc3", "feature": "ddd4", "other": "fff6"}


def test_label_on_a_linear_history_reaches_the_base() -> None:
    graph = RevisionGraph([rev("a001"), rev("a002", "a001"), rev("a003", "a002", labels=("x",))])
    assert graph.branch_members("x") == {"a001", "a002", "a003"}


def test_label_targets() -> None:
    r = resolver(*DIAMOND, current=("bbb2",))
    assert r.resolve("main") == ("ccc3",)
    assert r.resolve("main@head") == ("eee5",)
    assert r.resolve("feature@head") == ("eee5",)
    assert r.resolve("other@head") == ("fff7",)
    assert r.resolve("other@base") == ("fff6",)
    assert r.resolve("main@base") == ("bbb2",)
    assert r.resolve("feature@base") == ("ddd4",)
    assert r.resolve("main@ccc3") == ("ccc3",)
    assert r.resolve("main@+1") == ("ccc3",)
    assert r.resolve("main@-1") == ("aaa1",)  # main is applied up to bbb2; one step back
    assert r.resolve("other@+1") == ("fff6",)  # nothing of "other" applied: +1 is its base
    assert r.resolve("other@+2") == ("fff7",)
    assert r.resolve("ddd4@head") == ("eee5",)
    assert r.resolve("fff6@head") == ("fff7",)


def test_label_relative_downgrade_and_label_base_downgrade() -> None:
    r = resolver(*DIAMOND, current=("ccc3",))
    assert r.downgrade_target("main@-1") == DowngradeTarget(remove=("ccc3",))
    assert r.downgrade_target("main@base") == DowngradeTarget(remove=("bbb2",))
    graph = r.graph
    steps = downgrade_plan(graph, ("ccc3",), r.downgrade_target("main@base"))
    assert [s.revision for s in steps] == ["ccc3", "bbb2"]
    assert steps[-1].heads_after == ("aaa1",)


def test_rev_not_on_branch() -> None:
    r = resolver(*DIAMOND)
    with pytest.raises(RevisionError, match="'fff6' is not on branch 'main'"):
        r.resolve("main@fff6")


def test_unknown_label() -> None:
    r = resolver(*DIAMOND)
    # `x@head` may also mean "the head above revision x": with neither a
    # label nor a revision named x, it is reported as an unknown label too.
    for target in ("nope@base", "nope@+1", "nope@-1", "nope@ccc3", "nope@head"):
        with pytest.raises(RevisionError, match="unknown branch label 'nope'") as caught:
            r.resolve(target)
        assert caught.value.hint is not None
        assert "feature, main, other" in caught.value.hint


# -- ambiguity ----------------------------------------------------------------------------


def test_head_with_several_heads_names_them_and_proposes_label_heads() -> None:
    r = resolver(rev("aaa1"), rev("bbb2", "aaa1", labels=("left",)), rev("ccc3", "aaa1"))
    with pytest.raises(MultipleHeads) as caught:
        r.resolve("head")
    assert "bbb2" in caught.value.message and "ccc3" in caught.value.message
    assert caught.value.hint is not None
    assert "`left@head`" in caught.value.hint and "`ccc3`" in caught.value.hint


def test_walk_through_a_branch_point_names_the_branches() -> None:
    r = resolver(*DIAMOND, current=("aaa1",))
    with pytest.raises(AmbiguousWalk) as caught:
        r.resolve("+1")
    message = caught.value.message
    assert "'aaa1' is a branch point" in message
    assert "bbb2 (branch main)" in message and "ddd4 (branch feature)" in message
    # Neither child is the one head of its label (eee5 is), so ids are proposed.
    assert caught.value.hint == "go to one of them by name: `bbb2` or `ddd4`"
    r = resolver(rev("aaa1"), rev("bbb2", "aaa1", labels=("left",)), rev("ccc3", "aaa1"))
    with pytest.raises(AmbiguousWalk) as caught:
        r.resolve("aaa1+1")
    assert caught.value.hint == "go to one of them by name: `left@head` or `ccc3`"


def test_walk_down_through_a_merge_point_names_the_parents() -> None:
    r = resolver(*DIAMOND, current=("eee5",))
    with pytest.raises(AmbiguousWalk) as caught:
        r.resolve("-1")
    assert "'eee5' is a merge point of ccc3 (branch main), ddd4 (branch feature)" in str(
        caught.value
    )
    with pytest.raises(AmbiguousWalk):
        r.downgrade_target("-2")
    assert r.downgrade_target("-1") == DowngradeTarget(remove=("eee5",))


def test_relative_from_several_current_heads_proposes_per_head_targets() -> None:
    r = resolver(*DIAMOND, current=("ccc3", "fff6"))
    with pytest.raises(AmbiguousWalk) as caught:
        r.resolve("+1")
    assert caught.value.hint is not None
    assert "`ccc3+1`" in caught.value.hint and "`fff6+1`" in caught.value.hint


def test_relative_from_empty_database_with_several_bases() -> None:
    r = resolver(*DIAMOND, current=())
    with pytest.raises(AmbiguousWalk, match="2 bases") as caught:
        r.resolve("+1")
    assert caught.value.hint is not None and "`aaa1`" in caught.value.hint


def test_relative_without_a_database() -> None:
    with pytest.raises(RevisionError, match="no database"):
        resolver(*DIAMOND).resolve("+1")


def test_walk_past_the_head_or_base() -> None:
    r = resolver(*DIAMOND)
    assert r.resolve("bbb2+2") == ("eee5",)
    assert r.resolve("eee5-0") == ("eee5",)
    with pytest.raises(RevisionError, match="'fff7' is a head after 1"):
        r.resolve("fff6+2")
    with pytest.raises(RevisionError, match="is a base"):
        r.resolve("bbb2-2")


def test_ambiguous_prefix_and_unknown_revision() -> None:
    r = resolver(rev("abc123"), rev("abc456", "abc123"), rev("abd789", "abc456"))
    assert r.resolve("abd") == ("abd789",)
    assert r.resolve("abc4") == ("abc456",)
    with pytest.raises(
        RevisionError, match=r"'abc' is ambiguous: it starts 2 ids \(abc123, abc456\)"
    ):
        r.resolve("abc")
    with pytest.raises(RevisionError, match="no revision or branch label 'zzz'"):
        r.resolve("zzz")


def test_ids_of_three_characters_or_less_are_not_prefix_candidates() -> None:
    r = resolver(rev("ab1"), rev("ab12", "ab1"))
    assert r.resolve("ab1") == ("ab1",)
    assert r.resolve("ab") == ("ab12",)


def test_resolve_one_rejects_several_or_none() -> None:
    r = resolver(*DIAMOND)
    with pytest.raises(RevisionError, match="must name one revision"):
        r.resolve_one("heads")
    with pytest.raises(RevisionError, match=r"names no revision \(base\)"):
        r.resolve_one("base")


# -- depends_on ----------------------------------------------------------------------------


def test_effective_heads_with_depends_on() -> None:
    # Two lines of history; ccc3 of the second depends on the first's head.
    graph = RevisionGraph(
        [
            rev("aaa1", labels=("core",)),
            rev("bbb2", "aaa1"),
            rev("ccc3", deps=("core",), labels=("plugin",)),
        ]
    )
    assert set(graph.heads) == {"bbb2", "ccc3"}
    assert set(graph.effective_heads) == {"bbb2", "ccc3"}
    assert graph.dependencies("ccc3") == ("aaa1",)  # the label resolved
    assert graph.dependents("aaa1") == ("ccc3",)
    # bbb2 is not an ancestor of ccc3, so after everything: rows bbb2 and ccc3
    steps = upgrade_plan(graph, (), graph.heads)
    assert set(steps[-1].heads_after) == {"bbb2", "ccc3"}
    # A dependency that is a head is covered by its dependent.
    graph = RevisionGraph([rev("aaa1"), rev("bbb2", deps=("aaa"))])
    assert set(graph.heads) == {"aaa1", "bbb2"}
    assert graph.effective_heads == ("bbb2",)
    steps = upgrade_plan(graph, (), graph.heads)
    assert [s.revision for s in steps] == ["aaa1", "bbb2"]
    assert steps[-1].heads_after == ("bbb2",)
    # ...and `<rev>@head` stays on the line of <rev>, not the dependent's.
    assert TargetResolver(graph).resolve("aaa1@head") == ("aaa1",)


def test_unknown_and_ambiguous_dependency() -> None:
    with pytest.raises(RevisionError, match=r"'bbb2' \(versions/bbb2.py\) depends on 'zzz'"):
        RevisionGraph([rev("aaa1"), rev("bbb2", deps=("zzz",))])
    with pytest.raises(RevisionError, match="which is ambiguous"):
        RevisionGraph([rev("aaa1"), rev("aaa2"), rev("bbb2", deps=("aaa",))])


# -- ranges ---------------------------------------------------------------------------------


def test_ranges() -> None:
    graph = RevisionGraph(DIAMOND)
    assert split_range("aaa1:eee5") == ("aaa1", "eee5")
    assert split_range(":ccc3") == (None, "ccc3")
    assert split_range("bbb2:") == ("bbb2", None)
    with pytest.raises(RevisionError, match="is not a range"):
        split_range("aaa1")
    assert revisions_between(graph, None, ["ccc3"]) == ["ccc3", "bbb2", "aaa1"]
    assert revisions_between(graph, ["bbb2"], ["eee5"]) == ["eee5", "ccc3", "bbb2"]
    assert revisions_between(graph, ["ddd4"], None) == ["eee5", "ddd4"]
    assert revisions_between(graph, [], None) == list(reversed(graph.order))
    assert revisions_between(graph, ["fff6"], ["ccc3"]) == []


# -- bad graphs -------------------------------------------------------------------------------


def test_cycle_names_the_cycle() -> None:
    with pytest.raises(CycleDetected) as caught:
        RevisionGraph(
            [rev("root"), rev("aaa1", "root", "ccc3"), rev("bbb2", "aaa1"), rev("ccc3", "bbb2")]
        )
    assert str(caught.value) == "revisions form a cycle: aaa1 -> bbb2 -> ccc3 -> aaa1"


def test_cycle_through_depends_on() -> None:
    with pytest.raises(CycleDetected, match="aaa1 -> bbb2 -> aaa1"):
        RevisionGraph([rev("aaa1", deps=("bbb2",)), rev("bbb2", "aaa1")])


def test_self_parent_is_a_cycle() -> None:
    with pytest.raises(CycleDetected, match="aaa1 -> aaa1"):
        RevisionGraph([rev("aaa1", "aaa1")])


def test_duplicate_ids_name_both_files() -> None:
    first = Revision("aaa1", path="versions/one.py")
    second = Revision("aaa1", path="versions/two.py")
    with pytest.raises(RevisionError) as caught:
        RevisionGraph([first, second])
    assert "duplicate revision id 'aaa1'" in caught.value.message
    assert "versions/one.py" in caught.value.message
    assert "versions/two.py" in caught.value.message


def test_missing_parent_names_file_and_parent() -> None:
    with pytest.raises(RevisionError) as caught:
        RevisionGraph([rev("aaa1"), rev("bbb2", "gone")])
    assert caught.value.message == (
        "revision 'bbb2' (versions/bbb2.py) names a missing parent 'gone'"
    )
    assert caught.value.hint


def test_duplicate_label() -> None:
    with pytest.raises(RevisionError, match="branch label 'x' is declared by both"):
        RevisionGraph([rev("aaa1", labels=("x",)), rev("bbb2", labels=("x",))])


def test_unknown_database_revision() -> None:
    graph = RevisionGraph(DIAMOND)
    with pytest.raises(RevisionError, match="no revision file defines"):
        upgrade_plan(graph, ("gone",), ["eee5"])
    with pytest.raises(RevisionError, match="no revision file defines"):
        TargetResolver(graph, lambda: ("gone",)).resolve("current")


def test_downgrade_to_something_not_applied() -> None:
    graph = RevisionGraph(DIAMOND)
    with pytest.raises(RevisionError, match="'ddd4': it is not applied"):
        downgrade_plan(graph, ("ccc3",), DowngradeTarget(keep=("ddd4",)))
    with pytest.raises(RevisionError, match="points upward"):
        TargetResolver(graph, lambda: ("ccc3",)).downgrade_target("+1")


def test_merge_and_unmerge_steps() -> None:
    graph = RevisionGraph(DIAMOND)
    steps = upgrade_plan(graph, ("ccc3", "ddd4"), ["eee5"])
    assert [(s.revision, s.heads_before, s.heads_after) for s in steps] == [
        ("eee5", ("ccc3", "ddd4"), ("eee5",))
    ]
    assert steps[0].removed_heads == ("ccc3", "ddd4")
    back = downgrade_plan(graph, ("eee5",), DowngradeTarget(keep=("ccc3",)))
    # Only descendants of ccc3 go: ddd4 is on another branch and stays.
    assert [(s.revision, s.heads_after) for s in back] == [("eee5", ("ccc3", "ddd4"))]
    assert back[0].added_heads == ("ccc3", "ddd4")
