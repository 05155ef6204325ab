"""Training/serving parity: preprocessing carried in the package, replayed as the server loads it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from keel.core.errors import CorruptObject, InvalidInput
from keel.models import MANIFEST_NAME
from keel.models.manifest import read_manifest
from keel.validation import attach_preprocessing, check_parity
from keel.validation.parity import FINGERPRINT_FILE, TRANSFORM_FILE, compare_features

from .models_fixture import CATEGORICAL, NUMERIC, labelled, package


def test_a_package_carries_its_preprocessing_and_parity_holds(tmp_path: Path) -> None:
    frame = labelled(400, 1)
    folder = package(tmp_path / "pkg", frame)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert {FINGERPRINT_FILE, TRANSFORM_FILE} <= set(manifest["files"])
    assert manifest["preprocessing_fingerprint"] == manifest["files"][FINGERPRINT_FILE]["digest"]
    doc = json.loads((folder / FINGERPRINT_FILE).read_text())
    assert doc["features"][:2] == ["num__tenure", "num__spend"] and len(doc["transformed"]) == 200
    assert set(doc["sketches"]["num__tenure"]) >= {"mean", "std", "p01", "p99"}
    report = check_parity(folder, rtol=0, atol=0)  # exact: the replay is the same arithmetic
    assert report.passed and report.mismatched == 0 and report.rows == 200 and report.features == 5
    assert read_manifest(folder).preprocessing_fingerprint == report.fingerprint


def test_a_mismatch_names_feature_and_row(tmp_path: Path) -> None:
    frame = labelled(300, 2)
    folder = package(tmp_path / "pkg", frame)
    # Serving-side drift in the preparation: refit the scaler on other data and swap the stored transform.
    import skops.io as sio

    from .models_fixture import preprocessing

    other = preprocessing(labelled(300, 99))
    (folder / TRANSFORM_FILE).write_bytes(sio.dumps(other))
    with pytest.raises(CorruptObject, match=r"transform\.skops"):
        check_parity(folder)  # the digest catches a swapped file before anything is loaded
    _rehash(folder, TRANSFORM_FILE)
    report = check_parity(folder)
    assert not report.passed and report.mismatched > 0
    first = report.mismatches[0]
    assert first.feature == "num__tenure" and first.row == 0 and first.expected != first.actual
    assert "feature 'num__tenure' row 0" in report.message


def _rehash(folder: Path, name: str) -> None:
    """Rewrite the manifest entry of ``name`` as if the swapped file had been packaged (a real mismatch)."""
    from keel.artifacts.files import hash_file

    path = folder / MANIFEST_NAME
    doc = json.loads(path.read_text())
    doc["files"][name] = {"digest": hash_file(folder / name), "size": (folder / name).stat().st_size}
    path.write_text(json.dumps(doc))


def test_compare_features_tolerances_and_nan() -> None:
    expected = np.array([[1.0, np.nan], [2.0, 3.0]])
    actual = np.array([[1.0 + 1e-12, np.nan], [2.0, 3.1]])
    count, listed = compare_features(expected, actual, ["a", "b"], rtol=1e-9, atol=0)
    assert count == 1 and (listed[0].feature, listed[0].row) == ("b", 1)
    assert compare_features(expected, actual, ["a", "b"], rtol=0.1, atol=0)[0] == 0


def test_a_transform_function_is_pinned_by_import_path_and_version(tmp_path: Path) -> None:
    frame = labelled(100, 3)[NUMERIC]
    folder = package(tmp_path / "pkg", labelled(100, 3), with_preprocessing=False)
    attach_preprocessing(folder, np.log1p, frame)
    doc = json.loads((folder / FINGERPRINT_FILE).read_text())
    assert doc["function"]["path"] == "numpy:log1p" and doc["function"]["distribution"] == "numpy"
    assert not (folder / TRANSFORM_FILE).exists()  # no code stored
    assert check_parity(folder).passed
    doc["function"]["version"] = "0.0.1"
    (folder / FINGERPRINT_FILE).write_text(json.dumps(doc))
    _rehash(folder, FINGERPRINT_FILE)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["preprocessing_fingerprint"] = manifest["files"][FINGERPRINT_FILE]["digest"]
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(InvalidInput, match=r"numpy==0\.0\.1"):
        check_parity(folder)


def test_bad_inputs_are_refused_and_leave_the_package_as_it_was(tmp_path: Path) -> None:
    frame = labelled(100, 4)
    folder = package(tmp_path / "pkg", frame, with_preprocessing=False)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    raw = frame[NUMERIC + CATEGORICAL]
    with pytest.raises(InvalidInput, match="carries no preprocessing"):
        check_parity(folder)
    with pytest.raises(InvalidInput, match="no rows"):
        attach_preprocessing(folder, np.log1p, raw.head(0))
    with pytest.raises(InvalidInput, match="import path"):
        attach_preprocessing(folder, lambda f: f, raw)
    with pytest.raises(InvalidInput, match="not a preprocessing"):
        attach_preprocessing(folder, object(), raw)
    with pytest.raises(InvalidInput, match="DataFrame"):
        attach_preprocessing(folder, np.log1p, raw.to_numpy())
    with pytest.raises(InvalidInput, match="preprocessing failed"):
        attach_preprocessing(folder, np.log1p, raw)  # text column: log1p cannot take it
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    attach_preprocessing(folder, np.log1p, raw[NUMERIC])
    with pytest.raises(InvalidInput, match="already"):
        attach_preprocessing(folder, np.log1p, raw[NUMERIC])
