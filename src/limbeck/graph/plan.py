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
    """Steps that take a database at ``current`` back to ``target``.

    The revisions removed are exactly :func:`downgrade_removals`; each step
    removes one of them, newest first.
    """
    applied = applied_set(graph, current)
    doomed = downgrade_removals(graph, applied, target)
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


def downgrade_removals(
    graph: RevisionGraph, applied: set[str], target: DowngradeTarget
) -> set[str]:
    """The applied revisions that ``downgrade target`` removes.

    Going down to a kept revision X removes X's applied ``down_revision``
    children and everything that needs them (through ``down_revision`` or
    ``depends_on``). A revision that only *depends on* X is not above X: it
    stays while X stays, and goes when X itself is removed. A kept revision
    and its ancestors are never removed on behalf of ``keep`` (a child of one
    kept revision that is another kept one, or below it, stays). A
    ``remove`` revision goes with everything that needs it; ``everything``
    removes all.

    Raises :class:`RevisionError` when a kept or removed revision is not applied.
    """
    if target.everything:
        return set(applied)
    doomed = _above_kept(graph, applied, target.keep)
    for key in target.remove:
        _require_applied(
            key,
            applied,
            f"cannot remove {key!r}: it is not applied",
            "`limbeck current` shows where the database is",
        )
        doomed |= graph.descendants(key)
    return doomed & applied


def _above_kept(graph: RevisionGraph, applied: set[str], keep: tuple[str, ...]) -> set[str]:
    """What needs a ``down_revision`` child of a kept revision (no kept
    revision or ancestor of one among them); not yet limited to ``applied``."""
    for key in keep:
        _require_applied(
            key,
            applied,
            f"cannot downgrade to {key!r}: it is not applied",
            "`limbeck current` shows where the database is; use upgrade to go forward",
        )
    if not keep:
        return set()
    above = {child for key in keep for child in graph.children(key)}
    return graph.descendants(above - graph.ancestors(keep))


def _require_applied(key: str, applied: set[str], message: str, hint: str) -> None:
    if key not in applied:
        raise RevisionError(message, hint=hint)


def _has_applied_child(graph: RevisionGraph, key: str, applied: set[str]) -> bool:
    return any(child in applied for child in (*graph.children(key), *graph.dependents(key)))


def stamp_heads(
    graph: RevisionGraph,
    current: tuple[str, ...],
    targets: Iterable[str],
    *,
    cleared: Iterable[str] = (),
) -> tuple[str, ...]:
    """The version rows after ``stamp targets`` from ``current``.

    A target replaces the rows on its own line of history (its ancestors and
    descendants) and leaves other branches alone. Each ``cleared`` revision
    (the declaring revision of a ``label@base`` target, see
    :meth:`~limbeck.graph.targets.TargetResolver.stamp_target`) deletes the
    rows on its line and records nothing. With neither targets nor
    ``cleared`` (``stamp base``) every row goes.
    """
    targets = tuple(targets)
    cleared = tuple(cleared)
    if not targets and not cleared:
        return ()
    rows = [key for key in current if key in graph]
    for key in cleared:
        rows = _off_the_line(graph, rows, key)
    for target in targets:
        rows = _off_the_line(graph, rows, target)
        rows.append(target)
    return graph.maximal(rows)


def _off_the_line(graph: RevisionGraph, rows: list[str], key: str) -> list[str]:
    """``rows`` without those that are ``key``, its ancestors or its descendants."""
    line = graph.ancestors(key) | graph.descendants(key)
    return [row for row in rows if row not in line]


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
