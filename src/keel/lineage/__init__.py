"""Lineage (L1): one generic edge table between typed references.

An edge ``src --relation--> dst`` always points from a thing to what it came
from or used: ``run:1 --used--> dataset_version:7``,
``model_version:3 --produced_by--> run:1``. So :func:`upstream` walks edges
forward and :func:`downstream` walks them backward.

Every capability records "used" and "produced" relations through
:func:`add_edges`; graph questions (what made this model? what does this
dataset version affect?) are answered by walking edges, never by joining
another capability's tables.
"""

from keel.lineage.graph import Edge, LineageEdge, add_edges, downstream, upstream

__all__ = ["Edge", "LineageEdge", "add_edges", "downstream", "upstream"]
