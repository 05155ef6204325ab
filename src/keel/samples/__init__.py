"""Realistic sample data that Keel generates itself (no downloads): the quickstart's tables."""

from keel.samples.customers import customers_table

__all__ = ["customers_table"]
