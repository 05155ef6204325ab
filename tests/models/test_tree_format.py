"""Keel's tree format: forests as JSON + plain arrays, exact round trips, skops for what it cannot express."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeRegressor

import keel.models as km
from keel.artifacts.files import hash_file
from keel.core.errors import InvalidInput, UnsafeTree
from keel.models.manifest import MANIFEST_NAME
from keel.models.tree_format import ARRAYS_FILE, JSON_FILE

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomForestClassifier(n_estimators=7, random_state=0),
        lambda: ExtraTreesRegressor(n_estimators=4, random_state=0),
        lambda: DecisionTreeRegressor(max_depth=4, random_state=0),
    ],
    ids=["rf", "extratrees-regressor", "decision-tree"],
)
def test_forests_and_trees_round_trip_exactly(make: Any, cancer: Any, tmp_path: Path) -> None:
    X, y = cancer
    model = make().fit(X, y)
    manifest = km.save(model, tmp_path / "pkg", input_example=X.head(5))
    assert manifest.flavor == "sklearn" and manifest.model_file == JSON_FILE
    assert set(manifest.files) == {JSON_FILE, ARRAYS_FILE, "input_example.json"}
    loaded = km.load(tmp_path / "pkg").raw
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    assert list(loaded.feature_names_in_) == list(X.columns)
    want = model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
    got = loaded.predict_proba(X) if hasattr(model, "predict_proba") else loaded.predict(X)
    np.testing.assert_array_equal(got, want)


def test_what_the_format_cannot_express_goes_to_skops(cancer: Any, tmp_path: Path) -> None:
    X, y = cancer
    seeded = RandomForestClassifier(n_estimators=3, random_state=np.random.RandomState(0)).fit(X, y)
    assert km.save(seeded, tmp_path / "rs").model_file == "model.skops"
    assert not (tmp_path / "rs" / JSON_FILE).exists() and not (tmp_path / "rs" / ARRAYS_FILE).exists()
    boosted = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X, y)
    assert km.save(boosted, tmp_path / "gb").model_file == "model.skops"
    np.testing.assert_array_equal(km.load(tmp_path / "rs").predict(X.head(9)), seeded.predict(X.head(9)))


def _reseal(folder: Path, name: str, data: bytes) -> None:
    """Write ``name`` and re-seal the manifest, as someone who can write both files would."""
    (folder / name).write_bytes(data)
    doc = json.loads((folder / MANIFEST_NAME).read_text())
    doc["files"][name] = {"digest": hash_file(folder / name), "size": len(data)}
    (folder / MANIFEST_NAME).write_text(json.dumps(doc))


@pytest.fixture
def forest(cancer: Any, tmp_path: Path) -> Path:
    X, y = cancer
    km.save(RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y), tmp_path / "pkg")
    return tmp_path / "pkg"


def _arrays(folder: Path) -> dict[str, Any]:
    with np.load(folder / ARRAYS_FILE, allow_pickle=False) as stored:
        return {k: stored[k] for k in stored.files}


def _write_arrays(folder: Path, arrays: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _reseal(folder, ARRAYS_FILE, buffer.getvalue())


def test_a_class_outside_the_list_is_never_built(forest: Path) -> None:
    doc = json.loads((forest / JSON_FILE).read_text())
    doc["model"]["state"]["estimator"]["estimator"] = "subprocess.Popen"
    _reseal(forest, JSON_FILE, json.dumps(doc).encode())
    with pytest.raises(
        InvalidInput, match=r"model.estimator is a subprocess.Popen, which this format never builds"
    ):
        km.load(forest)


def test_a_crafted_child_index_in_the_arrays_is_refused(forest: Path) -> None:
    arrays = _arrays(forest)
    arrays["nodes"]["left_child"][0] = 10**6
    _write_arrays(forest, arrays)
    with pytest.raises(UnsafeTree, match=r"estimators_\[0\].*node 0 has children 1000000"):
        km.load(forest)


def test_node_counts_that_do_not_add_up_are_refused(forest: Path) -> None:
    arrays = _arrays(forest)
    arrays["counts"][0] += 1
    _write_arrays(forest, arrays)
    with pytest.raises(InvalidInput, match=r"node counts do not add up"):
        km.load(forest)


def test_an_array_that_needs_pickle_is_refused(forest: Path) -> None:
    arrays = _arrays(forest)
    arrays["a0"] = np.array([object()], dtype=object)
    _write_arrays(forest, arrays)  # an object array: pickled inside the .npy
    with pytest.raises(InvalidInput, match=r"cannot be read as plain arrays"):
        km.load(forest)


def test_a_malformed_document_is_refused(forest: Path) -> None:
    _reseal(
        forest,
        JSON_FILE,
        b'{"format": 1, "model": {"estimator": "sklearn.tree._classes.DecisionTreeRegressor"}}',
    )
    with pytest.raises(InvalidInput, match=r"model has no attributes"):
        km.load(forest)
    _reseal(forest, JSON_FILE, b'{"format": 2}')
    with pytest.raises(InvalidInput, match=r"not tree format 1"):
        km.load(forest)
