"""limbeck: schema migrations for SQLAlchemy.

``from limbeck import op, context`` inside migration scripts and env.py;
``limbeck.command.upgrade(config, "head")`` from Python.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
