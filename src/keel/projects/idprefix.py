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


def resolve_prefix(session: Session, column: Any, prefix: str, noun: str) -> str:
    """The one full id in ``column`` that starts with ``prefix``.

    Raises InvalidInput for a prefix that cannot be an id (too short, wrong
    characters) or that matches several ids (naming them), and NotFound
    (``no <noun> with id '<prefix>'``) when none matches.
    """
    text = prefix.strip().upper()
    if len(text) < MIN_PREFIX or len(text) > ID_LENGTH or not _ULID_CHARS.match(text):
        raise InvalidInput(
            f"{noun} id {prefix!r} is not an id or a prefix of one",
            hint=f"ids are {ID_LENGTH} characters (0-9, A-Z without I, L, O, U); give at least {MIN_PREFIX}",
        )
    if len(text) == ID_LENGTH:
        found = session.execute(select(column).where(column == text)).scalars().all()
    else:
        found = (
            session.execute(
                select(column)
                .where(column.startswith(text, autoescape=True))
                .order_by(column)
                .limit(SHOWN + 1)
            )
            .scalars()
            .all()
        )
    if not found:
        raise NotFound(f"no {noun} with id {prefix!r}")
    if len(found) > 1:
        more = ", ..." if len(found) > SHOWN else ""
        raise InvalidInput(
            f"{noun} id prefix {prefix!r} is ambiguous: it starts {', '.join(found[:SHOWN])}{more}",
            hint="give more characters of the id",
        )
    return str(found[0])
