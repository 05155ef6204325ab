"""Training/serving parity: a package carries its preprocessing and a fingerprint made at training time.

:func:`attach_preprocessing` adds to a saved package folder (before it is
registered) the data preparation the model expects, and a fingerprint: a
sample of raw rows with the features the preparation made of them *in the
training process*, plus per-feature sketches of the transformed training
data. The preparation is either a scikit-learn object (a Pipeline,
ColumnTransformer, scaler...) stored through skops with the same trusted
types the sklearn flavor uses, or a transform function referenced by import
path and the version of the distribution that provides it -- never stored as
code, so loading a package still executes nothing from it.

:func:`check_parity` loads the package the way the model server does
(:func:`keel.models.load_dir`: every file verified against its digest),
loads the preparation, replays the raw sample through it and compares the
result with the recorded features; a mismatch names the feature and the row.
The manifest's ``preprocessing_fingerprint`` (the registry's field for it)
holds the fingerprint file's digest, so the package's identity covers it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import numpy as np

from keel.artifacts.files import hash_file
from keel.core.errors import InvalidInput
from keel.models.flavors import installed_version
from keel.models.load import Model, load_dir
from keel.models.manifest import MANIFEST_NAME, Manifest, PackageFile, read_manifest
from keel.validation.parity_schemas import FeatureMismatch, ParityReport

FOLDER: Final = "preprocessing"
FINGERPRINT_FILE: Final = f"{FOLDER}/fingerprint.json"
TRANSFORM_FILE: Final = f"{FOLDER}/transform.skops"
#: Raw rows replayed by a parity check (a sample, not a dataset).
SAMPLE_ROWS: Final = 200
#: Types a preparation may hold beyond skops' defaults and the trees Keel vouches for. A numpy dtype
#: (SimpleImputer keeps the one it was fitted on) is rebuilt from its name: no code runs.
EXTRA_TRUSTED: Final = ("numpy.dtype",)
#: Mismatching cells listed in a report (all are counted).
MAX_LISTED: Final = 20


@dataclass
class Preprocessing:
    """A loaded preparation: ``transform(frame)`` gives the model's features as a 2-D float array."""

    kind: str
    obj: Any

    def transform(self, frame: Any) -> tuple[np.ndarray, list[str]]:
        """The features of ``frame`` and their names."""
        out = self.obj.transform(frame) if self.kind == "sklearn" else self.obj(frame)
        return _as_matrix(out, self.obj if self.kind == "sklearn" else None)


def _as_matrix(out: Any, fitted: Any) -> tuple[np.ndarray, list[str]]:
    if hasattr(out, "toarray"):  # a sparse matrix from a one-hot encoder
        out = out.toarray()
    names: list[str] | None = None
    if hasattr(out, "columns"):
        names = [str(c) for c in out.columns]
        out = out.to_numpy()
    matrix = np.asarray(out)
    if matrix.ndim == 1:
        matrix = matrix.reshape(-1, 1)
    if matrix.ndim != 2:
        raise InvalidInput(f"the preprocessing gave a {matrix.ndim}-D result; parity needs rows x features")
    if names is None and fitted is not None and hasattr(fitted, "get_feature_names_out"):
        try:
            names = [str(n) for n in fitted.get_feature_names_out()]
        except Exception:
            names = None
    if names is None or len(names) != matrix.shape[1]:
        names = [f"f{i}" for i in range(matrix.shape[1])]
    try:
        return matrix.astype(float), names
    except (TypeError, ValueError):
        return matrix.astype(str), names


def _function_reference(function: Any) -> dict[str, str]:
    """``{"path": "module:qualname", "distribution": ..., "version": ...}`` for an importable function."""
    module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        raise InvalidInput(
            f"{function!r} cannot be referenced by import path",
            hint="use a module-level function of an installed package (lambdas and __main__ cannot be re-imported)",
        )
    top = module.split(".", 1)[0]
    dists = metadata.packages_distributions().get(top, [])
    version = installed_version(dists[0]) if dists else None
    if not dists or version is None:
        raise InvalidInput(
            f"module {module!r} belongs to no installed distribution, so its version cannot be pinned",
            hint="put the transform in a package installed with pip (pip install -e . works)",
        )
    return {"path": f"{module}:{qualname}", "distribution": dists[0], "version": version}


def _import_function(reference: dict[str, str]) -> Any:
    module_name, _, qualname = reference["path"].partition(":")
    now = installed_version(reference["distribution"])
    if now != reference["version"]:
        raise InvalidInput(
            f"the transform {reference['path']} was recorded with {reference['distribution']}=="
            f"{reference['version']}; {now or 'none'} is installed",
            hint=f"pip install {reference['distribution']}=={reference['version']}",
        )
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(f"the transform {reference['path']} cannot be imported: {exc}") from None
    return obj


