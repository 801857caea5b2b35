"""The revision graph: pure data, no I/O.

:class:`RevisionGraph` validates and answers questions about a set of
:class:`Revision` objects; :class:`TargetResolver` turns target strings into
revision ids; :mod:`limbeck.graph.plan` computes upgrade, downgrade and stamp
steps with the version-table heads before and after each.
"""

from limbeck.graph.graph import RevisionGraph
from limbeck.graph.plan import (
    Step,
    applied_set,
    downgrade_plan,
    downgrade_removals,
    revisions_between,
    stamp_heads,
    upgrade_plan,
)
from limbeck.graph.revision import Revision
from limbeck.graph.targets import DowngradeTarget, StampTarget, TargetResolver, split_range

__all__ = [
    "DowngradeTarget",
    "Revision",
    "RevisionGraph",
    "StampTarget",
    "Step",
    "TargetResolver",
    "applied_set",
    "downgrade_plan",
    "downgrade_removals",
    "revisions_between",
    "split_range",
    "stamp_heads",
    "upgrade_plan",
]
