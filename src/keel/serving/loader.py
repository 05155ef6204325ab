"""Loading a registered version for serving: fetch its package, verify every file, load, self-check.

The package is fetched from the artifact store into ``cache/serving/<digest>``
(verified against its tree digest by ``download_tree``); every load then runs
:func:`keel.models.load_dir`, which checks each file's hash against the
manifest before parsing anything, and the manifest's file list must be the
one the registry recorded. A pickled version is refused unless the
deployment opted in. The loaded model must answer its own input example
before it is served, and that answer decides whether requests may reach it
as a plain array (same answer as a DataFrame) or need pandas.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keel.context import Context
from keel.core.errors import CorruptObject, InvalidInput, PermissionDenied
from keel.models import Model, load_dir
from keel.models.manifest import read_manifest
from keel.registry.models import ModelVersionRow
from keel.serving.inputs import Batch, all_numeric, model_input

# Models fitted on a DataFrame warn on every array call; the fast path is checked equal at load.
warnings.filterwarnings("ignore", message="X does not have valid feature names")


@dataclass(frozen=True)
class Served:
    """One loaded version: what answers the requests routed to it."""

    version: int
    version_id: str
    model: Model
    as_array: bool

    def predict(self, batch: Batch) -> Any:
        return self.model.raw.predict(model_input(batch, as_array=self.as_array))


def _folder(ctx: Context, row: ModelVersionRow) -> Path:
    from keel.artifact_service.paths import download_tree

    home = ctx.settings.home_path
    root = (home / "cache" / "serving") if home is not None else Path(tempfile.gettempdir(), "keel-serving")
    folder = root / row.package_digest
    if folder.is_dir():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{row.package_digest}.{uuid.uuid4().hex}"
    download_tree(row.package_digest, staging, download=lambda d: ctx.artifacts.iter_bytes(d))
    try:
        staging.rename(folder)
    except OSError:  # another worker fetched it first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _example_batch(model: Model) -> Batch | None:
    example = model.input_example()
    if example is None:
        return None
    if hasattr(example, "columns"):
        return Batch(columns={str(c): example[c].to_numpy() for c in example.columns})
    return Batch(tensor=np.asarray(example))


def load_version(ctx: Context, row: ModelVersionRow, *, allow_unsafe_pickle: bool) -> Served:
    """Version ``row`` loaded, verified and checked to answer its input example.

    Raises PermissionDenied for a pickle the deployment did not opt into,
    CorruptObject when a file's bytes or the file list differ from the
    registry's record, InvalidInput when the model cannot answer its example.
    """
    if row.manifest.get("unsafe_pickle") and not allow_unsafe_pickle:
        raise PermissionDenied(
            f"version {row.number} is a pickle (loading it runs code); the deployment does not allow it",
            hint="keel deploy create ... --allow-unsafe-pickle if you trust whoever made it",
        )
    folder = _folder(ctx, row)
    if read_manifest(folder).model_dump(mode="json")["files"] != row.manifest.get("files"):
        shutil.rmtree(folder, ignore_errors=True)
        raise CorruptObject(f"version {row.number}'s cached package differs from the registry's record")
    model = load_dir(folder, unsafe_pickle=allow_unsafe_pickle)
    as_array = False
    batch = _example_batch(model)
    if batch is not None:
        try:
            slow = np.asarray(model.raw.predict(model_input(batch, as_array=batch.tensor is not None)))
        except Exception as exc:
            raise InvalidInput(f"version {row.number} does not answer its own input example: {exc}") from None
        if model.signature is not None and all_numeric(model.signature.inputs):
            try:
                fast = np.asarray(model.raw.predict(model_input(batch, as_array=True)))
                as_array = fast.shape == slow.shape and bool(np.all(fast == slow))
            except Exception:
                as_array = False
    return Served(version=row.number, version_id=row.id, model=model, as_array=as_array)
