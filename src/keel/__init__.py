"""Keel: carry a model from a problem statement to a monitored production service.

The handful of objects a user meets first:

- :func:`init` / :func:`connect` give a :class:`Client`, local (a ``.keel/``
  workspace) or remote (a ``keel server``), with the same calls either way;
- ``client.projects`` states a problem, its objectives and :class:`KPI` s;
- :func:`evaluate_kpis` is the one verdict runs, gates and monitors share;
- every error Keel raises on purpose is a :class:`KeelError`.

Names load lazily (PEP 562), so ``import keel`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keel.core.lazy import lazy_getattr
from keel.core.version import __version__

__all__ = [
    "KPI",
    "Client",
    "KeelError",
    "__version__",
    "active_run",
    "autolog",
    "connect",
    "current_project",
    "data",
    "end_run",
    "evaluate_kpis",
    "get_client",
    "get_run",
    "init",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "models",
    "parse_kpi",
    "pipeline",
    "run_pipeline",
    "search_runs",
    "set_tag",
    "set_tags",
    "start_run",
    "step",
]

_LAZY = {
    "KPI": "keel.core.kpi",
    "Client": "keel.client",
    "KeelError": "keel.core.errors",
    "active_run": "keel.sdk",
    "autolog": "keel.sdk",
    "connect": "keel.client",
    "current_project": "keel.sdk",
    "data": "keel.data",
    "end_run": "keel.sdk",
    "evaluate_kpis": "keel.core.kpi",
    "get_client": "keel.sdk",
    "get_run": "keel.sdk",
    "init": "keel.sdk",
    "log_artifact": "keel.sdk",
    "log_metric": "keel.sdk",
    "log_metrics": "keel.sdk",
    "log_param": "keel.sdk",
    "log_params": "keel.sdk",
    "models": "keel.models",
    "parse_kpi": "keel.core.kpi",
    "pipeline": "keel.pipelines",
    "run_pipeline": "keel.sdk",
    "search_runs": "keel.sdk",
    "set_tag": "keel.sdk",
    "set_tags": "keel.sdk",
    "start_run": "keel.sdk",
    "step": "keel.pipelines",
}

if TYPE_CHECKING:
    from keel.client import Client, connect
    from keel.core.errors import KeelError
    from keel.core.kpi import KPI, evaluate_kpis, parse_kpi
    from keel.pipelines import pipeline, step
    from keel.sdk import (
        active_run,
        autolog,
        current_project,
        end_run,
        get_client,
        get_run,
        init,
        log_artifact,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        run_pipeline,
        search_runs,
        set_tag,
        set_tags,
        start_run,
    )


__getattr__ = lazy_getattr("keel", _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
