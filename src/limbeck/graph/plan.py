"""Plans: which revisions run, in which order, and what the heads become.

The version table holds the *maximal* applied revisions: those no other
applied revision depends on through ``down_revision`` or ``depends_on``.
Each step below records the heads before and after it, so the runtime can
turn every step into the matching INSERT / UPDATE / DELETE of version rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from limbeck._record import Record
from limbeck.errors import RevisionError
from limbeck.graph.graph import RevisionGraph
from limbeck.graph.targets import DowngradeTarget


class Step(Record):
    """One migration to run (or, for stamps, one change of heads)."""

    __slots__ = ("revision", "is_upgrade", "heads_before", "heads_after")
    revision: str
    is_upgrade: bool
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]

    def __init__(
        self,
        revision: str,
        is_upgrade: bool,
        heads_before: tuple[str, ...],
        heads_after: tuple[str, ...],
    ) -> None:
        self._set("revision", revision)
        self._set("is_upgrade", is_upgrade)
        self._set("heads_before", heads_before)
        self._set("heads_after", heads_after)

    @property
    def removed_heads(self) -> tuple[str, ...]:
        return tuple(key for key in self.heads_before if key not in self.heads_after)

    @property
    def added_heads(self) -> tuple[str, ...]:
        return tuple(key for key in self.heads_after if key not in self.heads_before)


def _check_known(graph: RevisionGraph, heads: Iterable[str]) -> None:
    for head in heads:
        if head not in graph:
            raise RevisionError(
                f"the database is at revision {head!r}, which no revision file defines",
                hint="restore that file, or `limbeck stamp --purge <rev>` "
                "to record where the database really is",
            )


def applied_set(graph: RevisionGraph, heads: Iterable[str]) -> set[str]:
    """Every revision the version rows ``heads`` imply are applied."""
    heads = tuple(heads)
    _check_known(graph, heads)
    return graph.ancestors(heads) if heads else set()


def upgrade_plan(
    graph: RevisionGraph, current: tuple[str, ...], destinations: Iterable[str]
) -> list[Step]:
    """Steps that bring a database at ``current`` up to ``destinations``.

    Only ancestors of the destinations run (siblings do not); a destination
    already applied contributes nothing.
    """
    applied = applied_set(graph, current)
    wanted = graph.ancestors(tuple(destinations)) if destinations else set()
    heads = list(graph.sort(current))
    steps: list[Step] = []
    for key in graph.sort(wanted - applied):
        before = tuple(heads)
        parents = set(graph.parents(key)) | set(graph.dependencies(key))
        heads = [head for head in heads if head not in parents]
        heads.append(key)
        steps.append(Step(key, True, before, tuple(heads)))
    return steps


def downgrade_plan(
    graph: RevisionGraph, current: tuple[str, ...], target: DowngradeTarget
) -> list[Step]:
    """Steps that take a database at ``current`` back to ``target``."""
    applied = applied_set(graph, current)
    if target.everything:
        doomed = set(applied)
    else:
        doomed = set()
        for key in target.keep:
            if key not in applied:
                raise RevisionError(
                    f"cannot downgrade to {key!r}: it is not applied",
                    hint="`limbeck current` shows where the database is; use upgrade to go forward",
                )
            doomed |= graph.descendants(key, inclusive=False)
        for key in target.remove:
            if key not in applied:
                raise RevisionError(
                    f"cannot remove {key!r}: it is not applied",
                    hint="`limbeck current` shows where the database is",
                )
            doomed |= graph.descendants(key)
        doomed &= applied
    remaining = set(applied)
    heads = list(graph.sort(current))
    steps: list[Step] = []
    for key in graph.sort(doomed, newest_first=True):
        before = tuple(heads)
        remaining.discard(key)
        heads = [head for head in heads if head != key]
        for parent in (*graph.parents(key), *graph.dependencies(key)):
            if (
                parent in remaining
                and parent not in heads
                and not _has_applied_child(graph, parent, remaining)
            ):
                heads.append(parent)
        steps.append(Step(key, False, before, tuple(graph.sort(heads))))
    return steps


def _has_applied_child(graph: RevisionGraph, key: str, applied: set[str]) -> bool:
    return any(child in applied for child in (*graph.children(key), *graph.dependents(key)))


def stamp_heads(
    graph: RevisionGraph, current: tuple[str, ...], targets: Iterable[str]
) -> tuple[str, ...]:
    """The version rows after ``stamp targets`` from ``current``.

    A target replaces the rows on its own line of history (its ancestors and
    descendants) and leaves other branches alone. An empty ``targets``
    (``stamp base``) clears everything.
    """
    targets = tuple(targets)
    if not targets:
        return ()
    rows = [key for key in current if key in graph]
    for target in targets:
        line = graph.ancestors(target) | graph.descendants(target)
        rows = [row for row in rows if row not in line]
        rows.append(target)
    return graph.maximal(rows)


def revisions_between(
    graph: RevisionGraph, lower: Iterable[str] | None, upper: Iterable[str] | None
) -> list[str]:
    """Revisions from ``lower`` up to ``upper`` (both inclusive), newest first.

    ``None`` for ``lower`` means from the bases; ``None`` for ``upper`` means
    up to every head.
    """
    if upper is None and (lower is None or not (lower := tuple(lower))):
        return list(reversed(graph.order))  # everything: no set, no sort
    top = graph.ancestors(tuple(upper)) if upper is not None else set(graph.order)
    if lower is not None:
        lower = tuple(lower)
        if lower:
            top &= graph.descendants(lower)
    return graph.sort(top, newest_first=True)
