"""Unique id prefixes, as git takes a short hash: ``keel run show 01M8M9S0`` finds the one run.

Listings print the shortest prefix that is unique among what they show
(``keel.cli.output.unique_prefixes``); an operation that takes an id resolves a
prefix here, against every row, and refuses one that matches none or several
(naming a few, as git does). It sits with projects, the first capability, so
every capability above it (tracking, access, data) can use it on its own
table; it reads no table of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.errors import InvalidInput, NotFound

#: Crockford base32, the alphabet of Keel's ULID ids.
_ULID_CHARS = re.compile(r"^[0-9A-HJKMNP-TV-Z]+$")
ID_LENGTH = 26
#: Shorter prefixes match too much to be worth a query: git's minimum is 4 as well.
MIN_PREFIX = 4
#: How many matches an ambiguity error names.
SHOWN = 5


def could_be_prefix(text: str) -> bool:
    """Whether ``text`` is made of id characters and no longer than an id (its length aside)."""
    return len(text.strip()) <= ID_LENGTH and bool(_ULID_CHARS.match(text.strip().upper()))


def resolve_prefix(
    session: Session,
    column: Any,
    prefix: str,
    noun: str,
    *,
    where: Sequence[Any] = (),
    hint: str | None = None,
) -> str:
    """The one full id in ``column`` that starts with ``prefix``.

    ``where`` narrows the candidates (the projects the caller may see), so an
    ambiguity error never names a row the caller could not read. Raises
    InvalidInput for a prefix that cannot be an id (too short, wrong
    characters) or that matches several ids (naming them), and NotFound
    (``no <noun> with id '<prefix>'``, with ``hint``) when none matches.
    """
    text = prefix.strip().upper()
    if len(text) < MIN_PREFIX and _ULID_CHARS.match(text):
        raise InvalidInput(
            f"{noun} id prefix {prefix!r} is too short: give at least {MIN_PREFIX} characters",
            hint="listings print each id as short as it can be and still be unique",
        )
    if len(text) < MIN_PREFIX or len(text) > ID_LENGTH or not _ULID_CHARS.match(text):
        raise InvalidInput(
            f"{noun} id {prefix!r} is not an id or a prefix of one",
            hint=f"ids are {ID_LENGTH} characters (0-9, A-Z without I, L, O, U); give at least {MIN_PREFIX}",
        )
    if len(text) == ID_LENGTH:
        found = session.execute(select(column).where(column == text, *where)).scalars().all()
    else:
        found = (
            session.execute(
                select(column)
                .where(column.startswith(text, autoescape=True), *where)
                .order_by(column)
                .limit(SHOWN + 1)
            )
            .scalars()
            .all()
        )
    if not found:
        raise NotFound(f"no {noun} with id {prefix!r}", hint=hint)
    if len(found) > 1:
        more = ", ..." if len(found) > SHOWN else ""
        raise InvalidInput(
            f"{noun} id prefix {prefix!r} is ambiguous: it starts {', '.join(found[:SHOWN])}{more}",
            hint="give more characters of the id",
        )
    return str(found[0])


def find_id(
    session: Session, column: Any, text: str, noun: str, *, where: Sequence[Any] = (), hint: str | None = None
) -> str:
    """The full id that ``text`` (an id or a unique prefix of one) names, for an operation that takes an id.

    Like :func:`resolve_prefix`, except that text no id could start with
    (wrong characters, too long) answers NotFound like an unknown id, as
    before prefixes were taken: it reveals nothing and reaches no query.
    A prefix shorter than :data:`MIN_PREFIX` is InvalidInput.
    """
    if not could_be_prefix(text):
        raise NotFound(f"no {noun} with id {text!r}", hint=hint)
    return resolve_prefix(session, column, text, noun, where=where, hint=hint)
