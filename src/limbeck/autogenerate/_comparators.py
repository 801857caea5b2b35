"""Comparators that add-ons register: extra operations for autogenerate.

limbeck compares schema models itself; an add-on that manages objects the
model does not know (views, functions, triggers, policies) registers a
*schema-level* comparator, which receives the run's :class:`CompareContext`,
the :class:`~limbeck.operations.ops.UpgradeOps` being built, and the schema
names compared, and appends its own operations (their ``reverse()`` gives the
downgrade, their renderer the Python source)::

    from limbeck.autogenerate import comparators

    @comparators.dispatch_for("schema")
    def compare_views(context, upgrade_ops, schemas):
        ...

``qualifier`` limits a comparator to one dialect (``"postgresql"``);
``"default"`` runs everywhere. This is the registry Alembic's
``alembic.autogenerate.comparators`` names resolve to in a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from limbeck.errors import LimbeckError

SchemaComparator = Callable[[Any, Any, Any], None]

_schema_comparators: list[tuple[str, SchemaComparator]] = []


class CompareContext:
    """What a comparator sees: Alembic's ``AutogenContext`` attribute names."""

    def __init__(self, migration_context: Any, metadata: Any) -> None:
        self.migration_context = migration_context
        self.metadata = metadata
        self.connection = getattr(migration_context, "connection", None)
        self.dialect = getattr(migration_context, "dialect", None)
        self.opts: dict[str, Any] = dict(getattr(migration_context, "opts", None) or {})
        self.imports: set[str] = set()

    def run_name_filters(self, name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        """Whether ``include_name`` (if any) keeps this name."""
        hook = self.opts.get("include_name")
        return True if hook is None else bool(hook(name, type_, parent_names))

    def run_object_filters(
        self, object_: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        """Whether ``include_object`` (if any) keeps this object."""
        hook = self.opts.get("include_object")
        return True if hook is None else bool(hook(object_, name, type_, reflected, compare_to))


class _Registry:
    """``comparators.dispatch_for(target, qualifier="default")``."""

    def dispatch_for(
        self, target: str, qualifier: str = "default"
    ) -> Callable[[SchemaComparator], SchemaComparator]:
        if target != "schema":
            raise LimbeckError(
                f"autogenerate comparators for {target!r} are not supported; "
                "only schema-level ones are",
                hint="register with dispatch_for('schema') and walk the tables yourself, "
                "or filter with include_object / include_name",
            )

        def register(fn: SchemaComparator) -> SchemaComparator:
            _schema_comparators.append((qualifier, fn))
            return fn

        return register


comparators = _Registry()


def run_schema_comparators(
    migration_context: Any, metadata: Any, upgrade_ops: Any, schemas: Iterable[str | None]
) -> None:
    """Let every registered schema comparator for this dialect add operations."""
    if not _schema_comparators:
        return
    dialect = getattr(getattr(migration_context, "dialect", None), "name", None)
    context = CompareContext(migration_context, metadata)
    wanted = set(schemas)
    for qualifier, fn in list(_schema_comparators):
        if qualifier in ("default", dialect):
            fn(context, upgrade_ops, wanted)
