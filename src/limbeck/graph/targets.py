"""The target grammar: what ``head``, ``ae1f+2``, ``label@base`` ... mean.

Grammar (as Alembic users write it):

* ``base``; ``head`` (the one head); ``heads`` (all of them)
* a full id, a unique prefix of one, or a branch label (the revision that
  declares it)
* ``+N`` / ``-N`` relative to the database's current revision
* ``<target>+N`` / ``<target>-N`` relative to a single revision
* ``label@head``, ``label@heads``, ``label@base``, ``label@+N``,
  ``label@-N``, ``label@<rev>``, ``<rev>@head``
* ``current`` (needs the database's heads)

``label@base`` names the branch's first revision for :meth:`TargetResolver.resolve`
(``show``, ``history`` ranges); for ``upgrade``, ``stamp`` and ``downgrade``
it is the point before that revision (see the command-specific methods).

Ranges ``a:b`` are split by the caller (see :func:`split_range`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from limbeck._record import Record
from limbeck.errors import AmbiguousWalk, MultipleHeads, RevisionError
from limbeck.graph.graph import RevisionGraph

_RELATIVE = re.compile(r"^(?P<symbol>.*?)(?P<sign>[+-])(?P<count>\d+)$")

CurrentHeads = Callable[[], tuple[str, ...]]


class DowngradeTarget(Record):
    """Where a downgrade goes.

    ``keep`` revisions stay applied and what sits above them (their
    ``down_revision`` children and all that needs those) is removed;
    ``remove`` revisions are removed with all that needs them;
    ``everything`` removes all. :func:`limbeck.graph.plan.downgrade_removals`
    gives the exact set.
    """

    __slots__ = ("keep", "remove", "everything")
    keep: tuple[str, ...]
    remove: tuple[str, ...]
    everything: bool

    def __init__(
        self, keep: tuple[str, ...] = (), remove: tuple[str, ...] = (), everything: bool = False
    ) -> None:
        self._set("keep", keep)
        self._set("remove", remove)
        self._set("everything", everything)


class StampTarget(Record):
    """What ``stamp`` records.

    Each of ``revisions`` replaces the rows on its line of history; each of
    ``cleared`` (the declaring revision of a ``label@base`` target) deletes
    the rows on its line. Both empty means ``stamp base``: no rows at all.
    """

    __slots__ = ("revisions", "cleared")
    revisions: tuple[str, ...]
    cleared: tuple[str, ...]

    def __init__(self, revisions: tuple[str, ...] = (), cleared: tuple[str, ...] = ()) -> None:
        self._set("revisions", revisions)
        self._set("cleared", cleared)


def split_range(text: str) -> tuple[str | None, str | None]:
    """``"a:b"`` to ``("a", "b")``; an empty side is ``None``."""
    if ":" not in text:
        raise RevisionError(
            f"{text!r} is not a range", hint="a range is written start:end, either side optional"
        )
    start, _, end = text.partition(":")
    return (start or None, end or None)


class TargetResolver:
    """Resolves target strings against one graph and (lazily) the database.

    ``current`` is called at most once, and only for targets that need the
    database's heads (``current``, ``+N``, ``-N``, ``label@+N``).
    """

    def __init__(self, graph: RevisionGraph, current: CurrentHeads | None = None) -> None:
        self.graph = graph
        self._current_source = current
        self._current: tuple[str, ...] | None = None

    # -- the database's state ---------------------------------------------------

    def current(self) -> tuple[str, ...]:
        if self._current is None:
            if self._current_source is None:
                raise RevisionError(
                    "this target is relative to the database, but no database is in use here",
                    hint="give an explicit revision instead of current, +N or -N",
                )
            heads = self._current_source()
            for head in heads:
                if head not in self.graph:
                    raise RevisionError(
                        f"the database is at revision {head!r}, which no revision file defines",
                        hint="restore that file, or `limbeck stamp --purge <rev>` "
                        "to record where the database really is",
                    )
            self._current = heads
        return self._current

    # -- general resolution -------------------------------------------------------

    def resolve(self, target: str) -> tuple[str, ...]:
        """Revision ids that ``target`` names; ``()`` for ``base``."""
        graph = self.graph
        if target in graph:
            return (target,)
        if target == "base":
            return ()
        if target == "heads":
            return graph.heads
        if target == "head":
            return (self.single_head(),)
        if target == "current":
            return self.current()
        if "@" in target:
            return self._resolve_branch(target)
        if target in graph.declared_labels():
            return (graph.lookup(target),)
        relative = _RELATIVE.match(target)
        if relative:
            return self._resolve_relative(
                relative["symbol"], relative["sign"] == "+", int(relative["count"])
            )
        return (graph.lookup(target),)

    def resolve_one(self, target: str) -> str:
        found = self.resolve(target)
        if len(found) != 1:
            what = "no revision (base)" if not found else "several: " + ", ".join(found)
            raise RevisionError(
                f"{target!r} must name one revision, but names {what}",
                hint="name one revision, e.g. `label@head` or an id",
            )
        return found[0]

    def single_head(self) -> str:
        heads = self.graph.heads
        if len(heads) == 1:
            return heads[0]
        if not heads:
            raise RevisionError(
                "there are no revisions yet", hint="`limbeck revision -m ...` creates one"
            )
        raise MultipleHeads(
            f"'head' is ambiguous: there are {len(heads)} heads ({', '.join(heads)})",
            hint="use " + self._alternatives(heads) + ", `heads` for all, or `limbeck merge heads`",
        )

    def _alternatives(self, keys: tuple[str, ...] | list[str]) -> str:
        """Targets naming each of ``keys`` unambiguously: ``label@head``
        where that is exactly the key, else the id."""
        names = []
        for key in keys:
            name = f"`{key}`"
            for label in sorted(self.graph.labels(key)):
                members = self.graph.branch_members(label)
                if tuple(h for h in self.graph.heads if h in members) == (key,):
                    name = f"`{label}@head`"
                    break
            names.append(name)
        return " or ".join(names)

    # -- label@... ----------------------------------------------------------------

    def _resolve_branch(self, target: str) -> tuple[str, ...]:
        branch, _, rest = target.partition("@")
        graph = self.graph
        if branch not in graph.declared_labels():
            # <rev>@head: the head of the branch that contains <rev>.
            if rest in ("head", "heads") and (branch in graph or graph.matches_prefix(branch)):
                start = graph.lookup(branch)
                return self._heads_above(start, rest == "heads", target)
            graph.require_label(branch)
        members = graph.branch_members(branch)
        if rest in ("head", "heads"):
            heads = tuple(key for key in graph.heads if key in members)
            if rest == "head" and len(heads) > 1:
                raise MultipleHeads(
                    f"{target!r} is ambiguous: branch {branch!r} has heads {', '.join(heads)}",
                    hint=f"use one of the ids, or `{branch}@heads` for all of them",
                )
            return heads
        if rest == "base":
            return self.branch_bases(branch)
        relative = _RELATIVE.match(rest)
        if relative and not relative["symbol"]:
            count = int(relative["count"])
            upward = relative["sign"] == "+"
            current = self._current_in_branch(branch, members)
            if current is None:
                if not upward:
                    raise RevisionError(
                        f"{target!r}: nothing of branch {branch!r} is applied",
                        hint="there is nothing to step back from",
                    )
                bases = self.branch_bases(branch)
                if len(bases) != 1:
                    raise AmbiguousWalk(
                        f"{target!r} is ambiguous: branch {branch!r} starts at " + ", ".join(bases),
                        hint="name the revision to go to",
                    )
                if count == 0:
                    raise RevisionError(f"{target!r}: +0 goes nowhere")
                return (self.walk(bases[0], True, count - 1, target),)
            return (self.walk(current, upward, count, target),)
        key = self.resolve_one(rest) if rest else graph.lookup(branch)
        if key not in members:
            raise RevisionError(
                f"revision {key!r} is not on branch {branch!r}",
                hint=f"`limbeck history -r {branch}@base:{branch}@head` lists that branch",
            )
        return (key,)

    def branch_bases(self, branch: str) -> tuple[str, ...]:
        members = self.graph.branch_members(branch)
        return tuple(
            key
            for key in self.graph.sort(members)
            if not any(parent in members for parent in self.graph.parents(key))
        )

    def _heads_above(self, start: str, allow_many: bool, target: str) -> tuple[str, ...]:
        # The branch containing `start` follows down_revision only: a branch
        # that merely depends on `start` is another line of history.
        above = {start}
        todo = [start]
        while todo:
            for child in self.graph.children(todo.pop()):
                if child not in above:
                    above.add(child)
                    todo.append(child)
        heads = tuple(key for key in self.graph.heads if key in above)
        if len(heads) > 1 and not allow_many:
            raise MultipleHeads(
                f"{target!r} is ambiguous: {start!r} leads to heads {', '.join(heads)}",
                hint="use " + self._alternatives(heads),
            )
        return heads

    def _current_in_branch(self, branch: str, members: set[str]) -> str | None:
        found = [key for key in self.current() if key in members]
        if not found:
            # A head past the branch (e.g. a merge) still tells where we are.
            applied = self.graph.ancestors(self.current()) if self.current() else set()
            inside = [key for key in self.graph.sort(applied & members)]
            found = list(self.graph.maximal(inside))
        if len(found) > 1:
            raise AmbiguousWalk(
                f"branch {branch!r} is at several revisions: {', '.join(found)}",
                hint="step from one of them: `<rev>+N` or `<rev>-N`",
            )
        return found[0] if found else None

    # -- relative steps -----------------------------------------------------------

    def _resolve_relative(self, symbol: str, upward: bool, count: int) -> tuple[str, ...]:
        text = f"{symbol}{'+' if upward else '-'}{count}"
        if symbol:
            start = self.resolve_one(symbol)
            return (self.walk(start, upward, count, text),)
        current = self.current()
        if len(current) > 1:
            raise AmbiguousWalk(
                f"{text!r} is ambiguous: the database is at several heads ({', '.join(current)})",
                hint="step from one of them: " + " or ".join(f"`{h}{text}`" for h in current),
            )
        if not current:
            if not upward:
                raise RevisionError(
                    f"{text!r}: the database is at base already", hint="nothing to go back from"
                )
            bases = self.graph.bases
            if len(bases) != 1:
                raise AmbiguousWalk(
                    f"{text!r} is ambiguous: the database is empty and there are "
                    f"{len(bases)} bases ({', '.join(bases)})",
                    hint="use " + self._alternatives(bases) + " or an explicit id",
                )
            if count == 0:
                return ()
            return (self.walk(bases[0], True, count - 1, text),)
        return (self.walk(current[0], upward, count, text),)

    def walk(self, start: str, upward: bool, count: int, text: str) -> str:
        """Take ``count`` single steps from ``start``; a branch point (going
        up) or a merge point (going down) on the way is an error that names
        the branches. Going down past the base is an error too."""
        graph = self.graph
        node = start
        for taken in range(count):
            nxt = graph.children(node) if upward else graph.parents(node)
            if len(nxt) == 1:
                node = nxt[0]
                continue
            if not nxt:
                where = "head" if upward else "base"
                raise RevisionError(
                    f"{text!r} goes {count} steps from {start!r}, but {node!r} is a {where} "
                    f"after {taken}",
                    hint="use a smaller step" if upward else "use `base` to remove everything",
                )
            kind = "branch point" if upward else "merge point"
            raise AmbiguousWalk(
                f"{text!r} is ambiguous: {node!r} is a {kind} "
                + ("with children " if upward else "of ")
                + ", ".join(self._describe(key) for key in nxt),
                hint="go to one of them by name: " + self._alternatives(nxt),
            )
        return node

    def _describe(self, key: str) -> str:
        labels = sorted(self.graph.labels(key))
        return f"{key} (branch {', '.join(labels)})" if labels else key

    # -- command-specific meanings ----------------------------------------------

    def _base_label(self, target: str) -> str | None:
        """The label of a ``label@base`` target, or None for any other target."""
        label, at, rest = target.partition("@")
        if at and rest == "base" and label in self.graph.declared_labels():
            return label
        return None

    def upgrade_destinations(self, target: str) -> tuple[str, ...]:
        """What ``upgrade <target>`` goes up to: as :meth:`resolve`, except
        that ``label@base`` is the point *before* the branch's first
        revision, so it names nothing and an upgrade to it applies nothing."""
        if self._base_label(target) is not None:
            return ()
        return self.resolve(target)

    def stamp_target(self, targets: Sequence[str]) -> StampTarget:
        """What ``stamp <targets>`` records.

        ``label@base`` clears the label's line (the rows that are the
        declaring revision, its ancestors or its descendants) instead of
        recording the branch's first revision; other targets resolve as in
        :meth:`resolve`. ``base`` with no revision named means no rows.
        """
        revisions: list[str] = []
        cleared: list[str] = []
        for target in targets:
            label = self._base_label(target)
            if label is not None:
                cleared.append(self.graph.require_label(label))
            else:
                revisions.extend(self.resolve(target))
        if "base" in targets and not revisions:
            return StampTarget()
        return StampTarget(tuple(revisions), tuple(dict.fromkeys(cleared)))

    def downgrade_target(self, target: str) -> DowngradeTarget:
        """What ``downgrade <target>`` removes."""
        if target == "base":
            return DowngradeTarget(everything=True)
        label = self._base_label(target)
        if label is not None:
            return DowngradeTarget(remove=self.branch_bases(label))
        relative = _RELATIVE.match(target)
        branch_relative = None
        if "@" in target:
            branch, _, rest = target.partition("@")
            branch_relative = _RELATIVE.match(rest) if not target.startswith("@") else None
            if branch_relative and branch_relative["symbol"]:
                branch_relative = None
            if branch_relative and branch_relative["sign"] == "-":
                members = self.graph.branch_members(branch)
                start = self._current_in_branch(branch, members)
                if start is None:
                    raise RevisionError(f"{target!r}: nothing of branch {branch!r} is applied")
                return self._relative_down(start, int(branch_relative["count"]), target)
        if relative and not relative["symbol"] and target not in self.graph:
            if relative["sign"] == "+":
                raise RevisionError(
                    f"downgrade {target!r} points upward", hint="use `limbeck upgrade` to go up"
                )
            current = self.current()
            if len(current) != 1:
                raise AmbiguousWalk(
                    f"{target!r} is ambiguous: the database is at "
                    + (f"several heads ({', '.join(current)})" if current else "base"),
                    hint="name the revision to go back to, or `<rev>-N`",
                )
            return self._relative_down(current[0], int(relative["count"]), target)
        return DowngradeTarget(keep=self.resolve(target))

    def _relative_down(self, start: str, count: int, text: str) -> DowngradeTarget:
        if count == 0:
            return DowngradeTarget(keep=(start,))
        # Removing N revisions from `start` means removing the N-th one down
        # (counting `start` as the first) with everything above it.
        last = self.walk(start, False, count - 1, text) if count > 1 else start
        return DowngradeTarget(remove=(last,))
