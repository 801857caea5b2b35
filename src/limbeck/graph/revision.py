"""One revision as the graph sees it: an id, its parents and its labels."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Revision:
    """A node of the revision graph.

    ``down_revisions`` are the parents (several for a merge point, none for a
    base); ``dependencies`` are the ``depends_on`` entries as written in the
    file (full ids, partial ids or branch labels): they order upgrades but do
    not merge branches. ``path`` and ``doc`` are carried for display only.
    """

    revision: str
    down_revisions: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    branch_labels: frozenset[str] = frozenset()
    path: str | None = None
    doc: str = ""
    longdoc: str = field(default="", compare=False)

    @property
    def is_base(self) -> bool:
        return not self.down_revisions

    @property
    def is_merge_point(self) -> bool:
        return len(self.down_revisions) > 1
