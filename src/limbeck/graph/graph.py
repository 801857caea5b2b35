"""The revision graph: a DAG of revisions, with no I/O.

Two kinds of edges run from a revision to older ones: ``down_revision``
(parents, which also define heads, branches and merges) and ``depends_on``
(dependencies, which only order upgrades). "Ancestors" below always follow
both kinds, because a revision cannot be applied before either.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence

from limbeck._record import Record
from limbeck.errors import CycleDetected, RevisionError
from limbeck.graph.revision import Revision

TYPE_CHECKING = False  # typing is not imported at run time (mypy reads this as usual)
if TYPE_CHECKING:
    from typing import Any

_Step = Callable[[str], Sequence[str]]
_NO_LABELS: frozenset[str] = frozenset()
#: Version of :meth:`RevisionGraph.export_state`'s layout.
STATE_VERSION = 1


class Node(Record):
    """A revision with its resolved edges, as stored in the graph."""

    __slots__ = ("rev", "parents", "dependencies", "children", "dependents", "labels")
    rev: Revision
    parents: tuple[str, ...]
    dependencies: tuple[str, ...]
    children: tuple[str, ...]
    dependents: tuple[str, ...]
    labels: frozenset[str]

    def __init__(
        self,
        rev: Revision,
        parents: tuple[str, ...],
        dependencies: tuple[str, ...],
        children: tuple[str, ...],
        dependents: tuple[str, ...],
        labels: frozenset[str],
    ) -> None:
        self._set("rev", rev)
        self._set("parents", parents)
        self._set("dependencies", dependencies)
        self._set("children", children)
        self._set("dependents", dependents)
        self._set("labels", labels)


class RevisionGraph:
    """An immutable, validated DAG of revisions.

    Construction checks everything a user can get wrong (duplicate ids,
    missing parents, unknown dependencies, duplicate branch labels, cycles)
    and raises :class:`~limbeck.errors.RevisionError` naming the file.
    Queries never touch the file system.
    """

    def __init__(self, revisions: Iterable[Revision]) -> None:
        revs: dict[str, Revision] = {}
        for rev in revisions:
            previous = revs.get(rev.revision)
            if previous is not None:
                raise RevisionError(
                    f"duplicate revision id {rev.revision!r} in {_where(rev)} "
                    f"and {_where(previous)}",
                    hint="give one of the files a new id (its `revision` variable)",
                )
            revs[rev.revision] = rev
        self._revs = revs
        self._parents = {key: rev.down_revisions for key, rev in revs.items()}
        # Set by from_state() only: a restored graph makes Revision objects
        # on demand from these.
        self._docs: dict[str, str] = {}
        self._details: dict[str, tuple[Any, ...]] | None = None
        self._load_details: Callable[[], dict[str, tuple[Any, ...]]] = dict
        self._heads: tuple[str, ...] | None = None
        self._declared_labels = _collect_declared_labels(revs.values())
        children: dict[str, list[str]] = {key: [] for key in revs}
        for rev in revs.values():
            for parent in rev.down_revisions:
                if parent not in revs:
                    raise RevisionError(
                        f"revision {rev.revision!r} ({_where(rev)}) names a missing "
                        f"parent {parent!r}",
                        hint="fix its down_revision, or restore the file of the missing revision",
                    )
                children[parent].append(rev.revision)
        dependencies = {rev.revision: self._resolve_dependencies(rev) for rev in revs.values()}
        dependents: dict[str, list[str]] = {key: [] for key in revs}
        for key, deps in dependencies.items():
            for dep in deps:
                dependents[dep].append(key)
        self._children = {key: tuple(value) for key, value in children.items()}
        self._dependents = {key: tuple(value) for key, value in dependents.items()}
        self._dependencies = dependencies
        self._order = self._topological_order()
        self._position = {key: index for index, key in enumerate(self._order)}
        self._labels = self._propagate_labels()

    # -- a saved copy ---------------------------------------------------------

    def export_state(self) -> tuple[tuple[Any, ...], dict[str, tuple[Any, ...]]]:
        """Everything this graph computed, as plain picklable data, so that
        :meth:`from_state` can rebuild it without validating again: the
        structure (with each revision's ``doc``), and the other Revision
        fields, which only :meth:`get` and iteration need."""
        docs = {}
        details = {}
        for key in self._parents:
            rev = self._rev(key)
            docs[key] = rev.doc
            # One shared empty set: pickle stores it once, not once per revision.
            details[key] = (
                rev.dependencies,
                rev.branch_labels or _NO_LABELS,
                rev.path,
                rev.longdoc,
            )
        state = (
            STATE_VERSION,
            self._parents,
            docs,
            self._declared_labels,
            {key: value for key, value in self._dependencies.items() if value},
            self._children,
            {key: value for key, value in self._dependents.items() if value},
            self._order,
            {key: labels for key, labels in self._labels.items() if labels},
        )
        return state, details

    @classmethod
    def from_state(
        cls, state: tuple[Any, ...], details: Callable[[], dict[str, tuple[Any, ...]]]
    ) -> RevisionGraph:
        """The graph :meth:`export_state` described; ``details`` returns its
        second part, and is called when a Revision object is first needed."""
        if state[0] != STATE_VERSION:
            raise ValueError(f"graph state version {state[0]!r}, expected {STATE_VERSION}")
        graph = cls.__new__(cls)
        (
            _,
            graph._parents,
            graph._docs,
            graph._declared_labels,
            dependencies,
            graph._children,
            dependents,
            order,
            labels,
        ) = state
        keys = graph._parents
        graph._details = None
        graph._load_details = details
        graph._dependencies = dict.fromkeys(keys, ())
        graph._dependencies.update(dependencies)
        graph._dependents = dict.fromkeys(keys, ())
        graph._dependents.update(dependents)
        graph._revs = {}
        graph._heads = None
        graph._order = order
        graph._position = dict(zip(order, range(len(order)), strict=True))
        graph._labels = dict.fromkeys(keys, _NO_LABELS)
        graph._labels.update(labels)
        return graph

    def _rev(self, key: str) -> Revision:
        rev = self._revs.get(key)
        if rev is None:
            if key not in self._parents:
                raise KeyError(key)
            if self._details is None:
                self._details = self._load_details()
            dependencies, labels, path, longdoc = self._details[key]
            rev = self._revs[key] = Revision(
                revision=key,
                down_revisions=self._parents[key],
                dependencies=dependencies,
                branch_labels=labels,
                path=path,
                doc=self._docs[key],
                longdoc=longdoc,
            )
        return rev

    # -- construction helpers -------------------------------------------------

    def _resolve_dependencies(self, rev: Revision) -> tuple[str, ...]:
        resolved: list[str] = []
        for entry in rev.dependencies:
            if entry in self._revs:
                resolved.append(entry)
                continue
            owner = self._declared_labels.get(entry)
            if owner is not None:
                resolved.append(owner)
                continue
            matches = self._prefix_matches(entry)
            if len(matches) == 1:
                resolved.append(matches[0])
                continue
            raise RevisionError(
                f"revision {rev.revision!r} ({_where(rev)}) depends on {entry!r}, "
                + ("which is ambiguous" if matches else "which does not exist"),
                hint="depends_on takes revision ids or branch labels",
            )
        return tuple(dict.fromkeys(resolved))

    def _topological_order(self) -> tuple[str, ...]:
        """Kahn's algorithm, ties broken by id so the order is reproducible."""
        pending = {
            key: len(parents) + len(self._dependencies[key])
            for key, parents in self._parents.items()
        }
        ready = [key for key, count in pending.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            key = heapq.heappop(ready)
            order.append(key)
            for later in self._children[key] + self._dependents[key]:
                pending[later] -= 1
                if pending[later] == 0:
                    heapq.heappush(ready, later)
        if len(order) != len(self._revs):
            cycle = self._find_cycle({key for key, count in pending.items() if count > 0})
            raise CycleDetected(
                "revisions form a cycle: " + " -> ".join(cycle),
                hint="one of these files must not name the other as down_revision or depends_on",
            )
        return tuple(order)

    def _find_cycle(self, stuck: set[str]) -> list[str]:
        # Every stuck node has a stuck parent; walking parents must repeat.
        start = min(stuck)
        seen: dict[str, int] = {}
        path: list[str] = []
        node = start
        while node not in seen:
            seen[node] = len(path)
            path.append(node)
            node = next(p for p in self._all_parents(node) if p in stuck)
        cycle = path[seen[node] :]
        cycle.append(node)
        return list(reversed(cycle))

    def _propagate_labels(self) -> dict[str, frozenset[str]]:
        """A declared label covers its revision, every descendant, and the
        ancestors down to (not including) the previous branch point."""
        labels: dict[str, set[str]] = {key: set() for key in self._revs}
        for label, owner in self._declared_labels.items():
            for key in self._walk(owner, self._children_of):
                labels[key].add(label)
            node = owner
            while True:
                parents = self._parents[node]
                if len(parents) != 1:
                    break
                parent = parents[0]
                if len(self._children[parent]) > 1:
                    break
                labels[parent].add(label)
                node = parent
        return {key: frozenset(value) for key, value in labels.items()}

    # -- basic queries ----------------------------------------------------------

    def __contains__(self, key: object) -> bool:
        return key in self._parents

    def __len__(self) -> int:
        return len(self._parents)

    def __iter__(self) -> Iterator[Revision]:
        """Revisions oldest first, in a reproducible topological order."""
        return (self._rev(key) for key in self._order)

    def get(self, key: str) -> Revision:
        try:
            return self._rev(key)
        except KeyError:
            raise RevisionError(f"no revision {key!r}") from None

    def node(self, key: str) -> Node:
        rev = self.get(key)
        return Node(
            rev=rev,
            parents=rev.down_revisions,
            dependencies=self._dependencies[key],
            children=self._children[key],
            dependents=self._dependents[key],
            labels=self._labels[key],
        )

    @property
    def order(self) -> tuple[str, ...]:
        """Every revision id, parents before children."""
        return self._order

    def position(self, key: str) -> int:
        return self._position[key]

    def parents(self, key: str) -> tuple[str, ...]:
        return self._parents[key]

    def doc(self, key: str) -> str:
        """``get(key).doc``, without making the Revision object."""
        rev = self._revs.get(key)
        return rev.doc if rev is not None else self._docs[key]

    def dependencies(self, key: str) -> tuple[str, ...]:
        """``depends_on`` of ``key``, resolved to full revision ids."""
        return self._dependencies[key]

    def children(self, key: str) -> tuple[str, ...]:
        return self._children[key]

    def dependents(self, key: str) -> tuple[str, ...]:
        return self._dependents[key]

    def labels(self, key: str) -> frozenset[str]:
        """Branch labels that apply to ``key`` (declared or propagated)."""
        return self._labels[key]

    def declared_labels(self) -> dict[str, str]:
        """Each branch label and the revision that declares it."""
        return dict(self._declared_labels)

    def _children_of(self, key: str) -> Sequence[str]:
        return self._children[key]

    def _all_parents(self, key: str) -> tuple[str, ...]:
        return self._parents[key] + self._dependencies[key]

    def _all_children(self, key: str) -> tuple[str, ...]:
        return self._children[key] + self._dependents[key]

    # -- heads and bases ----------------------------------------------------------

    @property
    def heads(self) -> tuple[str, ...]:
        """Revisions with no child through ``down_revision``, in graph order."""
        if self._heads is None:
            children = self._children
            self._heads = tuple(key for key in self._order if not children[key])
        return self._heads

    @property
    def effective_heads(self) -> tuple[str, ...]:
        """Heads that are no other revision's dependency either: what the
        version table holds when every revision is applied."""
        return tuple(
            key for key in self._order if not self._children[key] and not self._dependents[key]
        )

    @property
    def bases(self) -> tuple[str, ...]:
        parents = self._parents
        return tuple(key for key in self._order if not parents[key])

    def is_branch_point(self, key: str) -> bool:
        return len(self._children[key]) > 1

    def is_merge_point(self, key: str) -> bool:
        return len(self._parents[key]) > 1

    @property
    def branch_points(self) -> tuple[str, ...]:
        return tuple(key for key in self._order if len(self._children[key]) > 1)

    # -- closures -------------------------------------------------------------------

    @staticmethod
    def _walk(start: str | Iterable[str], step: _Step) -> set[str]:
        todo = [start] if isinstance(start, str) else list(start)
        seen = set(todo)
        while todo:
            for nxt in step(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def ancestors(self, keys: str | Iterable[str], *, inclusive: bool = True) -> set[str]:
        """Everything ``keys`` need applied first (parents and dependencies)."""
        found = self._walk(keys, self._all_parents)
        if not inclusive:
            found -= {keys} if isinstance(keys, str) else set(keys)
        return found

    def descendants(self, keys: str | Iterable[str], *, inclusive: bool = True) -> set[str]:
        """Everything that needs ``keys`` (children and dependents)."""
        found = self._walk(keys, self._all_children)
        if not inclusive:
            found -= {keys} if isinstance(keys, str) else set(keys)
        return found

    def is_ancestor(self, older: str, newer: str) -> bool:
        """True when ``older`` must be applied before ``newer`` (or is it)."""
        return older in self.ancestors(newer)

    def sort(self, keys: Iterable[str], *, newest_first: bool = False) -> list[str]:
        return sorted(keys, key=self._position.__getitem__, reverse=newest_first)

    def maximal(self, keys: Iterable[str]) -> tuple[str, ...]:
        """The members of ``keys`` that are no ancestor of another member:
        the version-table rows that describe ``keys``' closure."""
        pool = set(keys)
        below: set[str] = set()
        for key in pool:
            below |= self.ancestors(key, inclusive=False)
        return tuple(self.sort(pool - below))

    # -- ids and labels -----------------------------------------------------------

    def _prefix_matches(self, prefix: str) -> list[str]:
        return sorted(key for key in self._parents if len(key) > 3 and key.startswith(prefix))

    def matches_prefix(self, prefix: str) -> bool:
        """Whether some revision id starts with ``prefix`` (ids over 3 chars)."""
        return bool(self._prefix_matches(prefix))

    def lookup(self, ident: str) -> str:
        """Resolve a full id, a unique id prefix or a branch label to one id."""
        if ident in self._parents:
            return ident
        owner = self._declared_labels.get(ident)
        if owner is not None:
            return owner
        if not ident.strip():
            raise RevisionError(
                "an empty revision was given", hint="name one: an id, head, base, label@head ..."
            )
        matches = self._prefix_matches(ident)
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise RevisionError(
                f"revision {ident!r} is ambiguous: it starts {len(matches)} ids ({shown})",
                hint="give more characters of the id",
            )
        raise RevisionError(
            f"no revision or branch label {ident!r}",
            hint="`limbeck history` lists revision ids, `limbeck branches` the labels",
        )

    def require_label(self, label: str) -> str:
        owner = self._declared_labels.get(label)
        if owner is None:
            known = ", ".join(sorted(self._declared_labels)) or "none"
            raise RevisionError(
                f"unknown branch label {label!r}",
                hint=f"branch labels in this project: {known}",
            )
        return owner

    def branch_members(self, label: str) -> set[str]:
        self.require_label(label)
        return {key for key, labels in self._labels.items() if label in labels}


def _collect_declared_labels(revisions: Iterable[Revision]) -> dict[str, str]:
    owners: dict[str, Revision] = {}
    for rev in revisions:
        for label in sorted(rev.branch_labels):
            other = owners.get(label)
            if other is not None:
                raise RevisionError(
                    f"branch label {label!r} is declared by both {rev.revision!r} "
                    f"({_where(rev)}) and {other.revision!r} ({_where(other)})",
                    hint="branch labels must be unique; rename one of them",
                )
            owners[label] = rev
    return {label: rev.revision for label, rev in owners.items()}


def _where(rev: Revision) -> str:
    return rev.path or "<no file>"
