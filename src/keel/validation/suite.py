"""A suite: the rules a table version must meet, as readable YAML and as editable pydantic data.

A suite is usually inferred from a reference version (:mod:`keel.validation.infer`),
written to ``suites/<name>.yaml``, reviewed like code and edited by hand or in
Python (``suite.columns["age"].max = 120``). Per column it holds the type,
nullability and a null-rate bound, a range with a tolerance, a categorical
domain, uniqueness, a regex, and whether its distribution is compared with the
reference's. Distribution tests across the suite share one alpha, one
multiple-testing correction and effect-size thresholds (:class:`DistributionRules`).

:func:`load_suite` reports a malformed file by line and column, whether the
YAML itself is broken or a value is of the wrong kind, and checks that every
rule names a column the suite declares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from keel.artifacts.digest import hash_bytes
from keel.core.errors import InvalidInput
from keel.stats.models import Kind
from keel.stats.tests import Correction

SUITE_FORMAT: Literal[1] = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RowRules(_Strict):
    """Bounds on the number of rows (either may be absent)."""

    min: int | None = Field(default=1, ge=0)
    max: int | None = Field(default=None, ge=0)


class DistributionRules(_Strict):
    """How distribution tests decide, across the whole suite.

    A column fails only when its corrected p-value is below ``alpha`` *and*
    its effect is at least the threshold (KS distance for numeric columns,
    PSI for categorical ones): a tiny but significant shift on a huge batch
    is not a failure, and neither is a large-looking one on a handful of rows.
    """

    alpha: float = Field(default=0.05, gt=0, lt=1)
    correction: Correction = "holm"
    ks_threshold: float = Field(default=0.1, ge=0, le=1)
    psi_threshold: float = Field(default=0.2, ge=0)


class AnomalyRules(_Strict):
    """What the report lists as anomalies (they inform; they do not fail a report)."""

    z: float = Field(default=5.0, gt=0)
    outliers: bool = True
    duplicate_rows: bool = True


class ColumnRules(_Strict):
    """The rules of one column; a rule left ``None`` is not checked."""

    type: str | None = None
    kind: Kind | None = None
    nullable: bool = True
    max_null_rate: float | None = Field(default=None, ge=0, le=1)
    min: float | None = None
    max: float | None = None
    #: Widens [min, max] by this share of its span on each side (0.25: a quarter of the span).
    tolerance: float | None = Field(default=None, ge=0)
    domain: list[str | int | bool] | None = None
    unique: bool = False
    pattern: str | None = None
    distribution: bool = False

    @model_validator(mode="after")
    def _range_in_order(self) -> ColumnRules:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self

    def bounds(self) -> tuple[float | None, float | None]:
        """[min, max] widened by the tolerance."""
        if self.min is None or self.max is None:
            return self.min, self.max
        pad = (self.max - self.min) * (self.tolerance or 0.0)
        return self.min - pad, self.max + pad


class Suite(_Strict):
    """A validation suite: table-level rules, per-column rules, and the reference it came from."""

    keel_suite: Literal[1] = SUITE_FORMAT
    name: str = Field(min_length=1, max_length=200)
    #: The version distributions are compared with (``project/name@v3``); None: no distribution tests.
    reference: str | None = None
    #: The reference version's content digest, so a moved address is noticed rather than used.
    reference_digest: str | None = None
    rows: RowRules = RowRules()
    allow_extra_columns: bool = True
    distribution: DistributionRules = DistributionRules()
    anomalies: AnomalyRules = AnomalyRules()
    columns: dict[str, ColumnRules] = {}

    @model_validator(mode="after")
    def _reference_for_distributions(self) -> Suite:
        wanting = [n for n, c in self.columns.items() if c.distribution]
        if wanting and not self.reference:
            raise ValueError(
                f"column {wanting[0]!r} asks for a distribution test but the suite names no reference"
            )
        return self

    def to_yaml(self) -> str:
        """The suite as YAML, rules in declaration order, unset rules left out."""
        import yaml

        data = self.model_dump(mode="json", exclude_none=True)
        text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        return text

    def digest(self) -> str:
        """BLAKE3 of the suite's canonical JSON: two reports with the same digest ran the same rules."""
        return hash_bytes(self.model_dump_json().encode())

    def save(self, path: str | Path) -> Path:
        """Write the suite's YAML to ``path`` (folders made as needed)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.to_yaml(), encoding="utf-8")
        return target


def load_suite(path: str | Path) -> Suite:
    """Read a suite file; InvalidInput naming the file, line and column of what is wrong."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read suite {source}: {exc.strerror or exc}") from None
    return parse_suite(text, str(source))


def parse_suite(text: str, where: str = "<suite>") -> Suite:
    """Parse a suite's YAML text; errors name ``where`` with a line and column."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise InvalidInput(f"{where}{at}: not valid YAML: {exc.problem or exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: a suite is a mapping (name:, columns:, ...), not {type(data).__name__}")
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [p for p in error["loc"] if p not in ("function-after",)]
        line, column = _position(node, loc)
        field = ".".join(str(p) for p in loc) or "suite"
        at = f":{line}:{column}" if line else ""
        raise InvalidInput(f"{where}{at}: {field}: {error['msg']}") from None


def _position(node: Any, loc: list[Any]) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the key at ``loc`` (or of its deepest existing parent's key)."""
    import yaml

    found, mark = node, node.start_mark if node is not None else None
    for key in loc:
        pair = None
        if isinstance(found, yaml.MappingNode):
            pair = next(((k, v) for k, v in found.value if k.value == str(key)), None)
        elif isinstance(found, yaml.SequenceNode) and isinstance(key, int) and key < len(found.value):
            pair = (found.value[key], found.value[key])
        if pair is None:
            break
        mark, found = pair[0].start_mark, pair[1]
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1
