"""``all_pages``: the one loop every ``ls`` command uses to fetch a paged listing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.cli.output import PAGE_SIZE, all_pages
from keel.core.errors import InvalidInput
from keel.core.paging import MAX_PAGE_SIZE, Page


class Listing:
    """A fake paged listing of ``total`` numbers that records the page sizes asked for."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.asked: list[int] = []

    def __call__(self, *, limit: int, page_token: str | None = None) -> Page[int]:
        assert 1 <= limit <= MAX_PAGE_SIZE
        self.asked.append(limit)
        start = int(page_token or 0)
        end = min(start + limit, self.total)
        return Page[int](items=list(range(start, end)), next_token=str(end) if end < self.total else None)


def test_page_size_is_the_largest_a_listing_serves() -> None:
    assert PAGE_SIZE == MAX_PAGE_SIZE


@pytest.mark.parametrize("total", [0, 1, 999, 1000, 1001, 2500])
def test_without_a_limit_every_item_comes_back(total: int) -> None:
    listing = Listing(total)
    assert all_pages(listing) == list(range(total))
    assert all(size == PAGE_SIZE for size in listing.asked)
    assert len(listing.asked) == max(1, -(-total // PAGE_SIZE))


@pytest.mark.parametrize(
    ("total", "limit", "asked"),
    [
        (2500, 1, [1]),
        (2500, 1000, [1000]),
        (2500, 1001, [1000, 1]),
        (2500, 2500, [1000, 1000, 500]),
        (1500, 5000, [1000, 1000]),
        (10, 50, [50]),
    ],
)
def test_a_limit_asks_only_for_what_is_still_wanted(total: int, limit: int, asked: list[int]) -> None:
    listing = Listing(total)
    assert all_pages(listing, limit) == list(range(min(total, limit)))
    assert listing.asked == asked


def test_filters_are_bound_by_the_caller() -> None:
    seen: list[dict[str, Any]] = []

    def ls(project: str, *, limit: int, page_token: str | None = None) -> Page[str]:
        seen.append({"project": project, "limit": limit, "page_token": page_token})
        return Page[str](items=[project], next_token=None)

    assert all_pages(lambda **page: ls("churn", **page), 5) == ["churn"]
    assert seen == [{"project": "churn", "limit": 5, "page_token": None}]


@pytest.mark.parametrize("limit", [0, -3])
def test_a_limit_below_one_is_refused_before_any_call(limit: int) -> None:
    listing = Listing(5)
    with pytest.raises(InvalidInput, match=f"--limit must be at least 1, got {limit}"):
        all_pages(listing, limit)
    assert listing.asked == []


def test_project_ls_pages_through_and_refuses_a_bad_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    for name in ("a", "b", "c"):
        assert keel_cli("project", "create", name).code == 0
    listed = [p["name"] for p in json.loads(keel_cli("project", "ls", "--json").out)]
    assert listed == ["a", "b", "c", "default"]  # `keel init` made the default project
    assert len(json.loads(keel_cli("project", "ls", "--limit", "2", "--json").out)) == 2
    refused = keel_cli("project", "ls", "--limit", "0")
    assert refused.code == 2 and "--limit must be at least 1, got 0" in refused.err
