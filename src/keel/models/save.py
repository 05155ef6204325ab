"""``save``: turn a fitted model into a package folder (files + manifest), checked before it is written.

The model answers its input example once, here: that answer gives the
output signature, and an example the model cannot take is refused now, not
at serving time. Requirements are the flavor's own distributions at their
installed versions (not a freeze of the environment, which is what makes
MLflow's ``log_model`` take seconds).
"""

from __future__ import annotations

import functools
import json
import platform
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np

from keel.artifacts.files import hash_file
from keel.core.errors import InvalidInput
from keel.models.flavors import Flavor, flavor_for, installed_version
from keel.models.manifest import MANIFEST_NAME, Manifest, PackageFile
from keel.models.signature import Signature, infer_signature

EXAMPLE_FILE: Final = "input_example.json"
#: Rows of the input example kept in the package (an example, not a dataset).
EXAMPLE_ROWS: Final = 20


def encode_example(example: Any) -> bytes:
    """The input example as JSON: a table as pandas' ``split`` layout, an array as nested lists."""
    if type(example).__name__ == "DataFrame":
        text: str = example.head(EXAMPLE_ROWS).to_json(orient="split", date_format="iso", index=False)
        return text.encode()
    array = np.asarray(example)[:EXAMPLE_ROWS]
    return json.dumps({"array": array.tolist(), "dtype": str(array.dtype)}).encode()


def decode_example(data: bytes, signature: Signature | None) -> Any:
    """The input example back, with the dtypes the signature recorded."""
    doc = json.loads(data)
    if "array" in doc:
        return np.asarray(doc["array"], dtype=doc["dtype"])
    import pandas as pd

    frame = pd.DataFrame(doc["data"], columns=doc["columns"])
    if signature is not None and signature.inputs.columns is not None:
        for spec in signature.inputs.columns:
            if spec.name in frame.columns and spec.kind in ("integer", "float", "bool"):
                frame[spec.name] = frame[spec.name].astype(spec.dtype)
    return frame


def _predict(flavor: Flavor, model: Any, example: Any) -> Any:
    """The model's answer to its example: by the flavor's ``predict`` if it has one (a torch module has none)."""
    by_flavor = getattr(flavor, "predict", None)
    predict = getattr(model, "predict", None)
    if by_flavor is not None:
        predict = functools.partial(by_flavor, model)
    if predict is None:
        raise InvalidInput(f"unsupported object: a {type(model).__name__} has no predict method")
    try:
        return predict(example)
    except Exception as exc:
        raise InvalidInput(
            f"the input example does not fit the model's predict: {type(exc).__name__}: {exc}",
            hint="give rows shaped as the data the model was fitted on",
        ) from None


def requirements(packages: list[str]) -> tuple[dict[str, str], list[str]]:
    """``({dist: version}, ["dist==version", ...])`` for the installed ones of ``packages``."""
    found = {dist: v for dist in packages if (v := installed_version(dist)) is not None}
    return found, [f"{dist}=={v}" for dist, v in found.items()]


def save(
    model: Any,
    path: str | Path,
    *,
    input_example: Any = None,
    unsafe_pickle: bool = False,
    metrics: Mapping[str, float] | None = None,
    kpi_report: Mapping[str, Any] | None = None,
    extra_requirements: list[str] | None = None,
    converted_from: Mapping[str, Any] | None = None,
) -> Manifest:
    """Write ``model`` as a package into the new folder ``path``; returns its manifest.

    Raises InvalidInput for an unsupported object, an example the model
    cannot predict on, or a ``path`` that exists already; nothing is left
    behind on failure.
    """
    folder = Path(path)
    if folder.exists():
        raise InvalidInput(f"{folder} exists already; a package is written into a new folder")
    flavor = flavor_for(model, unsafe_pickle=unsafe_pickle)
    signature = None
    if input_example is not None:
        signature = infer_signature(input_example, _predict(flavor, model, input_example))
    folder.mkdir(parents=True)
    try:
        model_file = flavor.save(model, folder)
        if input_example is not None:
            (folder / EXAMPLE_FILE).write_bytes(encode_example(input_example))
        packages = flavor.packages()
        if type(input_example).__name__ == "DataFrame":
            packages.append("pandas")
        frameworks, pinned = requirements(packages)
        files = {
            p.relative_to(folder).as_posix(): PackageFile(digest=hash_file(p), size=p.stat().st_size)
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        manifest = Manifest(
            flavor=flavor.name,
            model_file=model_file,
            model_class=f"{type(model).__module__}.{type(model).__qualname__}",
            frameworks=frameworks,
            python=platform.python_version(),
            requirements=pinned + list(extra_requirements or []),
            signature=signature,
            input_example=EXAMPLE_FILE if input_example is not None else None,
            files=files,
            metrics=dict(metrics or {}),
            kpi_report=dict(kpi_report) if kpi_report is not None else None,
            unsafe_pickle=flavor.name == "pickle",
            converted_from=dict(converted_from) if converted_from is not None else None,
            created_at=datetime.now(UTC),
        )
        (folder / MANIFEST_NAME).write_text(manifest.dumps())
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return manifest
