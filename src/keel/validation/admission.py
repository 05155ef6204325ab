"""Admission: a table becomes a version only if it passes a suite (``keel data add --require-valid``).

The data SDK calls :func:`admit` after the table's Parquet parts are uploaded
and before the version is recorded, so a failing table leaves no version and
no report behind (its unreferenced objects are garbage for ``gc``). A
passing table is recorded, and :func:`record` then stores the report against
the new version, as ``keel data validate`` would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from keel.core.errors import CheckFailed, InvalidInput
from keel.validation.schemas import ValidationReport
from keel.validation.suite import Suite, load_suite

#: Failing checks named in the refusal's one-line message (all are in its details).
NAMED: int = 5


def as_suite(suite: Suite | str | Path) -> Suite:
    """A Suite, or the one in the YAML file ``suite`` names."""
    return suite if isinstance(suite, Suite) else load_suite(Path(suite))


def failing_checks(report: ValidationReport) -> list[str]:
    """``column check: message`` for each failed check, in suite order."""
    return [f"{r.column or '(table)'} {r.check}: {r.message}".rstrip(": ") for r in report.failures()]


def admit(client: Any, project: str, dataset: str, parts: list[str], suite: Suite) -> ValidationReport:
    """Check uploaded parts against ``suite``; CheckFailed naming the failing checks when they fail it.

    Raises InvalidInput for data that is not a table (no Parquet parts).
    """
    if not parts:
        raise InvalidInput(
            f"--require-valid checks tables; the new {dataset} data is a folder of files",
            hint="drop --require-valid for a folder dataset",
        )
    report: ValidationReport = client.validation.check_parts(
        project=project, parts=parts, suite=suite, address=f"{project}/{dataset} (new data)"
    )
    if not report.passed:
        failing = failing_checks(report)
        more = f" and {len(failing) - NAMED} more" if len(failing) > NAMED else ""
        raise CheckFailed(
            f"the new {dataset} data fails suite {suite.name!r} ({report.failed} of {report.checks} checks): "
            + "; ".join(failing[:NAMED])
            + more,
            hint="no version was made; inspect it with keel data validate after fixing, or drop --require-valid",
            failing=failing,
        )
    return report


def record(client: Any, project: str, dataset: str, number: int, suite: Suite) -> ValidationReport:
    """Store the passing report against the version just made (linked to it in lineage)."""
    report: ValidationReport = client.validation.validate(
        project=project, dataset=dataset, version=f"v{number}", suite=suite
    )
    return report
