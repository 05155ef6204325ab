"""The package: manifest, signature checks, digests on every load, pickle only by choice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import keel.models as km
from keel.core.errors import CorruptObject, InvalidInput, PermissionDenied
from keel.models.load import FrameworkVersionWarning
from keel.models.manifest import MANIFEST_NAME


@pytest.fixture
def logreg(cancer: Any) -> Any:
    X, y = cancer
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)


@pytest.fixture
def package(logreg: Any, cancer: Any, tmp_path: Path) -> Path:
    km.save(logreg, tmp_path / "pkg", input_example=cancer[0].head(5), metrics={"auc": 0.99})
    return tmp_path / "pkg"


def test_manifest_records_what_a_server_needs(package: Path) -> None:
    manifest = km.verify(package)
    assert manifest.flavor == "sklearn" and not manifest.unsafe_pickle
    assert manifest.model_class == "sklearn.pipeline.Pipeline"
    assert manifest.frameworks["scikit-learn"].count(".") >= 1
    assert any(r.startswith("scikit-learn==") for r in manifest.requirements)
    assert set(manifest.files) == {"model.skops", "input_example.json"}
    assert manifest.metrics == {"auc": 0.99} and manifest.preprocessing_fingerprint is None
    assert manifest.signature is not None
    columns = manifest.signature.inputs.columns
    assert columns is not None and len(columns) == 30 and columns[0].name == "mean radius"
    assert manifest.signature.outputs.tensor is not None and manifest.signature.outputs.tensor.shape == [-1]


def test_predict_checks_input_and_names_the_field(package: Path, cancer: Any) -> None:
    X, _ = cancer
    model = km.load(package)
    assert list(model.predict(X.head(4))) == list(model.raw.predict(X.head(4)))
    assert model.predict(X.head(4)[list(reversed(X.columns))]).shape == (4,)  # reordered: taken by name
    with pytest.raises(InvalidInput, match=r"input column 'mean area' is missing"):
        model.predict(X.head(2).drop(columns=["mean area"]))
    bad = X.head(2).astype({"mean radius": str})
    with pytest.raises(InvalidInput, match=r"input column 'mean radius' is .*; the model takes float64"):
        model.predict(bad)
    with_null = X.head(2).copy()
    with_null.loc[with_null.index[0], "worst area"] = np.nan
    with pytest.raises(InvalidInput, match=r"input column 'worst area' has nulls"):
        model.predict(with_null)
    with pytest.raises(InvalidInput, match=r"table of 30 columns"):
        model.predict(np.zeros((2, 3)))
    example = model.input_example()
    assert list(example.columns) == list(X.columns) and len(example) == 5


def test_a_changed_byte_is_refused_naming_the_file(package: Path) -> None:
    path = package / "model.skops"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptObject, match=r"'model.skops' was changed"):
        km.load(package)


def test_a_truncated_file_is_refused(package: Path) -> None:
    path = package / "input_example.json"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CorruptObject, match=r"'input_example.json' has .* bytes; its manifest says"):
        km.verify(package)


def test_a_manifest_naming_a_missing_file_is_refused(package: Path) -> None:
    (package / "input_example.json").unlink()
    with pytest.raises(CorruptObject, match=r"'input_example.json' is missing"):
        km.load(package)


def test_an_unlisted_file_is_refused(package: Path) -> None:
    (package / "extra.py").write_text("import os")
    with pytest.raises(InvalidInput, match=r"'extra.py', which its manifest does not list"):
        km.verify(package)


def test_a_broken_manifest_is_refused(package: Path) -> None:
    doc = json.loads((package / MANIFEST_NAME).read_text())
    del doc["flavor"]
    (package / MANIFEST_NAME).write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match=r"flavor is not valid"):
        km.verify(package)
    (package / MANIFEST_NAME).unlink()
    with pytest.raises(InvalidInput, match=r"has no keel-model.json"):
        km.verify(package)


class Custom:
    def predict(self, data: Any) -> Any:
        return np.zeros(len(data))


def test_unsupported_objects_are_refused_and_nothing_is_written(tmp_path: Path, cancer: Any) -> None:
    with pytest.raises(InvalidInput, match=r"unsupported object: no flavor stores a builtins.function"):
        km.save(lambda x: x, tmp_path / "a")
    with pytest.raises(InvalidInput, match=r"unsupported object: no flavor stores a .*Custom"):
        km.save(Custom(), tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_an_example_the_model_cannot_take_is_refused(logreg: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"the input example does not fit the model's predict"):
        km.save(logreg, tmp_path / "pkg", input_example=np.zeros((3, 4)))
    assert not (tmp_path / "pkg").exists()


def test_pickle_only_by_choice_on_both_ends(tmp_path: Path, cancer: Any) -> None:
    X, _ = cancer
    manifest = km.save(Custom(), tmp_path / "pkg", input_example=X.head(3), unsafe_pickle=True)
    assert manifest.unsafe_pickle and manifest.flavor == "pickle"
    with pytest.raises(PermissionDenied, match=r"is a pickle: loading it runs code"):
        km.load(tmp_path / "pkg")
    assert list(km.load(tmp_path / "pkg", unsafe_pickle=True).predict(X.head(2))) == [0.0, 0.0]


def test_another_minor_version_warns_and_another_major_is_refused(package: Path) -> None:
    doc = json.loads((package / MANIFEST_NAME).read_text())
    major, minor = doc["frameworks"]["scikit-learn"].split(".")[:2]
    doc["frameworks"]["scikit-learn"] = f"{major}.{int(minor) + 1}.0"
    (package / MANIFEST_NAME).write_text(json.dumps(doc))
    with pytest.warns(FrameworkVersionWarning, match=r"saved with scikit-learn"):
        km.load(package)
    doc["frameworks"]["scikit-learn"] = f"{int(major) + 1}.0.0"
    (package / MANIFEST_NAME).write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match=r"another major version"):
        km.load(package)


def test_a_package_folder_is_written_only_once(package: Path, logreg: Any) -> None:
    with pytest.raises(InvalidInput, match=r"exists already"):
        km.save(logreg, package)


def test_a_skops_file_with_an_untrusted_type_is_refused_on_load(package: Path) -> None:
    import skops.io as sio

    from keel.artifacts.files import hash_file

    model_file = package / "model.skops"
    model_file.write_bytes(sio.dumps(Custom()))  # a crafted package, re-sealed so its digests match
    doc = json.loads((package / MANIFEST_NAME).read_text())
    doc["files"]["model.skops"] = {"digest": hash_file(model_file), "size": model_file.stat().st_size}
    (package / MANIFEST_NAME).write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match=r"model.skops holds types Keel does not trust: .*Custom"):
        km.load(package)
