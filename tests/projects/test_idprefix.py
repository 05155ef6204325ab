"""A unique id prefix finds its row; a bad, missing or ambiguous one is refused by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from keel.core.errors import InvalidInput, NotFound
from keel.projects.idprefix import resolve_prefix


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "rows"
    id: Mapped[str] = mapped_column(String(26), primary_key=True)


IDS = ["01M8M9S059F6MJABR546Y8ZZG2", "01M8M9S1WRK2M110WQ6ZR12C0G", "01M8M9S4AYAXTAEBQ2M60QCJDA"]


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([_Row(id=i) for i in IDS])
        s.commit()
        yield s
    engine.dispose()


@pytest.mark.parametrize(("prefix", "full"), [("01M8M9S0", IDS[0]), ("01m8m9s1", IDS[1]), (IDS[2], IDS[2])])
def test_a_unique_prefix_or_a_full_id_finds_the_row(session: Session, prefix: str, full: str) -> None:
    assert resolve_prefix(session, _Row.id, prefix, "run") == full


def test_an_ambiguous_prefix_names_the_matches(session: Session) -> None:
    with pytest.raises(InvalidInput, match="ambiguous") as caught:
        resolve_prefix(session, _Row.id, "01M8M9S", "run")
    assert all(i in caught.value.message for i in IDS)


@pytest.mark.parametrize("short", ["01M", "0", " 01m "])
def test_a_prefix_under_four_characters_is_too_short(session: Session, short: str) -> None:
    with pytest.raises(
        InvalidInput, match=f"run id prefix '{short}' is too short: give at least 4 characters"
    ):
        resolve_prefix(session, _Row.id, short, "run")


@pytest.mark.parametrize("bad", ["", "01M8%", "01M8_9S0", "01M8M9SOIL", IDS[0] + "X"])
def test_what_cannot_be_an_id_is_refused(session: Session, bad: str) -> None:
    with pytest.raises(InvalidInput, match="is not an id or a prefix of one"):
        resolve_prefix(session, _Row.id, bad, "run")


def test_no_match_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="no run with id '01M8ZZZZ'"):
        resolve_prefix(session, _Row.id, "01M8ZZZZ", "run")
