"""The onnx flavor and `to_onnx`: a scikit-learn package becomes an ONNX package only if both answer alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")

from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import keel.models as km
from keel.core.errors import CheckFailed, InvalidInput
from keel.models.convert import to_onnx
from keel.models.onnx_flavor import OnnxModel


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
        lambda: RandomForestClassifier(n_estimators=10, random_state=0),
    ],
    ids=["pipeline", "forest"],
)
def test_a_classifier_converts_with_equal_labels_and_close_probabilities(
    make: Any, cancer: Any, tmp_path: Path
) -> None:
    X, y = cancer
    source = make().fit(X, y)
    km.save(source, tmp_path / "src", input_example=X.head(20))
    manifest = to_onnx(tmp_path / "src", tmp_path / "onnx", source_ref="model_version:abc")
    assert manifest.flavor == "onnx" and manifest.model_file == "model.onnx"
    assert "onnxruntime" in manifest.frameworks
    assert manifest.converted_from is not None and manifest.converted_from["version"] == "model_version:abc"
    parity = manifest.converted_from["parity"]
    assert parity["rows"] == 20 + 200 and parity["labels_differing"] == 0 and parity["max_abs_diff"] <= 1e-5
    loaded = km.load(tmp_path / "onnx")
    assert list(loaded.predict(X.head(50))) == list(source.predict(X.head(50)))
    assert np.allclose(loaded.predict_proba(X.head(50)), source.predict_proba(X.head(50)), atol=1e-5)
    with pytest.raises(InvalidInput, match=r"input column 'mean area' is missing"):
        loaded.predict(X.head(2).drop(columns=["mean area"]))


def test_a_regressor_converts_within_tolerance(cancer: Any, tmp_path: Path) -> None:
    X, y = cancer
    km.save(RandomForestRegressor(5, random_state=0).fit(X, y), tmp_path / "src", input_example=X.head(10))
    manifest = to_onnx(tmp_path / "src", tmp_path / "onnx")
    assert manifest.converted_from is not None and "version" not in manifest.converted_from
    assert manifest.converted_from["parity"]["max_abs_diff"] <= 1e-5


def test_answers_that_disagree_are_refused_and_nothing_is_written(
    cancer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = cancer
    km.save(LogisticRegression(max_iter=5000).fit(X, y), tmp_path / "src", input_example=X.head(5))
    original = OnnxModel.predict_proba
    monkeypatch.setattr(OnnxModel, "predict_proba", lambda self, data: original(self, data) + 0.01)
    with pytest.raises(CheckFailed, match=r"probabilities differ by up to 0.01 \(> 1e-05\)"):
        to_onnx(tmp_path / "src", tmp_path / "onnx")
    monkeypatch.setattr(OnnxModel, "predict_proba", original)
    labels = OnnxModel.predict
    monkeypatch.setattr(OnnxModel, "predict", lambda self, data: 1 - labels(self, data))
    with pytest.raises(CheckFailed, match=r"gives another label than the model for 205 of 205 rows"):
        to_onnx(tmp_path / "src", tmp_path / "onnx")
    assert not (tmp_path / "onnx").exists()


def test_what_cannot_be_converted_is_refused(cancer: Any, tmp_path: Path) -> None:
    X, y = cancer
    km.save(LogisticRegression(max_iter=5000).fit(X, y), tmp_path / "bare")  # no input example
    with pytest.raises(InvalidInput, match=r"has no input example"):
        to_onnx(tmp_path / "bare", tmp_path / "onnx")
    km.save(LogisticRegression(max_iter=5000).fit(X, y), tmp_path / "src", input_example=X.head(5))
    to_onnx(tmp_path / "src", tmp_path / "onnx")
    with pytest.raises(InvalidInput, match=r"only scikit-learn packages convert to ONNX; this one is 'onnx'"):
        to_onnx(tmp_path / "onnx", tmp_path / "again")
    with pytest.raises(InvalidInput, match=r"tolerance must be zero or more"):
        to_onnx(tmp_path / "src", tmp_path / "neg", tolerance=-1)
    assert not (tmp_path / "again").exists() and not (tmp_path / "neg").exists()


def test_a_corrupt_graph_is_refused(cancer: Any, tmp_path: Path) -> None:
    import json

    from keel.artifacts.files import hash_file
    from keel.models.manifest import MANIFEST_NAME

    X, y = cancer
    km.save(LogisticRegression(max_iter=5000).fit(X, y), tmp_path / "src", input_example=X.head(5))
    to_onnx(tmp_path / "src", tmp_path / "onnx")
    graph = tmp_path / "onnx" / "model.onnx"
    graph.write_bytes(graph.read_bytes()[:40])
    doc = json.loads((tmp_path / "onnx" / MANIFEST_NAME).read_text())
    doc["files"]["model.onnx"] = {"digest": hash_file(graph), "size": 40}
    (tmp_path / "onnx" / MANIFEST_NAME).write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match=r"model.onnx is not an ONNX graph onnxruntime can run"):
        km.load(tmp_path / "onnx")
