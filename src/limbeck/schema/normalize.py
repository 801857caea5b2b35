"""Normalisation: reduce types, defaults and expressions to comparable text.

Both builders (from MetaData, from a database) pass every type, server
default, CHECK expression and index expression through the functions here,
with the same dialect, so that the two sides of a comparison speak the same
spelling. The rules per backend live in :class:`Rules`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from limbeck.schema import _sqltext
from limbeck.schema.model import Identity, SqlType

__all__ = [
    "Rules",
    "normalize_default",
    "normalize_expression",
    "normalize_identity",
    "normalize_index_element",
    "normalize_sequence_options",
    "resolve_type",
    "rules_for",
    "type_descriptor",
]

_INT_LIMITS = {
    "SMALLINT": (-32768, 32767),
    "INTEGER": (-2147483648, 2147483647),
    "BIGINT": (-9223372036854775808, 9223372036854775807),
}

_NUMERIC_NAMES = frozenset(
    {
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "MEDIUMINT",
        "TINYINT",
        "NUMERIC",
        "FLOAT",
        "REAL",
        "DOUBLE PRECISION",
        "DOUBLE",
    }
)


@dataclass(frozen=True)
class Rules:
    """What one backend keeps, reports and spells differently.

    ``family`` is ``postgresql``, ``mysql`` (MySQL and MariaDB), ``sqlite``
    or the dialect name for any other backend (generic rules).
    """

    family: str
    mariadb: bool = False
    comments: bool = True
    native_enum_types: bool = False
    sequences: bool = False
    sequence_options: bool = False
    identity: bool = False
    fk_deferrable: bool = False
    fk_match: bool = False
    pk_names: bool = True
    unique_is_index: bool = False
    fk_creates_index: bool = False
    computed_default_persisted: bool = False


@lru_cache(maxsize=64)
def _rules(name: str, mariadb: bool, server_version: tuple[int, ...] | None) -> Rules:
    if name == "postgresql":
        return Rules(
            "postgresql",
            native_enum_types=True,
            sequences=True,
            sequence_options=True,
            identity=True,
            fk_deferrable=True,
            fk_match=True,
            computed_default_persisted=server_version is None or server_version < (18,),
        )
    if name in ("mysql", "mariadb"):
        return Rules(
            "mysql",
            mariadb=mariadb,
            sequences=mariadb,
            pk_names=False,
            unique_is_index=True,
            fk_creates_index=True,
        )
    if name == "sqlite":
        return Rules("sqlite", comments=False, fk_deferrable=True)
    if name == "mssql":
        return Rules("mssql", sequences=True, identity=True)
    if name == "oracle":
        return Rules("oracle", sequences=True, identity=True, fk_deferrable=True)
    return Rules(name)


def rules_for(dialect: Dialect) -> Rules:
    """The normalisation rules for ``dialect``."""
    version = getattr(dialect, "server_version_info", None)
    return _rules(
        dialect.name,
        bool(getattr(dialect, "is_mariadb", False)),
        tuple(version) if version else None,
    )


# ------------------------------------------------------------------ types


def resolve_type(type_: TypeEngine[Any], dialect: Dialect) -> TypeEngine[Any]:
    """The type as the dialect sees it: variants picked, decorators unwrapped."""
    seen = 0
    while seen < 20:
        seen += 1
        mapping = getattr(type_, "_variant_mapping", None)
        if mapping and dialect.name in mapping:
            type_ = mapping[dialect.name]
            continue
        if isinstance(type_, sa.TypeDecorator):
            type_ = type_.load_dialect_impl(dialect)
            continue
        break
    return type_


_TYPE_SYNONYMS = {
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "INT8": "BIGINT",
    "INT2": "SMALLINT",
    "BOOL": "BOOLEAN",
    "DECIMAL": "NUMERIC",
    "DEC": "NUMERIC",
    "CHARACTER VARYING": "VARCHAR",
    "CHARACTER": "CHAR",
    "BPCHAR": "CHAR",
    "FLOAT8": "DOUBLE PRECISION",
    "FLOAT4": "REAL",
    "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
    "TIME WITHOUT TIME ZONE": "TIME",
    "TIMETZ": "TIME WITH TIME ZONE",
    "NVARCHAR": "VARCHAR",
    "NCHAR": "CHAR",
    "VARBIT": "BIT VARYING",
}
_PG_SYNONYMS = {
    "SERIAL": "INTEGER",
    "SERIAL4": "INTEGER",
    "BIGSERIAL": "BIGINT",
    "SERIAL8": "BIGINT",
    "SMALLSERIAL": "SMALLINT",
    "SERIAL2": "SMALLINT",
    "DOUBLE": "DOUBLE PRECISION",
}
_MYSQL_INTS = {"TINYINT", "SMALLINT", "MEDIUMINT", "INTEGER", "BIGINT"}
_TYPE_RE = re.compile(r"^(?P<head>[^(\[]*)(?:\((?P<args>.*)\))?(?P<tail>[^()]*)$", re.DOTALL)
_COLLATE_RE = re.compile(
    r"\s+(?:COLLATE\s+(?:\"[^\"]*\"|`[^`]*`|\S+)|CHARACTER\s+SET\s+\S+|CHARSET\s+\S+)",
    re.IGNORECASE,
)


def _split_args(text: str) -> tuple[str, ...]:
    args: list[str] = []
    depth = 0
    quote: str | None = None
    buf: list[str] = []
    for ch in text:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(buf).strip())
            buf = []
            continue
        buf.append(ch)
    if buf or args:
        args.append("".join(buf).strip())
    return tuple(_canonical_arg(a) for a in args)


def _canonical_arg(arg: str) -> str:
    body = _sqltext.unquote_string(arg) if arg.startswith(("'", "_")) else None
    if body is not None:
        return _sqltext.quote_string(body)
    return arg.upper() if not arg[:1].isdigit() else _sqltext.canonical_number(arg)


def _parse_compiled(text: str) -> tuple[str, tuple[str, ...], int]:
    """``"NUMERIC(10, 2)[]"`` -> ``("NUMERIC", ("10", "2"), 1)``."""
    text = _COLLATE_RE.sub("", text).strip()
    dims = 0
    while text.endswith("]"):
        cut = text.rfind("[")
        if cut < 0:
            break
        text = text[:cut].rstrip()
        dims += 1
    m = _TYPE_RE.match(text)
    if m is None:
        return (" ".join(text.upper().split()), (), dims)
    head = " ".join(m.group("head").upper().split())
    tail = " ".join(m.group("tail").upper().split())
    args = _split_args(m.group("args")) if m.group("args") is not None else ()
    name = f"{head} {tail}".strip()
    return name, args, dims


def _canonical_sql_type(family: str, mariadb: bool, compiled: str) -> SqlType:
    name, args, dims = _parse_compiled(compiled)
    name = _TYPE_SYNONYMS.get(name, name)
    if family == "postgresql":
        name = _PG_SYNONYMS.get(name, name)
        if name == "FLOAT":
            if args and args[0].isdigit() and int(args[0]) <= 24:
                name, args = "REAL", ()
            else:
                name, args = "DOUBLE PRECISION", ()
        elif name in ("DOUBLE PRECISION", "REAL"):
            args = ()
        elif name == "CHAR" and not args:
            args = ("1",)
        elif name in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIME", "TIME WITH TIME ZONE"):
            pass
        if dims:
            name += "[]"
    elif family == "mysql":
        words = name.split()
        base = words[0] if words else name
        mods = [w for w in words[1:] if w in ("UNSIGNED", "ZEROFILL")]
        rest = [w for w in words[1:] if w not in ("UNSIGNED", "ZEROFILL")]
        base = " ".join([_TYPE_SYNONYMS.get(base, base), *rest])
        base = {"INT": "INTEGER", "DOUBLE PRECISION": "DOUBLE", "REAL": "DOUBLE"}.get(base, base)
        if base == "TINYINT" and args == ("1",) and not mods:
            base, args = "BOOLEAN", ()
        elif base in _MYSQL_INTS:
            args = ()
        elif base == "NUMERIC":
            precision = args[0] if args else "10"
            scale = args[1] if len(args) > 1 else "0"
            args = (precision, scale)
        elif base == "FLOAT" and len(args) == 1 and args[0].isdigit():
            base, args = ("FLOAT" if int(args[0]) <= 24 else "DOUBLE"), ()
        elif base == "CHAR" and not args:
            args = ("1",)
        elif base == "JSON" and mariadb:
            base = "LONGTEXT"
        elif base == "YEAR":
            args = ()
        name = " ".join([base, *mods])
    else:
        if family == "sqlite":
            name = {"DOUBLE PRECISION": "DOUBLE"}.get(name, name)
        if dims:
            name += "[]"
    return SqlType(name, args)


@lru_cache(maxsize=4096)
def _canonical_cached(family: str, mariadb: bool, compiled: str) -> SqlType:
    return _canonical_sql_type(family, mariadb, compiled)


def _enum_name(type_: TypeEngine[Any]) -> tuple[str | None, str] | None:
    name = getattr(type_, "name", None)
    if not name:
        return None
    return (getattr(type_, "schema", None), str(name))


def type_descriptor(
    type_: TypeEngine[Any],
    dialect: Dialect,
    *,
    default_schema: str | None = None,
) -> SqlType:
    """The comparable :class:`SqlType` for ``type_`` on ``dialect``.

    A native PostgreSQL enum becomes ``ENUM(schema.name)`` (its values live in
    the schema's :class:`~limbeck.schema.model.EnumType`); any other type is
    compiled for the dialect and its spelling folded (``DOUBLE PRECISION`` for
    PostgreSQL's ``FLOAT``, ``BOOLEAN`` for MariaDB's ``TINYINT(1)``, integer
    display widths dropped, ...).
    """
    rules = rules_for(dialect)
    resolved = resolve_type(type_, dialect)
    if rules.native_enum_types:
        enum = native_enum_key(resolved, dialect, default_schema)
        if enum is not None:
            schema, name = enum
            return SqlType("ENUM", (name if schema is None else f"{schema}.{name}",))
        item = getattr(resolved, "item_type", None)
        if isinstance(resolved, sa.ARRAY) and item is not None:
            enum = native_enum_key(resolve_type(item, dialect), dialect, default_schema)
            if enum is not None:
                schema, name = enum
                return SqlType("ENUM[]", (name if schema is None else f"{schema}.{name}",))
    try:
        compiled = resolved.compile(dialect=dialect)
    except sa.exc.CompileError:
        return SqlType(
            "NULL" if isinstance(resolved, sa.types.NullType) else type(resolved).__name__.upper()
        )
    except Exception:  # a broken custom type should not stop the comparison
        return SqlType(type(resolved).__name__.upper())
    return _canonical_cached(rules.family, rules.mariadb, compiled)


def native_enum_key(
    type_: TypeEngine[Any],
    dialect: Dialect,
    default_schema: str | None = None,
) -> tuple[str | None, str] | None:
    """``(schema, name)`` if ``type_`` is a native enum type on ``dialect``."""
    if not isinstance(type_, sa.Enum):
        return None
    if not type_.native_enum or not getattr(dialect, "supports_native_enum", False):
        return None
    key = _enum_name(type_)
    if key is None:
        return None
    schema, name = key
    if schema is None:
        metadata = getattr(type_, "metadata", None)
        schema = getattr(metadata, "schema", None)
    if schema is not None and schema == default_schema:
        schema = None
    return schema, name


# --------------------------------------------------------------- expressions


def normalize_expression(sql: str) -> str:
    """The canonical text of an SQL expression (CHECK, index, generated column)."""
    return _sqltext.canonical(sql)


_ORDERING_RE = re.compile(r"(?:\s+(?:ASC|DESC))?(?:\s+NULLS\s+(?:FIRST|LAST))?\s*$", re.IGNORECASE)


def normalize_index_element(sql: str) -> str:
    """The canonical text of one index element, ordering (``DESC NULLS LAST``) kept.

    ``ASC`` and ``NULLS LAST`` after ``ASC`` are the defaults and dropped.
    """
    match = _ORDERING_RE.search(sql)
    suffix = ""
    if match is not None and match.group().strip():
        suffix = " ".join(match.group().lower().split())
        sql = sql[: match.start()]
    expr = _sqltext.canonical(sql)
    words = suffix.split()
    if words[:1] == ["asc"]:
        words = words[1:]
    if words == ["nulls", "last"] or (words[:1] == ["desc"] and words[1:] == ["nulls", "first"]):
        words = words[:1] if words[:1] == ["desc"] else []
    return " ".join([expr, *words])


_TRUE = {"true", "1", "t", "'t'", "'true'", "'1'", "y", "'y'", "yes", "on"}
_FALSE = {"false", "0", "f", "'f'", "'false'", "'0'", "n", "'n'", "no", "off"}


def normalize_default(sql: str, type_: SqlType, rules: Rules) -> str:
    """The canonical text of a server default for a column of type ``type_``.

    Casts, quotes around numbers on numeric columns, surrounding parentheses
    and the spelling of booleans, numbers and ``CURRENT_TIMESTAMP`` are folded.
    """
    return _normalize_default(sql, type_.name, rules.family)


@lru_cache(maxsize=8192)
def _normalize_default(sql: str, type_name: str, family: str) -> str:
    text = _sqltext.canonical(sql)
    node = _sqltext.parse_or_none(sql)
    base = type_name.split()[0] if type_name else ""
    if type_name == "BOOLEAN":
        low = text.lower()
        if low in _TRUE:
            return "true"
        if low in _FALSE:
            return "false"
        return text
    if node is not None and node.kind == "str":
        if base in _NUMERIC_NAMES or type_name in _NUMERIC_NAMES:
            try:
                return (
                    _sqltext.canonical_number(node.text.strip()) if _is_number(node.text) else text
                )
            except ValueError:  # pragma: no cover
                return text
        return text
    if node is not None and node.kind == "num" and base not in _NUMERIC_NAMES:
        # MariaDB reports '5' on a text column as 5 only when written as 5;
        # a number on a non-numeric column compares as its string form.
        return _sqltext.quote_string(node.text)
    return text


def _is_number(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return bool(text.strip())


# ------------------------------------------------------ identity / sequences


def _limits(type_name: str) -> tuple[int, int]:
    return _INT_LIMITS.get(type_name, _INT_LIMITS["BIGINT"])


def normalize_sequence_options(
    type_name: str,
    start: int | None,
    increment: int | None,
    minvalue: int | None,
    maxvalue: int | None,
    cycle: bool | None,
    cache: int | None,
) -> tuple[int | None, int | None, int | None, int | None, bool | None, int | None]:
    """Options equal to the PostgreSQL defaults for ``type_name`` become None."""
    low, high = _limits(type_name)
    step = 1 if increment is None else increment
    default_min = 1 if step > 0 else low
    default_max = high if step > 0 else -1
    real_min = default_min if minvalue is None else minvalue
    real_max = default_max if maxvalue is None else maxvalue
    default_start = real_min if step > 0 else real_max
    return (
        None if start is None or start == default_start else start,
        None if increment is None or increment == 1 else increment,
        None if minvalue is None or minvalue == default_min else minvalue,
        None if maxvalue is None or maxvalue == default_max else maxvalue,
        None if not cycle else True,
        None if cache is None or cache == 1 else cache,
    )


def normalize_identity(
    type_name: str,
    *,
    always: bool | None,
    start: int | None = None,
    increment: int | None = None,
    minvalue: int | None = None,
    maxvalue: int | None = None,
    cycle: bool | None = None,
    cache: int | None = None,
) -> Identity:
    """An :class:`Identity` with the options equal to the defaults as None."""
    s, i, lo, hi, cy, ca = normalize_sequence_options(
        type_name, start, increment, minvalue, maxvalue, cycle, cache
    )
    return Identity(bool(always), s, i, lo, hi, cy, ca)


# ----------------------------------------------------------- foreign keys


def normalize_fk_action(action: str | None, rules: Rules) -> str | None:
    if action is None:
        return None
    action = " ".join(action.upper().split())
    if action in ("", "NO ACTION"):
        return None
    if rules.family == "mysql" and action == "RESTRICT":
        return None
    return action


def normalize_fk_options(
    rules: Rules,
    ondelete: str | None,
    onupdate: str | None,
    deferrable: bool | None,
    initially: str | None,
    match: str | None,
) -> tuple[str | None, str | None, bool | None, str | None, str | None]:
    """ondelete, onupdate, deferrable, initially, match as compared on this backend."""
    od = normalize_fk_action(ondelete, rules)
    ou = normalize_fk_action(onupdate, rules)
    if rules.fk_deferrable:
        d = True if deferrable else None
        ini = initially.upper() if initially and d else None
        if ini == "IMMEDIATE":
            ini = None
    else:
        d, ini = None, None
    m = match.upper() if match and rules.fk_match else None
    if m in ("SIMPLE", "NONE"):
        m = None
    return od, ou, d, ini, m
