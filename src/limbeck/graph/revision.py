"""One revision as the graph sees it: an id, its parents and its labels."""

from __future__ import annotations

from limbeck._record import Record


class Revision(Record):
    """A node of the revision graph.

    ``down_revisions`` are the parents (several for a merge point, none for a
    base); ``dependencies`` are the ``depends_on`` entries as written in the
    file (full ids, partial ids or branch labels): they order upgrades but do
    not merge branches. ``path`` and ``doc`` are carried for display only.
    """

    __slots__ = (
        "revision",
        "down_revisions",
        "dependencies",
        "branch_labels",
        "path",
        "doc",
        "longdoc",
    )
    _not_compared = ("longdoc",)

    revision: str
    down_revisions: tuple[str, ...]
    dependencies: tuple[str, ...]
    branch_labels: frozenset[str]
    path: str | None
    doc: str
    longdoc: str

    def __init__(
        self,
        revision: str,
        down_revisions: tuple[str, ...] = (),
        dependencies: tuple[str, ...] = (),
        branch_labels: frozenset[str] = frozenset(),
        path: str | None = None,
        doc: str = "",
        longdoc: str = "",
    ) -> None:
        self._set("revision", revision)
        self._set("down_revisions", down_revisions)
        self._set("dependencies", dependencies)
        self._set("branch_labels", branch_labels)
        self._set("path", path)
        self._set("doc", doc)
        self._set("longdoc", longdoc)

    @property
    def is_base(self) -> bool:
        return not self.down_revisions

    @property
    def is_merge_point(self) -> bool:
        return len(self.down_revisions) > 1
