"""What every operation input must satisfy before any service sees it: the limits of the databases.

Both databases store integers in 64 bits, and neither stores NUL in text
(PostgreSQL refuses it, in a JSON column too). An integer beyond 64 bits used
to pass validation and fail inside the INSERT, as a 500. :func:`edge_checked`
rewrites an operation's parameter annotation once, when its input model is
built, so pydantic refuses such input up front, naming the field, and the
OpenAPI spec states the bounds:

- a plain ``int`` (a field, a list item, a tuple member) is bounded to signed
  64 bits, unless the declaration already bounds it;
- an ``Any`` (free-form JSON such as a run's environment) and a pydantic model
  are walked after validation: no NUL in any key or string, no integer outside
  64 bits, at most :data:`MAX_DEPTH` containers deep;
- a union of several types (a param value: ``int | float | str | list | ...``)
  is walked the same way, except for NUL, which the capability that owns the
  value words itself (tracking names the param or tag).

Plain ``str`` fields are left as declared: a capability's own checks name the
value best (a run id with NUL is simply an unknown run), and whatever NUL still
reaches PostgreSQL is answered 422 by the store (``keel.store.engine``), not 500.
The integer bounds run in pydantic's core, so a batch of 100,000 points costs
no Python call per value.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Final, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import AfterValidator, BaseModel, Discriminator

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
#: How deep free-form JSON (a run's environment, say) may nest.
MAX_DEPTH: Final = 32

Int64 = Annotated[int, Ge(INT64_MIN), Le(INT64_MAX)]


def check_plain(value: Any, depth: int = 0, *, nul: bool = True, at: str = "") -> Any:
    """Raise ValueError if a JSON-like value holds NUL text (when ``nul``), a 64-bit overflow or
    nests too deep (more than :data:`MAX_DEPTH` containers, itself included); the message says
    where inside the value (``at a.0``)."""
    where = f" at {at}" if at else ""
    if depth >= MAX_DEPTH and isinstance(value, dict | list | tuple | set | frozenset):
        raise ValueError(f"nests deeper than {MAX_DEPTH} levels{where}")
    if isinstance(value, str):
        if nul and "\x00" in value:
            raise ValueError(f"must not contain a NUL character (\\x00){where}")
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"integer {value} does not fit in 64 bits{where}")
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{at}.{key}" if at else str(key)
            check_plain(key, depth + 1, nul=nul, at=inner)
            check_plain(item, depth + 1, nul=nul, at=inner)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            check_plain(item, depth + 1, nul=nul, at=f"{at}.{index}" if at else str(index))
    elif isinstance(value, BaseModel):
        check_plain(value.model_dump(), depth, nul=nul, at=at)
    return value


def _check_union(value: Any) -> Any:
    return check_plain(value, nul=False)


_CHECKED: Final = AfterValidator(check_plain)
_CHECKED_UNION: Final = AfterValidator(_check_union)
_BOUNDS: Final = (Ge, Gt, Le, Lt)


def _has_bounds(meta: tuple[Any, ...]) -> bool:
    flat = [*meta, *(inner for m in meta for inner in getattr(m, "metadata", ()))]
    return any(isinstance(m, _BOUNDS) for m in flat)


def edge_checked(tp: Any) -> Any:
    """``tp`` with the database limits added wherever it holds integers or free-form JSON."""
    if tp is int:
        return Int64
    if tp is Any:
        return Annotated[Any, _CHECKED]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return Annotated[tp, _CHECKED]
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Annotated:
        base, meta = args[0], tuple(args[1:])
        if base is int and not _has_bounds(meta):
            return Annotated[(int, *meta, Ge(INT64_MIN), Le(INT64_MAX))]
        if base in (str, int):
            return tp
        if any(isinstance(m, Discriminator) for m in meta):  # a tagged union: check its value whole
            return Annotated[tp, _CHECKED_UNION]
        return Annotated[(edge_checked(base), *meta)]
    if origin is None or not args or origin is typing.Literal:
        return tp
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:  # Optional[X]: X's own limits, and the spec states them
            return Union[(edge_checked(members[0]), type(None))]  # noqa: UP007 - built from a tuple
        # a union of several (a param value: int | float | str | list | ...): one check after
        # validation, so a bad value gets one clear error instead of one per member
        return Annotated[tp, _CHECKED_UNION]
    if origin is dict and args[-1] is Any:  # free-form JSON object: walk its keys too
        return Annotated[tp, _CHECKED]
    rebuilt = tuple(a if a is Ellipsis else edge_checked(a) for a in args)
    generic: Any = origin
    try:
        return generic[rebuilt if len(rebuilt) > 1 else rebuilt[0]]
    except TypeError:  # an origin that cannot be subscripted again: leave it as declared
        return tp
