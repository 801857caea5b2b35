"""Oracle: ``MODIFY`` column syntax; offline statements end with a ``/`` line, no ``;``."""

from __future__ import annotations

from limbeck.ddl.impl import DialectImpl, register_builtin_impl

__all__ = ["OracleImpl"]


class OracleImpl(DialectImpl):
    default_transactional_ddl = False
    statement_terminator = ""
    default_batch_separator = "/"
    batch_separator_option = "oracle_batch_separator"
    begin_text = "SET TRANSACTION READ WRITE"

    def has_create_index_if_not_exists(self) -> bool:
        return False


register_builtin_impl("oracle", OracleImpl)
