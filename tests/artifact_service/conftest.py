"""Fixtures for the artifact service tests: a local client with two projects."""

from __future__ import annotations

from typing import Any

import pytest

from keel.client import Client


@pytest.fixture
def client(make_keel: Any) -> Client:
    c: Client = make_keel()
    c.projects.create(name="vision")
    c.projects.create(name="other")
    return c
