"""The ``onnx`` flavor: an ONNX graph, run by onnxruntime; a graph of operators is data, not code.

The package holds ``model.onnx`` (the serialized ``ModelProto``). Load
builds an onnxruntime session on the CPU from its bytes; ``predict`` gives
the graph's first output (a classifier's labels, as skl2onnx writes them),
``predict_proba`` its second when there is one. A table reaches a graph of
one input as one array (in the signature's column order), and a graph of
one input per column (skl2onnx's mixed-type pipelines) column by column.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    from keel.models.manifest import Manifest

#: onnxruntime's element types as numpy dtypes (the ones scikit-learn and torch graphs use).
_DTYPES: Final = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(string)": "object",
    "tensor(bool)": "bool",
}


class OnnxModel:
    """An onnxruntime session with ``predict`` (first output) and ``predict_proba`` (second, if any)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def _feed(self, data: Any) -> dict[str, Any]:
        import numpy as np

        inputs = self.session.get_inputs()
        frame = hasattr(data, "columns") and hasattr(data, "to_numpy")
        if len(inputs) == 1:
            dtype = _DTYPES.get(inputs[0].type, "float32")
            return {inputs[0].name: np.asarray(data.to_numpy() if frame else data).astype(dtype)}
        if not frame:
            raise InvalidInput(
                f"the ONNX graph takes {len(inputs)} named inputs; give a table with those columns"
            )
        feed = {}
        for spec in inputs:
            if spec.name not in data.columns:
                raise InvalidInput(f"input column {spec.name!r} is missing (the ONNX graph takes it)")
            column = data[spec.name].to_numpy().astype(_DTYPES.get(spec.type, "float32"))
            feed[spec.name] = column.reshape(-1, 1)
        return feed

    def _run(self, data: Any) -> list[Any]:
        try:
            outputs: list[Any] = self.session.run(None, self._feed(data))
        except InvalidInput:
            raise
        except Exception as exc:
            raise InvalidInput(f"the ONNX graph refused the input: {type(exc).__name__}: {exc}") from None
        return outputs

    def predict(self, data: Any) -> Any:
        """The first output; one value per row comes as a vector, as scikit-learn answers (not ``(n, 1)``)."""
        out = self._run(data)[0]
        shape: tuple[int, ...] = getattr(out, "shape", ())
        return out.reshape(-1) if len(shape) == 2 and shape[1] == 1 else out

    def predict_proba(self, data: Any) -> Any:
        outputs = self._run(data)
        if len(outputs) < 2:
            raise InvalidInput("the ONNX graph has one output; it gives no probabilities")
        return outputs[1]


def session_of(data: bytes) -> Any:
    """An onnxruntime CPU session over the serialized graph ``data``."""
    import onnxruntime  # type: ignore[import-untyped]

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])


class OnnxFlavor:
    """``onnx.ModelProto``: the graph's bytes as they are; run by onnxruntime."""

    name = "onnx"
    framework = "onnxruntime"
    model_file: Final = "model.onnx"

    def accepts(self, model: Any) -> bool:
        onnx = sys.modules.get("onnx")  # never imported here: no onnx, no graph
        return onnx is not None and isinstance(model, onnx.ModelProto)

    def packages(self) -> list[str]:
        return ["onnx", "onnxruntime", "numpy"]

    def predict(self, model: Any, data: Any) -> Any:
        return OnnxModel(session_of(model.SerializeToString())).predict(data)

    def save(self, model: Any, folder: Path) -> str:
        (folder / self.model_file).write_bytes(model.SerializeToString())
        return self.model_file

    def load(self, folder: Path, manifest: Manifest) -> Any:
        try:
            return OnnxModel(session_of((folder / manifest.model_file).read_bytes()))
        except Exception as exc:
            raise InvalidInput(
                f"{manifest.model_file} is not an ONNX graph onnxruntime can run: {exc}"
            ) from None


FLAVOR: Final = OnnxFlavor()
