"""Tests every backend must pass unchanged; a test module imports them with ``*``.

Each test takes the ``keel_client`` fixture (parametrised over SQLite,
PostgreSQL and a remote server) and ``unique`` for names.
"""
