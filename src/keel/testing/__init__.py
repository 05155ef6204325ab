"""Shared test fixtures and the contract suite (imported by tests, never by ``keel``).

Register the fixtures in a conftest with ``pytest_plugins = ["keel.testing.fixtures"]``.
The contract suite (``keel.testing.contract``) holds tests that every backend
must pass unchanged: local SQLite, local PostgreSQL, and remote (a real
``keel server`` on loopback).
"""
