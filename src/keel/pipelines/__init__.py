"""Pipelines: Python steps whose data make a DAG, cached by content, tracked as runs.

The map:

- :func:`step` / :class:`~keel.pipelines.define.Step` (``define``): a function
  that runs as one cached, tracked unit, with declared resources and environment.
- :func:`pipeline` / :class:`~keel.pipelines.pipeline.Pipeline`: a function of
  typed parameters; calling steps inside it traces the DAG (``plan``).
- ``check``: static checks before running (parameters and their ranges,
  missing inputs, type mismatches, cycles).
- ``cache``: the BLAKE3 cache key; ``encode``: outputs as deterministic bytes.
- ``run``: the driver (cache, executors, artifact store, tracking, lineage);
  ``executors``: in-process and a forked process pool.
- ``shell``: shell steps with declared files; ``lock``: the ``keel.lock`` file for git.
- ``gates`` (``from keel.pipelines import gates``): built-in steps that register,
  promote and validate data; a failed gate stops the pipeline.
- ``load``: a pipeline from ``FILE.py:NAME``.
- :func:`log_metric` / :func:`log_metrics` (``steplog``): metrics a step logs to its child run.
- ``service``: the operations that record pipeline runs and the step cache.
"""

from keel.pipelines.define import Output, Resources, Step, step
from keel.pipelines.pipeline import Pipeline, Plan, pipeline
from keel.pipelines.shell import ShellStep, shell
from keel.pipelines.steplog import log_metric, log_metrics

__all__ = [
    "Output",
    "Pipeline",
    "Plan",
    "Resources",
    "ShellStep",
    "Step",
    "log_metric",
    "log_metrics",
    "pipeline",
    "shell",
    "step",
]
