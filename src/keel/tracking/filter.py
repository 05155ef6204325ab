"""The run filter language, parsed into a small tree (no SQL here; ``search`` compiles it).

    metrics.auc > 0.9 and (params.max_depth = 6 or tags.team like 'fraud%')
    metrics.`system/cpu_percent` < 80 and attributes.status in ('FINISHED', 'FAILED')

Fields are ``<entity>.<key>`` with entity ``metrics``, ``params``, ``tags`` or
``attributes`` (singular forms too); keys with characters other than letters,
digits and ``_./-`` go in backticks. Values are numbers or quoted strings.
Written by hand (a tokenizer and a recursive-descent parser, ~150 lines)
because the error must point at the column of the mistake, which parser
libraries would make us translate anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from keel.core.errors import InvalidInput

ENTITIES: Final = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
    "run": "attributes",
}
COMPARISONS: Final = {"=", "==", "!=", "<>", "<", "<=", ">", ">="}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
  | (?P<backtick>`[^`]*`)
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[(),.])
  | (?P<word>[A-Za-z_][A-Za-z0-9_/\-]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Field:
    entity: str  # metrics, params, tags, attributes
    key: str
    pos: int

    def __str__(self) -> str:
        return f"{self.entity}.{self.key}"


Value = float | str


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # =, !=, <, <=, >, >=, in, not in, like, not like, ilike
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Bool:
    op: str  # and, or
    parts: tuple[Node, ...]


Node = Compare | Bool


def syntax_error(text: str, pos: int, message: str) -> InvalidInput:
    """InvalidInput quoting the filter with a caret under position ``pos``."""
    return InvalidInput(
        f"filter error at position {pos + 1}: {message}\n  {text}\n  {' ' * pos}^",
        position=pos + 1,
    )


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise syntax_error(text, pos, f"unexpected character {text[pos]!r}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _unquote(token: Token) -> str:
    body = token.text[1:-1]
    if token.text[0] == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def fail(self, expected: str) -> InvalidInput:
        found = "the end of the filter" if self.tok.kind == "end" else repr(self.tok.text)
        return syntax_error(self.text, self.tok.pos, f"expected {expected}, found {found}")

    def expect(self, kind: str, text: str, expected: str) -> Token:
        if self.tok.kind != kind or self.tok.text != text:
            raise self.fail(expected)
        token = self.tok
        self.i += 1
        return token

    def parse(self) -> Node:
        node = self.parse_or()
        if self.tok.kind != "end":
            raise self.fail("'and', 'or' or the end of the filter")
        return node

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.word("or"):
            self.i += 1
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Bool("or", tuple(parts))

    def parse_and(self) -> Node:
        parts = [self.parse_atom()]
        while self.word("and"):
            self.i += 1
            parts.append(self.parse_atom())
        return parts[0] if len(parts) == 1 else Bool("and", tuple(parts))

    def parse_atom(self) -> Node:
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.i += 1
            node = self.parse_or()
            self.expect("punct", ")", "')'")
            return node
        return self.parse_comparison()

    def parse_field(self) -> Field:
        start = self.tok
        if start.kind != "word":
            raise self.fail("a field such as metrics.auc, params.lr, tags.team or attributes.status")
        entity = ENTITIES.get(start.text.lower())
        self.i += 1
        if entity is None:
            raise syntax_error(
                self.text,
                start.pos,
                f"unknown field {start.text!r}: use metrics., params., tags. or attributes.",
            )
        self.expect("punct", ".", f"'.' after {start.text!r}")
        key_tok = self.tok
        if key_tok.kind == "backtick":
            key = key_tok.text[1:-1]
        elif key_tok.kind in ("word", "number"):
            key = key_tok.text
        else:
            raise self.fail(f"a key after '{start.text}.'")
        self.i += 1
        # Unquoted keys may contain dots: metrics.val.auc
        while (
            self.tok.kind == "punct"
            and self.tok.text == "."
            and self.tokens[self.i + 1].kind in ("word", "number")
        ):
            key += "." + self.tokens[self.i + 1].text
            self.i += 2
        if not key:
            raise syntax_error(self.text, key_tok.pos, "empty key")
        return Field(entity, key, start.pos)

    def parse_value(self) -> Value:
        token = self.tok
        if token.kind == "number":
            self.i += 1
            return float(token.text)
        if token.kind == "string":
            self.i += 1
            return _unquote(token)
        raise self.fail("a number or a quoted string")

    def parse_comparison(self) -> Compare:
        field = self.parse_field()
        negate = False
        if self.word("not"):
            negate = True
            self.i += 1
            if not self.word("in", "like", "ilike"):
                raise self.fail("'in' or 'like' after 'not'")
        if self.word("in"):
            self.i += 1
            self.expect("punct", "(", "'(' after 'in'")
            values = [self.parse_value()]
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.i += 1
                values.append(self.parse_value())
            self.expect("punct", ")", "',' or ')'")
            return Compare(field, "not in" if negate else "in", tuple(values))
        if self.word("like", "ilike"):
            op = self.tok.text.lower()
            self.i += 1
            if self.tok.kind != "string":
                raise self.fail("a quoted pattern after 'like'")
            value = self.parse_value()
            return Compare(field, f"not {op}" if negate else op, (value,))
        if self.tok.kind != "op":
            raise self.fail("a comparison (=, !=, <, <=, >, >=, in, like)")
        op = {"==": "=", "<>": "!="}.get(self.tok.text, self.tok.text)
        self.i += 1
        return Compare(field, op, (self.parse_value(),))


def parse_filter(text: str | None) -> Node | None:
    """The tree of ``text``; None for an empty filter. InvalidInput points at the first mistake."""
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()


@dataclass(frozen=True)
class OrderKey:
    field: Field
    descending: bool


def parse_order_by(items: list[str] | None) -> list[OrderKey]:
    """``["metrics.auc desc", "attributes.start_time"]`` as order keys."""
    keys = []
    for item in items or []:
        parser = _Parser(item)
        field = parser.parse_field()
        descending = False
        if parser.word("desc", "asc"):
            descending = parser.tok.text.lower() == "desc"
            parser.i += 1
        if parser.tok.kind != "end":
            raise parser.fail("'asc', 'desc' or the end")
        keys.append(OrderKey(field, descending))
    return keys
