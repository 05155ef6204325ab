"""``to_onnx``: a scikit-learn package converted into an ONNX package, kept only if both answer alike.

skl2onnx writes the graph; the graph is then asked the source's input
example and a seeded sample of :data:`SAMPLE_ROWS` rows drawn uniformly
within the example's column ranges (numeric tables; it reaches split
points the few example rows do not). Labels (or values)
must agree: a classifier's probabilities within ``tolerance`` and its
labels exactly, except on rows where the top two classes tie (within
``tolerance``: either label is right, and float rounding picks one), a regressor's values within ``tolerance`` (absolute, plus
the same relative share of the value). The figures go into the new
manifest's ``converted_from`` (with the source's ``model_version`` ref, from
which the registry draws the lineage edge), so ``model show`` can state them.
A float64 table converts with double-precision inputs, so nothing is lost to
float32 rounding near a tree's thresholds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np

from keel.core.errors import CheckFailed, InvalidInput
from keel.models.load import load_dir
from keel.models.manifest import Manifest
from keel.models.save import save

#: The default agreement required of converted outputs (probabilities, regression values).
TOLERANCE: Final = 1e-5
TARGETS: Final = ("onnx",)
#: Rows of the synthetic sample the answers are also compared on.
SAMPLE_ROWS: Final = 200


def probe_rows(example: Any, rows: int = SAMPLE_ROWS, seed: int = 0) -> Any:
    """The example plus ``rows`` seeded rows within its numeric columns' ranges (the example alone otherwise)."""
    rng = np.random.default_rng(seed)
    if hasattr(example, "columns"):
        if not all(d.kind in "iuf" for d in example.dtypes):
            return example
        import pandas as pd

        drawn = {}
        for name in example.columns:
            column = example[name]
            values = rng.uniform(float(column.min()), float(column.max()), rows)
            drawn[name] = (np.round(values) if column.dtype.kind in "iu" else values).astype(column.dtype)
        return pd.concat([example, pd.DataFrame(drawn)], ignore_index=True)
    array = np.asarray(example)
    if array.ndim != 2 or array.dtype.kind not in "f":
        return example
    drawn_array = rng.uniform(array.min(axis=0), array.max(axis=0), (rows, array.shape[1])).astype(
        array.dtype
    )
    return np.concatenate([array, drawn_array])


