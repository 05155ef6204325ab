"""Validation (L2, after tracking, before registry): the checks that decide whether data may move on.

The map:

- :class:`Suite` (:mod:`keel.validation.suite`): the rules, as readable YAML
  (:func:`load_suite`, :meth:`Suite.save`) and as editable pydantic data;
- :mod:`keel.validation.infer`: a suite from a reference table version;
- :mod:`keel.validation.check`: a suite run over a table, each rule a
  :class:`CheckResult` with observed value, threshold and verdict, with
  distribution tests corrected together for multiple testing;
- :class:`ValidationService` (:mod:`keel.validation.service`): the operations
  (``client.validation.infer_suite``, ``validate``, ``reports``, ``report``),
  each report stored and linked to the version it checked;
- :func:`render_html` (:mod:`keel.validation.html`): one self-contained HTML file;
- :func:`attach_preprocessing` / :func:`check_parity` (:mod:`keel.validation.parity`):
  a package carries its preprocessing and a training-time fingerprint, replayed
  as the model server loads it (``client.validation.check_parity``);
- :mod:`keel.validation.evaluate` (metrics from :mod:`~keel.validation.metrics`,
  fairness from :mod:`~keel.validation.fairness`): a package measured on labelled
  rows against the KPIs, the champion, slices and sensitive groups
  (``client.validation.validate_model``; the project's :class:`ValidationPolicy`).

The statistics (two-sample tests, corrections, row checks) are in
:mod:`keel.stats.tests` and :mod:`keel.stats.checks`, shared with monitoring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keel.core.lazy import lazy_getattr

__all__ = [
    "CheckResult",
    "ModelValidationReport",
    "ParityReport",
    "Suite",
    "ValidationPolicy",
    "ValidationReport",
    "ValidationService",
    "attach_preprocessing",
    "check_parity",
    "fairness",
    "load_suite",
    "render_html",
]

_LAZY = {
    "CheckResult": "keel.validation.schemas",
    "ModelValidationReport": "keel.validation.model_schemas",
    "ParityReport": "keel.validation.parity_schemas",
    "ValidationPolicy": "keel.validation.model_schemas",
    "attach_preprocessing": "keel.validation.parity",
    "check_parity": "keel.validation.parity",
    "fairness": "keel.validation.fairness",
    "Suite": "keel.validation.suite",
    "ValidationReport": "keel.validation.schemas",
    "ValidationService": "keel.validation.service",
    "load_suite": "keel.validation.suite",
    "render_html": "keel.validation.html",
}

if TYPE_CHECKING:
    from keel.validation.fairness import fairness
    from keel.validation.html import render_html
    from keel.validation.model_schemas import ModelValidationReport, ValidationPolicy
    from keel.validation.parity import attach_preprocessing, check_parity
    from keel.validation.parity_schemas import ParityReport
    from keel.validation.schemas import CheckResult, ValidationReport
    from keel.validation.service import ValidationService
    from keel.validation.suite import Suite, load_suite

__getattr__ = lazy_getattr("keel.validation", _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
