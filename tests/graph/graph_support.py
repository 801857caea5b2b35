"""Helpers of the graph tests."""

from __future__ import annotations

from limbeck.graph import Revision


def rev(
    key: str,
    *parents: str,
    deps: tuple[str, ...] = (),
    labels: tuple[str, ...] = (),
) -> Revision:
    """A revision for an in-memory graph: ``parents`` are its down revisions."""
    return Revision(key, parents, deps, frozenset(labels), path=f"versions/{key}.py")