def _initial_types(example: Any, double: bool) -> list[tuple[str, Any]]:
    from skl2onnx.common.data_types import (  # type: ignore[import-untyped]
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    if hasattr(example, "columns"):
        kinds = {str(dtype.kind) for dtype in example.dtypes}
        if kinds <= {"f", "i", "u", "b"}:
            wide = "f" in kinds and all(d.itemsize == 8 for d in example.dtypes if d.kind == "f")
            tensor = DoubleTensorType if wide and double else FloatTensorType
            return [("X", tensor([None, example.shape[1]]))]
        types: list[tuple[str, Any]] = []
        for name, dtype in zip(example.columns, example.dtypes, strict=True):
            kind = {"f": DoubleTensorType, "i": Int64TensorType, "u": Int64TensorType}.get(dtype.kind)
            types.append((str(name), (kind or StringTensorType)([None, 1])))
        return types
    array = np.asarray(example)
    tensor = DoubleTensorType if array.dtype == np.float64 and double else FloatTensorType
    return [("X", tensor([None, *array.shape[1:]]))]


def _parity(source: Any, converted: Any, example: Any, tolerance: float) -> dict[str, Any]:
    want = np.asarray(source.predict(example))
    got = np.asarray(converted.predict(example))
    rows = len(want)
    if want.shape != got.shape:
        raise CheckFailed(
            f"the ONNX graph answers shape {list(got.shape)}; the model answers {list(want.shape)}"
        )
    figures: dict[str, Any] = {"rows": rows, "tolerance": tolerance}
    if want.dtype.kind in "fc":
        diff = float(np.max(np.abs(want - got))) if rows else 0.0
        figures["max_abs_diff"] = diff
        if not np.allclose(got, want, atol=tolerance, rtol=tolerance):
            raise CheckFailed(
                f"the ONNX graph's answers differ from the model's by up to {diff:.3g} (> {tolerance})"
            )
        return figures
    other = want.astype(str) != got.astype(str)
    if hasattr(source.raw, "predict_proba"):
        p_want = np.asarray(source.predict_proba(example))
        p_got = np.asarray(converted.predict_proba(example))
        if p_want.shape != p_got.shape:
            raise CheckFailed(
                f"the ONNX graph gives probabilities of shape {list(p_got.shape)}, not {list(p_want.shape)}"
            )
        diff = float(np.max(np.abs(p_want - p_got))) if rows else 0.0
        figures["max_abs_diff"] = diff
        if diff > tolerance:
            raise CheckFailed(f"the ONNX graph's probabilities differ by up to {diff:.3g} (> {tolerance})")
        if p_want.ndim == 2 and p_want.shape[1] > 1:  # a tie may break either way: not a disagreement
            top = np.sort(p_want, axis=1)
            ties = top[:, -1] - top[:, -2] <= tolerance
            figures["ties"] = int(np.sum(other & ties))
            other &= ~ties
    differing = int(np.sum(other))
    figures["labels_differing"] = differing
    if differing:
        raise CheckFailed(f"the ONNX graph gives another label than the model for {differing} of {rows} rows")
    return figures


def _convert(raw: Any, model_class: str, example: Any) -> tuple[Any, Any]:
    """The graph and a session on it: double-precision inputs first, float32 where onnxruntime lacks them."""
    from skl2onnx import to_onnx as convert  # type: ignore[import-untyped]
    from sklearn.base import is_classifier

    from keel.models.onnx_flavor import OnnxModel, session_of

    options = {"zipmap": False} if is_classifier(raw) else None  # probabilities as one array
    problem: Exception | None = None
    for double in (True, False):
        try:
            graph = convert(
                raw,
                initial_types=_initial_types(example, double),
                options=options,
                target_opset={"": 18, "ai.onnx.ml": 3},
            )
            return graph, OnnxModel(session_of(graph.SerializeToString()))
        except Exception as exc:  # skl2onnx's converter or onnxruntime's kernel lacks this type
            problem = exc
    raise InvalidInput(f"skl2onnx cannot convert a {model_class}: {problem}") from None


def to_onnx(
    source: str | Path, dest: str | Path, *, source_ref: str | None = None, tolerance: float = TOLERANCE
) -> Manifest:
    """Convert the scikit-learn package at ``source`` into an ONNX package in the new folder ``dest``.

    Raises InvalidInput for a package that is not scikit-learn or has no
    input example, or a model skl2onnx cannot convert; CheckFailed when the
    graph's answers on the example disagree (then nothing is written).
    """
    if not tolerance >= 0:
        raise InvalidInput(f"tolerance must be zero or more, not {tolerance}")
    model = load_dir(source)
    if model.manifest.flavor != "sklearn":
        raise InvalidInput(
            f"only scikit-learn packages convert to ONNX; this one is {model.manifest.flavor!r}"
        )
    example = model.input_example()
    if example is None:
        raise InvalidInput(
            "the package has no input example, which the conversion needs to check its answers"
        )
    graph, converted = _convert(model.raw, model.manifest.model_class, example)
    origin: dict[str, Any] = {"flavor": "sklearn", "model_class": model.manifest.model_class}
    if source_ref is not None:
        origin["version"] = source_ref
    origin["parity"] = _parity(model, converted, probe_rows(example), tolerance)
    return save(
        graph,
        dest,
        input_example=example,
        metrics=model.manifest.metrics,
        kpi_report=model.manifest.kpi_report,
        converted_from=origin,
    )
