from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pipelines import steps_demo


@pytest.fixture
def client(make_keel: Callable[..., Any]) -> Any:
    c = make_keel()
    c.projects.create(name="pipes")
    return c


@pytest.fixture(autouse=True)
def _calls() -> None:
    steps_demo.CALLS.clear()
