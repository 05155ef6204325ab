"""The manifest of a model package: what the files are, how to load them, and what they promise.

A package is a folder: the model's files plus ``keel-model.json``. The
manifest names every other file with its BLAKE3 digest and size, so a load
can refuse a changed byte before any file is parsed; the folder stored in
the artifact store is one tree, whose digest is the package's identity.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, Field, ValidationError

from keel.core.errors import InvalidInput
from keel.models.signature import Signature

#: The manifest's file name inside every package.
MANIFEST_NAME: Final = "keel-model.json"
#: Bumped when the manifest's meaning changes; a loader refuses versions it does not know.
FORMAT_VERSION: Final = 1


class PackageFile(BaseModel):
    """One file of the package: its BLAKE3 digest (as the artifact store names it) and size."""

    digest: str
    size: int


class Manifest(BaseModel):
    """Everything a loader, a registry and a server need to know about a package, without loading it."""

    format_version: int = FORMAT_VERSION
    flavor: str
    model_file: str
    model_class: str
    frameworks: dict[str, str] = Field(description="the flavor's packages and the versions that saved it")
    python: str
    requirements: list[str] = Field(description="pip requirements pinned from the saving environment")
    signature: Signature | None = None
    input_example: str | None = Field(default=None, description="the example's file in the package")
    files: dict[str, PackageFile]
    metrics: dict[str, float] = {}
    kpi_report: dict[str, Any] | None = None
    preprocessing_fingerprint: str | None = Field(
        default=None, description="filled by the validation stage: the fingerprint of the data preparation"
    )
    unsafe_pickle: bool = Field(default=False, description="the model file is a pickle: loading runs code")
    converted_from: dict[str, Any] | None = Field(
        default=None,
        description="for a converted package: the source (its model_version ref) and the parity figures",
    )
    created_at: datetime

    def dumps(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def read_manifest(folder: Path) -> Manifest:
    """The package manifest in ``folder``; InvalidInput naming what is wrong with it."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise InvalidInput(f"{folder} is not a model package: it has no {MANIFEST_NAME}")
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "the document"
        raise InvalidInput(f"{path}: {where} is not valid: {error['msg']}") from None
    if manifest.format_version != FORMAT_VERSION:
        raise InvalidInput(
            f"{path}: package format {manifest.format_version} is not one this Keel reads ({FORMAT_VERSION})",
            hint="upgrade Keel to load it",
        )
    if manifest.model_file not in manifest.files:
        raise InvalidInput(f"{path}: the model file {manifest.model_file!r} is not among the package's files")
    if manifest.input_example is not None and manifest.input_example not in manifest.files:
        raise InvalidInput(f"{path}: the input example {manifest.input_example!r} is not among its files")
    return manifest