def _sketch(column: np.ndarray) -> dict[str, float | None]:
    if column.dtype.kind not in "fiub":
        return {"count": float(len(column))}
    values = column[~np.isnan(column)]
    if values.size == 0:
        return {"count": 0.0}
    q = np.quantile(values, [0.01, 0.5, 0.99])
    return {
        "count": float(values.size),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
        "p01": float(q[0]),
        "p50": float(q[1]),
        "p99": float(q[2]),
    }


def _jsonable(value: Any) -> Any:
    """A cell as exact JSON: floats keep every digit (``repr``), times are ISO text, NaN is null."""
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return None if value != value else value.isoformat()
    return value


def attach_preprocessing(
    folder: str | Path,
    preprocessing: Any,
    data: Any,
    *,
    sample_rows: int = SAMPLE_ROWS,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> Manifest:
    """Add ``preprocessing`` (fitted) and its fingerprint over raw ``data`` (a DataFrame) to a saved package.

    ``preprocessing`` is a fitted scikit-learn transformer or a module-level
    function taking and returning a table. Call it on the folder
    :func:`keel.models.save` wrote, before registering it. Raises
    InvalidInput for a package that has preprocessing already, empty data, a
    function that cannot be pinned, or an object skops cannot store safely;
    the folder is unchanged then.
    """
    import pandas as pd

    root = Path(folder)
    manifest = read_manifest(root)
    if manifest.preprocessing_fingerprint is not None or (root / FOLDER).exists():
        raise InvalidInput(f"the package at {root} carries preprocessing already")
    if not isinstance(data, pd.DataFrame):
        raise InvalidInput("data must be a pandas DataFrame of raw rows (as the model server receives them)")
    if len(data) == 0:
        raise InvalidInput("data has no rows: the fingerprint needs raw rows to replay")
    if sample_rows < 1:
        raise InvalidInput(f"sample_rows must be at least 1, not {sample_rows}")
    if not (rtol >= 0 and atol >= 0):
        raise InvalidInput("rtol and atol must be non-negative")
    blob: bytes | None = None
    function: dict[str, str] | None = None
    if callable(preprocessing) and not hasattr(preprocessing, "transform"):
        function = _function_reference(preprocessing)
        prep = Preprocessing("function", preprocessing)
    else:
        blob = _skops_bytes(preprocessing)
        prep = Preprocessing("sklearn", preprocessing)
    try:
        full, names = prep.transform(data)
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(f"the preprocessing failed on data: {type(exc).__name__}: {exc}") from None
    sample = data.head(sample_rows)
    features = full[: len(sample)]
    doc = {
        "format": 1,
        "kind": prep.kind,
        "transform_file": TRANSFORM_FILE if blob is not None else None,
        "function": function,
        "raw": {
            "columns": [str(c) for c in sample.columns],
            "data": [[_jsonable(v) for v in row] for row in sample.itertuples(index=False)],
        },
        "dtypes": {str(c): str(t) for c, t in sample.dtypes.items()},
        "features": names,
        "transformed": [[_jsonable(v) for v in row] for row in features.tolist()],
        "sketches": {n: _sketch(full[:, i]) for i, n in enumerate(names)},
        "rtol": rtol,
        "atol": atol,
    }
    (root / FOLDER).mkdir()
    try:
        if blob is not None:
            (root / TRANSFORM_FILE).write_bytes(blob)
        (root / FINGERPRINT_FILE).write_text(json.dumps(doc, sort_keys=True))
        files = dict(manifest.files)
        for name in (TRANSFORM_FILE, FINGERPRINT_FILE):
            path = root / name
            if path.is_file():
                files[name] = PackageFile(digest=hash_file(path), size=path.stat().st_size)
        updated = manifest.model_copy(
            update={"files": files, "preprocessing_fingerprint": files[FINGERPRINT_FILE].digest}
        )
        (root / MANIFEST_NAME).write_text(updated.dumps())
    except BaseException:
        import shutil

        shutil.rmtree(root / FOLDER, ignore_errors=True)
        (root / MANIFEST_NAME).write_text(manifest.dumps())
        raise
    return updated


def _skops_bytes(obj: Any) -> bytes:
    if not hasattr(obj, "transform"):
        raise InvalidInput(
            f"a {type(obj).__name__} is not a preprocessing: give a fitted transformer or a function"
        )
    import skops.io as sio

    from keel.models.trees import VOUCHED_TYPES

    data: bytes = sio.dumps(obj)
    untrusted = sorted(set(sio.get_untrusted_types(data=data)) - {*VOUCHED_TYPES, *EXTRA_TRUSTED})
    if untrusted:
        raise InvalidInput(
            f"skops cannot store {', '.join(untrusted)} so that it loads without running code",
            hint="use scikit-learn's own transformers, or a transform function of an installed package",
        )
    return data


def load_preprocessing(model: Model) -> tuple[Preprocessing, dict[str, Any]] | None:
    """The verified package's preparation and fingerprint; None when it carries none."""
    manifest = model.manifest
    if manifest.preprocessing_fingerprint is None:
        return None
    entry = manifest.files.get(FINGERPRINT_FILE)
    if entry is None or entry.digest != manifest.preprocessing_fingerprint:
        raise InvalidInput(f"the package's fingerprint {FINGERPRINT_FILE} is missing or not the one recorded")
    try:
        doc = json.loads((model.path / FINGERPRINT_FILE).read_text())
        kind = doc["kind"]
    except (ValueError, KeyError) as exc:
        raise InvalidInput(f"{FINGERPRINT_FILE} cannot be read: {exc}") from None
    if kind == "function":
        return Preprocessing("function", _import_function(doc["function"])), doc
    import skops.io as sio

    from keel.models.trees import VOUCHED_TYPES, vouch

    try:
        obj = sio.load(model.path / doc["transform_file"], trusted=[*VOUCHED_TYPES, *EXTRA_TRUSTED])
    except Exception as exc:
        raise InvalidInput(
            f"{doc['transform_file']} could not be loaded: {type(exc).__name__}: {exc}"
        ) from None
    vouch(obj)
    return Preprocessing("sklearn", obj), doc


def raw_sample(doc: dict[str, Any]) -> Any:
    """The fingerprint's raw rows as a DataFrame with their recorded dtypes."""
    import pandas as pd

    raw = doc["raw"]
    frame = pd.DataFrame(raw["data"], columns=raw["columns"])
    for column, dtype in doc.get("dtypes", {}).items():
        if column in frame.columns:
            # Left as JSON gave it when the dtype does not apply; a real difference then shows as a mismatch.
            with contextlib.suppress(TypeError, ValueError):
                frame[column] = frame[column].astype(dtype)
    return frame


def compare_features(
    expected: np.ndarray, actual: np.ndarray, names: list[str], *, rtol: float, atol: float
) -> tuple[int, list[FeatureMismatch]]:
    """How many cells differ beyond the tolerances, and the first :data:`MAX_LISTED` (feature, row)."""
    if expected.dtype.kind in "fiub" and actual.dtype.kind in "fiub":
        close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        close = expected.astype(str) == actual.astype(str)
    rows, cols = np.nonzero(~close)
    listed = [
        FeatureMismatch(
            feature=names[c], row=int(r), expected=_jsonable(expected[r, c]), actual=_jsonable(actual[r, c])
        )
        for r, c in zip(rows[:MAX_LISTED], cols[:MAX_LISTED], strict=True)
    ]
    return int(rows.size), listed


def check_parity(folder: str | Path, *, rtol: float | None = None, atol: float | None = None) -> ParityReport:
    """Replay the package's raw sample through its preparation as the server loads it; compare features.

    Raises InvalidInput for a package without preprocessing or one whose
    preparation cannot be loaded (a changed file fails its digest first);
    a mismatch is a failing report, not an error.
    """
    model = load_dir(folder)
    loaded = load_preprocessing(model)
    if loaded is None:
        raise InvalidInput(
            f"the package at {folder} carries no preprocessing to check",
            hint="add it with keel.validation.attach_preprocessing(folder, transformer, raw_rows) before registering",
        )
    prep, doc = loaded
    rtol = float(doc.get("rtol", 1e-6)) if rtol is None else rtol
    atol = float(doc.get("atol", 1e-9)) if atol is None else atol
    frame = raw_sample(doc)
    names: list[str] = list(doc["features"])
    cells = [[np.nan if v is None else v for v in row] for row in doc["transformed"]]
    try:
        expected = np.asarray(cells, dtype=float).reshape(len(frame), len(names))
    except (TypeError, ValueError):
        expected = np.asarray(cells, dtype=object).astype(str).reshape(len(frame), len(names))
    base: dict[str, Any] = {
        "fingerprint": model.manifest.preprocessing_fingerprint,
        "kind": prep.kind,
        "rows": len(frame),
        "features": len(names),
        "rtol": rtol,
        "atol": atol,
    }
    try:
        actual, got_names = prep.transform(frame)
    except Exception as exc:
        return ParityReport(
            **base,
            passed=False,
            mismatched=len(frame),
            message=f"the preparation failed: {type(exc).__name__}: {exc}",
        )
    if actual.shape != expected.shape:
        return ParityReport(
            **base,
            passed=False,
            mismatched=len(frame),
            message=f"the preparation now gives {actual.shape[1]} features; training gave {len(names)}",
        )
    if got_names != names and not all(n.startswith("f") for n in got_names):
        moved = next(i for i, (a, b) in enumerate(zip(names, got_names, strict=True)) if a != b)
        return ParityReport(
            **base,
            passed=False,
            mismatched=len(frame),
            message=f"feature {moved} is {got_names[moved]!r} now; training called it {names[moved]!r}",
        )
    count, listed = compare_features(expected, actual, names, rtol=rtol, atol=atol)
    message = "every feature of every sampled row matches"
    if count:
        first = listed[0]
        message = (
            f"{count} cell(s) differ; first: feature {first.feature!r} row {first.row}: "
            f"training {first.expected!r}, serving {first.actual!r}"
        )
    return ParityReport(**base, passed=count == 0, mismatched=count, mismatches=listed, message=message)
