"""A small SQL expression reader used to compare expressions by meaning.

Databases give back CHECK constraints, index expressions, generated columns
and server defaults rewritten: PostgreSQL adds casts (``'a'::text``) and
parentheses and turns ``IN`` into ``= ANY (ARRAY[...])``; MariaDB quotes
identifiers with backticks and lower-cases keywords; SQLite keeps what was
written. :func:`canonical` reads such text into a tiny expression tree and
writes it back in one canonical spelling:

* keywords and identifiers lower case, quotes on identifiers dropped;
* casts (``x::type``, ``CAST(x AS type)``) dropped;
* parentheses only where operator precedence needs them;
* ``x = ANY (ARRAY[a, b])`` as ``x in (a, b)``, ``x BETWEEN a AND b`` as
  ``x >= a and x <= b``, ``!=`` as ``<>``;
* numbers in one spelling (``1.50`` is ``1.5``), ``now()`` and
  ``current_timestamp()`` as ``current_timestamp``.

Text the reader does not understand falls back to a token-level
normalisation, so it still compares equal to itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

__all__ = ["Node", "canonical", "parse", "render", "unquote_string"]


class ParseError(ValueError):
    pass


# ----------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Tok:
    kind: str  # "str", "num", "ident", "qident", "op", "(", ")", ",", "[", "]", "."
    text: str


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>(?:[eEnN]|_[A-Za-z0-9]+)?'(?:[^']|'')*')
  | (?P<qident>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
  | (?P<bracket>\[[A-Za-z_][^\]\['"]*\])
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op>::|<=|>=|<>|!=|==|\|\||->>|->|\#>>|\#>|@>|<@|!~\*|~\*|!~|&&|[-+*/%<>=~&|^\#!@?])
  | (?P<punct>[(),.\[\]])
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise ParseError(f"unexpected character {text[pos]!r}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group()
        if kind == "ws":
            continue
        if kind == "str":
            quote = value.index("'")
            body = value[quote + 1 : -1].replace("''", "'")
            out.append(Tok("str", body))
        elif kind == "bracket":
            prev = out[-1] if out else None
            if prev is not None and (prev.kind in ("ident", ")", "]", "str")):
                # ARRAY[...] or a subscript, not a bracket-quoted identifier
                pos = m.start() + 1
                out.append(Tok("[", "["))
                continue
            out.append(Tok("ident", value[1:-1].lower()))
        elif kind == "qident":
            q = value[0]
            body = value[1:-1].replace(q + q, q)
            out.append(Tok("ident", body.lower()))
        elif kind == "num":
            out.append(Tok("num", value))
        elif kind == "ident":
            out.append(Tok("ident", value.lower()))
        elif kind == "op":
            out.append(Tok("op", value))
        else:
            out.append(Tok(value, value))
    return out


# ------------------------------------------------------------------ nodes


@dataclass(frozen=True)
class Node:
    """An expression node; ``kind`` decides how ``parts`` and ``items`` are read."""

    kind: str
    text: str = ""
    items: tuple[Node, ...] = ()


def _lit(text: str) -> Node:
    return Node("str", text)


def _num(text: str) -> Node:
    return Node("num", canonical_number(text))


def canonical_number(text: str) -> str:
    try:
        d = Decimal(text)
    except InvalidOperation:
        return text
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


# Binding power of binary operators (higher binds tighter).
_OR, _AND, _NOT, _IS, _CMP, _IN, _OTHER, _ADD, _MUL, _POW, _UNARY = range(1, 12)

_BINARY_OPS: dict[str, int] = {
    "or": _OR,
    "and": _AND,
    "=": _CMP,
    "==": _CMP,
    "<>": _CMP,
    "!=": _CMP,
    "<": _CMP,
    ">": _CMP,
    "<=": _CMP,
    ">=": _CMP,
    "like": _IN,
    "ilike": _IN,
    "glob": _IN,
    "regexp": _IN,
    "similar": _IN,
    "||": _OTHER,
    "->": _OTHER,
    "->>": _OTHER,
    "#>": _OTHER,
    "#>>": _OTHER,
    "@>": _OTHER,
    "<@": _OTHER,
    "&&": _OTHER,
    "~": _OTHER,
    "~*": _OTHER,
    "!~": _OTHER,
    "!~*": _OTHER,
    "&": _OTHER,
    "|": _OTHER,
    "#": _OTHER,
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
    "%": _MUL,
    "^": _POW,
}
_OP_SPELLING = {"==": "=", "!=": "<>"}

# Words that are values, not column names, when they stand alone.
_NILADIC = {
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "current_user",
    "session_user",
    "user",
    "null",
    "true",
    "false",
}
# Function spellings that mean the same thing everywhere.
_FUNC_SYNONYMS = {
    "now": "current_timestamp",
    "current_timestamp": "current_timestamp",
    "localtimestamp": "localtimestamp",
    "current_date": "current_date",
    "curdate": "current_date",
    "current_time": "current_time",
    "curtime": "current_time",
}


class _Parser:
    def __init__(self, tokens: list[Tok]) -> None:
        self.toks = tokens
        self.i = 0

    # -- helpers
    def peek(self, offset: int = 0) -> Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def at_word(self, *words: str, offset: int = 0) -> bool:
        t = self.peek(offset)
        return t is not None and t.kind == "ident" and t.text in words

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.peek()
        return t is not None and t.kind == kind and (text is None or t.text == text)

    def take(self) -> Tok:
        t = self.peek()
        if t is None:
            raise ParseError("unexpected end of expression")
        self.i += 1
        return t

    def expect(self, kind: str, text: str | None = None) -> Tok:
        if not self.at(kind, text):
            raise ParseError(f"expected {text or kind}")
        return self.take()

    def expect_word(self, word: str) -> None:
        if not self.at_word(word):
            raise ParseError(f"expected {word}")
        self.i += 1

    # -- grammar
    def parse(self) -> Node:
        node = self.expr(0)
        if self.peek() is not None:
            raise ParseError(f"unexpected {self.peek()}")
        return node

    def binary_power(self) -> tuple[str, int] | None:
        t = self.peek()
        if t is None:
            return None
        if t.kind == "op" and t.text in _BINARY_OPS:
            return t.text, _BINARY_OPS[t.text]
        if t.kind == "ident":
            if t.text in ("and", "or", "like", "ilike", "glob", "regexp"):
                return t.text, _BINARY_OPS[t.text]
            if t.text == "is":
                return "is", _IS
            if t.text in ("in", "between"):
                return t.text, _IN
            if t.text == "not" and self.at_word("in", "between", "like", "ilike", offset=1):
                return "not", _IN
            if t.text == "similar" and self.at_word("to", offset=1):
                return "similar", _IN
            if t.text in ("isnull", "notnull"):
                return t.text, _IS
            if t.text == "collate":
                return "collate", _UNARY + 1
        return None

    def expr(self, min_power: int) -> Node:
        left = self.prefix()
        while True:
            # postfix cast and subscript bind tightest
            if self.at("op", "::"):
                self.take()
                left = _cast(left, self.type_name())
                continue
            if self.at("["):
                self.take()
                index = self.expr(0)
                if self.at("op", ":"):
                    raise ParseError("slice")
                self.expect("]")
                left = Node("subscript", items=(left, index))
                continue
            bp = self.binary_power()
            if bp is None:
                break
            op, power = bp
            if power <= min_power:
                break
            left = self.infix(left, op, power)
        return left

    def infix(self, left: Node, op: str, power: int) -> Node:
        self.take()
        if op == "collate":
            self.take()  # collation name: ignored for comparison
            return left
        if op in ("isnull", "notnull"):
            return Node("isnull" if op == "isnull" else "notnull", items=(left,))
        negated = False
        if op == "not":
            negated = True
            op = self.take().text
        if op == "similar":
            self.expect_word("to")
            op = "similar to"
        if op == "is":
            if self.at_word("not"):
                self.take()
                negated = True
            if self.at_word("distinct"):
                self.take()
                self.expect_word("from")
                right = self.expr(_IS)
                kind = "is not distinct from" if negated else "is distinct from"
                return Node("binop", kind, (left, right))
            right = self.expr(_IS)
            return Node("binop", "is not" if negated else "is", (left, right))
        if op == "in":
            self.expect("(")
            items = self.expr_list(")")
            return Node("notin" if negated else "in", items=(left, *items))
        if op == "between":
            if self.at_word("symmetric"):
                raise ParseError("between symmetric")
            low = self.expr(_IN)
            self.expect_word("and")
            high = self.expr(_IN)
            if negated:
                return _nary(
                    "or",
                    [Node("binop", "<", (left, low)), Node("binop", ">", (left, high))],
                )
            return _nary(
                "and", [Node("binop", ">=", (left, low)), Node("binop", "<=", (left, high))]
            )
        if op in ("and", "or"):
            right = self.expr(power)
            return _nary(op, [left, right])
        # = ANY (ARRAY[...]) / <> ALL (ARRAY[...]) / = ANY (VALUES)
        if op in ("=", "==", "<>", "!=") and self.at_word("any", "all"):
            quant = self.take().text
            self.expect("(")
            inner = self.expr(0)
            self.expect(")")
            eq = op in ("=", "==")
            if inner.kind == "array" and ((eq and quant == "any") or (not eq and quant == "all")):
                return Node("in" if eq else "notin", items=(left, *inner.items))
            return Node("quant", f"{_OP_SPELLING.get(op, op)} {quant}", (left, inner))
        # left-associative for everything else
        right = self.expr(power)
        node = Node("binop", _OP_SPELLING.get(op, op), (left, right))
        if negated:
            return Node("not", items=(node,))
        return node

    def expr_list(self, close: str) -> tuple[Node, ...]:
        items: list[Node] = []
        if self.at(close):
            self.take()
            return ()
        while True:
            items.append(self.expr(0))
            if self.at(","):
                self.take()
                continue
            self.expect(close)
            return tuple(items)

    def type_name(self) -> str:
        """Read past a type name after ``::`` or ``AS`` in a cast; return its first word."""
        first = self.expect("ident").text
        while self.at("ident") and not self.at_word(
            "and", "or", "is", "in", "not", "between", "like", "ilike", "collate", "as"
        ):
            self.take()
        if self.at("."):
            self.take()
            self.expect("ident")
        if self.at("("):
            self.take()
            self.expr_list(")")
        while self.at("ident") and self.at_word("with", "without", "time", "zone", "varying"):
            self.take()
        while self.at("["):
            self.take()
            if self.at("num"):
                self.take()
            self.expect("]")
        return first

    def prefix(self) -> Node:
        t = self.take()
        if t.kind == "str":
            return _lit(t.text)
        if t.kind == "num":
            return _num(t.text)
        if t.kind == "op" and t.text in ("-", "+"):
            operand = self.expr(_UNARY)
            if t.text == "+":
                return operand
            if operand.kind == "num":
                return (
                    _num("-" + operand.text)
                    if not operand.text.startswith("-")
                    else _num(operand.text[1:])
                )
            return Node("neg", items=(operand,))
        if t.kind == "op" and t.text == "~":
            return Node("bitnot", items=(self.expr(_UNARY),))
        if t.kind == "(":
            if self.at_word("select", "values", "with"):
                raise ParseError("subquery")
            items = self.expr_list(")")
            if len(items) == 1:
                return items[0]
            return Node("row", items=items)
        if t.kind == "ident":
            return self.word(t.text)
        raise ParseError(f"unexpected {t.text!r}")

    def word(self, word: str) -> Node:
        if word == "not":
            return Node("not", items=(self.expr(_NOT),))
        if word == "exists":
            raise ParseError("exists")
        if word == "case":
            return self.case()
        if word == "cast" and self.at("("):
            self.take()
            inner = self.expr(0)
            self.expect_word("as")
            type_name = self.type_name()
            self.expect(")")
            return _cast(inner, type_name)
        if word == "array" and self.at("["):
            self.take()
            return Node("array", items=self.expr_list("]"))
        if word in ("interval", "date", "timestamp", "time") and self.at("str"):
            # typed literal: INTERVAL '1 day', DATE '2020-01-01'
            lit = self.take()
            return _lit(lit.text)
        if self.at("("):
            self.take()
            return self.call(word)
        parts = [word]
        while self.at(".") and self.peek(1) is not None:
            self.take()
            nxt = self.take()
            if nxt.kind == "op" and nxt.text == "*":
                parts.append("*")
                break
            if nxt.kind != "ident":
                raise ParseError("bad qualified name")
            parts.append(nxt.text)
        if len(parts) > 1 and self.at("("):
            self.take()
            return self.call(".".join(parts))
        if len(parts) == 1 and word in _NILADIC:
            if word in ("null", "true", "false"):
                return Node("kw", word)
            return Node("kw", _FUNC_SYNONYMS.get(word, word))
        return Node("ident", parts[-1])  # table qualifiers are dropped

    def call(self, name: str) -> Node:
        if self.at("op", "*"):
            self.take()
            self.expect(")")
            return Node("call", name, (Node("kw", "*"),))
        distinct = False
        if self.at_word("distinct"):
            self.take()
            distinct = True
        if name in ("extract", "substring", "trim", "position", "overlay"):
            # keyword-argument forms: keep tokens as a flat argument list
            args: list[Node] = []
            while not self.at(")"):
                if self.at("ident") and self.at_word(
                    "from", "for", "in", "leading", "trailing", "both", "placing"
                ):
                    args.append(Node("kw", self.take().text))
                    continue
                if self.at(","):
                    self.take()
                    continue
                args.append(self.expr(_IN))
            self.take()
            return Node("kwcall", name, tuple(args))
        items = self.expr_list(")")
        canon = _FUNC_SYNONYMS.get(name)
        if canon is not None and not items:
            return Node("kw", canon)
        if distinct:
            return Node("call", name + " distinct", items)
        return Node("call", name, items)

    def case(self) -> Node:
        subject: Node | None = None
        if not self.at_word("when"):
            subject = self.expr(0)
        parts: list[Node] = [subject if subject is not None else Node("kw", "")]
        while self.at_word("when"):
            self.take()
            cond = self.expr(0)
            self.expect_word("then")
            result = self.expr(0)
            parts += [cond, result]
        if self.at_word("else"):
            self.take()
            parts.append(Node("else", items=(self.expr(0),)))
        self.expect_word("end")
        return Node("case", items=tuple(parts))


_NUMERIC_TYPES = {
    "integer",
    "int",
    "int2",
    "int4",
    "int8",
    "smallint",
    "bigint",
    "numeric",
    "decimal",
    "real",
    "double",
    "float",
    "float4",
    "float8",
}


def _cast(node: Node, type_name: str) -> Node:
    """Casts are dropped; a quoted number cast to a number type becomes the number."""
    if node.kind == "str" and type_name in _NUMERIC_TYPES:
        try:
            Decimal(node.text.strip())
        except InvalidOperation:
            return node
        return _num(node.text.strip())
    return node


def _nary(op: str, operands: list[Node]) -> Node:
    flat: list[Node] = []
    for o in operands:
        if o.kind == op:
            flat.extend(o.items)
        else:
            flat.append(o)
    return Node(op, items=tuple(flat))


# --------------------------------------------------------------- rendering


def _power(node: Node) -> int:
    k = node.kind
    if k == "or":
        return _OR
    if k == "and":
        return _AND
    if k == "not":
        return _NOT
    if k in ("isnull", "notnull"):
        return _IS
    if k in ("in", "notin"):
        return _IN
    if k in ("binop", "quant"):
        op = node.text.split()[0]
        if op in ("is",):
            return _IS
        return _BINARY_OPS.get(op, _OTHER)
    if k in ("neg", "bitnot"):
        return _UNARY
    return 100


def _wrap(node: Node, min_power: int) -> str:
    text = render(node)
    if _power(node) < min_power:
        return f"({text})"
    return text


def quote_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render(node: Node) -> str:
    """Write a node back as canonical SQL text."""
    k = node.kind
    if k == "str":
        return quote_string(node.text)
    if k in ("num", "kw", "ident"):
        return node.text
    if k in ("and", "or"):
        p = _power(node)
        return f" {k} ".join(_wrap(i, p + 1) for i in node.items)
    if k == "not":
        return "not " + _wrap(node.items[0], _NOT)
    if k == "neg":
        return "-" + _wrap(node.items[0], _UNARY)
    if k == "bitnot":
        return "~" + _wrap(node.items[0], _UNARY)
    if k in ("isnull", "notnull"):
        return _wrap(node.items[0], _IS + 1) + (" is null" if k == "isnull" else " is not null")
    if k in ("in", "notin"):
        left = _wrap(node.items[0], _IN + 1)
        vals = ", ".join(render(i) for i in node.items[1:])
        return f"{left} {'in' if k == 'in' else 'not in'} ({vals})"
    if k in ("binop", "quant"):
        p = _power(node)
        left = _wrap(node.items[0], p)
        right = _wrap(node.items[1], p + 1)
        if k == "quant":
            return f"{left} {node.text} ({right})"
        return f"{left} {node.text} {right}"
    if k == "kwcall":
        return f"{node.text}({' '.join(render(i) for i in node.items)})"
    if k == "call":
        return f"{node.text}({', '.join(render(i) for i in node.items)})"
    if k == "array":
        return f"array[{', '.join(render(i) for i in node.items)}]"
    if k == "row":
        return f"({', '.join(render(i) for i in node.items)})"
    if k == "subscript":
        return f"{_wrap(node.items[0], 100)}[{render(node.items[1])}]"
    if k == "case":
        subject, *rest = node.items
        out = ["case"]
        if subject.kind != "kw" or subject.text:
            out.append(render(subject))
        i = 0
        while i < len(rest):
            if rest[i].kind == "else":
                out += ["else", render(rest[i].items[0])]
                i += 1
                continue
            out += ["when", render(rest[i]), "then", render(rest[i + 1])]
            i += 2
        out.append("end")
        return " ".join(out)
    raise AssertionError(f"unknown node {k}")  # pragma: no cover


# --------------------------------------------------------------- entry points


def parse(text: str) -> Node:
    """Parse an SQL expression; raises ``ValueError`` if it cannot."""
    return _Parser(tokenize(text)).parse()


def _fallback(text: str) -> str:
    """Token-level normalisation for text the parser does not handle."""
    try:
        toks = tokenize(text)
    except ParseError:
        return " ".join(text.split()).lower()
    out: list[str] = []
    skip_type = False
    for t in toks:
        if skip_type:
            skip_type = False
            if t.kind == "ident":
                continue
        if t.kind == "op" and t.text == "::":
            skip_type = True
            continue
        if t.kind == "str":
            out.append(quote_string(t.text))
        elif t.kind == "num":
            out.append(canonical_number(t.text))
        else:
            out.append(_OP_SPELLING.get(t.text, t.text))
    return " ".join(out)


@lru_cache(maxsize=8192)
def canonical(text: str) -> str:
    """The canonical spelling of an SQL expression (see the module docstring)."""
    try:
        return render(parse(text))
    except (ParseError, IndexError, RecursionError):
        return _fallback(text)


@lru_cache(maxsize=8192)
def parse_or_none(text: str) -> Node | None:
    try:
        return parse(text)
    except (ParseError, IndexError, RecursionError):
        return None


def unquote_string(text: str) -> str | None:
    """The body of a single SQL string literal, or None if ``text`` is not one."""
    node = parse_or_none(text)
    if node is not None and node.kind == "str":
        return node.text
    return None
