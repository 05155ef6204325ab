"""The run filter language, parsed into a small tree (no SQL here; ``search`` compiles it).

    metrics.auc > 0.9 and (params.max_depth = 6 or tags.team like 'fraud%')
    metrics.`system/cpu_percent` < 80 and attributes.status in ('FINISHED', 'FAILED')

Fields are ``<entity>.<key>`` with entity ``metrics``, ``params``, ``tags`` or
``attributes`` (singular forms too); keys with characters other than letters,
digits and ``_./-`` go in backticks. Values are numbers, quoted strings or
``true``/``false``. Written by hand (a tokenizer and a recursive-descent
parser, ~150 lines) because the error must point at the column of the mistake,
which parser libraries would make us translate anyway.

A filter's cost is bounded before any SQL runs (:class:`Limits`, from the
``search_max_*`` settings): at most so many comparisons (each value of an
``in`` list counts as one) and so deep a nesting of parentheses. Tokens are
read lazily, so a huge filter is refused at its first comparison over the
limit without tokenizing the rest, and the recursion never goes deeper than
the depth limit (itself capped at :data:`DEPTH_CEILING`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from keel.core.errors import InvalidInput
from keel.core.settings import BY_NAME

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
#: Parentheses never nest deeper than this, whatever the setting says: the parser and SQLAlchemy's
#: compiler recurse a few frames per level, and Python's stack is ~1,000 frames.
DEPTH_CEILING: Final = 100


@dataclass(frozen=True)
class Limits:
    """How big a search may be: comparisons, parenthesis depth, order keys (the ``search_max_*`` settings)."""

    terms: int = BY_NAME["search_max_terms"].default
    depth: int = BY_NAME["search_max_depth"].default
    order_keys: int = BY_NAME["search_max_order_keys"].default

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits a deployment's settings name (``settings.search_max_terms`` ...)."""
        return cls(
            terms=settings.search_max_terms,
            depth=settings.search_max_depth,
            order_keys=settings.search_max_order_keys,
        )


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


Value = float | str | bool  # bool: the bare words true and false


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


def _check_characters(text: str) -> None:
    """Refuse NUL (PostgreSQL cannot store or compare it) and lone surrogates (not UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise syntax_error(text, exc.start, f"character {text[exc.start]!r} is not valid UTF-8") from None
    nul = text.find("\x00")
    if nul >= 0:
        raise syntax_error(text, nul, "NUL characters are not allowed in a filter")


def tokenize(text: str) -> Iterator[Token]:
    """The filter's tokens, lazily, ending with an ``end`` token."""
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise syntax_error(text, pos, f"unexpected character {text[pos]!r}")
        kind = match.lastgroup or ""
        if kind != "ws":
            yield Token(kind, match.group(), pos)
        pos = match.end()
    yield Token("end", "", len(text))


def _unquote(token: Token) -> str:
    body = token.text[1:-1]
    if token.text[0] == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, text: str, limits: Limits | None = None) -> None:
        _check_characters(text)
        self.text = text
        self.limits = limits or Limits()
        self.stream = tokenize(text)
        self.tokens: list[Token] = []
        self.i = 0
        self.depth = 0
        self.terms = 0

    def peek(self, ahead: int = 0) -> Token:
        """The token ``ahead`` places after the current one (tokenizing only that far)."""
        while len(self.tokens) <= self.i + ahead:
            if self.tokens and self.tokens[-1].kind == "end":
                return self.tokens[-1]
            self.tokens.append(next(self.stream))
        return self.tokens[self.i + ahead]

    @property
    def tok(self) -> Token:
        return self.peek()

    def count_term(self, token: Token) -> None:
        """Count one comparison (or one listed value); refuse the first past the limit, at ``token``."""
        self.terms += 1
        if self.terms > self.limits.terms:
            raise syntax_error(
                self.text,
                token.pos,
                f"the filter holds more than {self.limits.terms} comparisons (each value of an "
                f"'in' list counts as one), the limit (setting search_max_terms)",
            )

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
            limit = min(self.limits.depth, DEPTH_CEILING)
            if self.depth >= limit:
                raise syntax_error(
                    self.text,
                    self.tok.pos,
                    f"parentheses nest deeper than {limit}, the limit (setting search_max_depth)",
                )
            self.depth += 1
            self.i += 1
            node = self.parse_or()
            self.expect("punct", ")", "')'")
            self.depth -= 1
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
        while self.tok.kind == "punct" and self.tok.text == "." and self.peek(1).kind in ("word", "number"):
            key += "." + self.peek(1).text
            self.i += 2
        if not key:
            raise syntax_error(self.text, key_tok.pos, "empty key")
        return Field(entity, key, start.pos)

    def parse_value(self) -> Value:
        token = self.tok
        self.count_term(token)
        if token.kind == "number":
            self.i += 1
            return float(token.text)
        if token.kind == "string":
            self.i += 1
            return _unquote(token)
        if self.word("true", "false"):
            self.i += 1
            return token.text.lower() == "true"
        raise self.fail("a number or a quoted string (or true, false)")

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


def parse_filter(text: str | None, limits: Limits | None = None) -> Node | None:
    """The tree of ``text``; None for an empty filter. InvalidInput points at the first mistake.

    Raises InvalidInput also for a filter past ``limits`` (comparisons, depth).
    """
    if text is None or not text.strip():
        return None
    return _Parser(text, limits).parse()


@dataclass(frozen=True)
class OrderKey:
    field: Field
    descending: bool


def parse_order_by(items: list[str] | None, limits: Limits | None = None) -> list[OrderKey]:
    """``["metrics.auc desc", "attributes.start_time"]`` as order keys; at most ``limits.order_keys``."""
    limit = (limits or Limits()).order_keys
    if len(items or []) > limit:
        raise InvalidInput(
            f"order_by has {len(items or [])} keys; the limit is {limit} (setting search_max_order_keys)",
            field="order_by",
        )
    keys = []
    for item in items or []:
        parser = _Parser(item, limits)
        field = parser.parse_field()
        descending = False
        if parser.word("desc", "asc"):
            descending = parser.tok.text.lower() == "desc"
            parser.i += 1
        if parser.tok.kind != "end":
            raise parser.fail("'asc', 'desc' or the end")
        keys.append(OrderKey(field, descending))
    return keys
