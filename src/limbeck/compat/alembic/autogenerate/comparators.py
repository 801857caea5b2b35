"""``alembic.autogenerate.comparators``: limbeck's comparator registry
(schema-level comparators; see :mod:`limbeck.autogenerate`)."""

from limbeck.autogenerate import comparators

dispatch_for = comparators.dispatch_for

__all__ = ["dispatch_for"]
