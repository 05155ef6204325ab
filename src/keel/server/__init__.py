"""The Keel server (L3): the REST API under /api/v1/, derived from the operations."""

from keel.server.app import create_app

__all__ = ["create_app"]
