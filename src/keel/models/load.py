"""``verify`` and ``load``: a package is read only after every file matches its digest.

A changed byte, a truncated file, a file the manifest names but the folder
lacks, or a file the manifest does not name: each is refused naming the
file, before any of them is parsed. A pickle is loaded only when the caller
also says ``unsafe_pickle=True``. A model saved under another minor version
of its framework loads with a warning; another major version is refused.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.artifacts.files import hash_file
from keel.core.errors import CorruptObject, InvalidInput, PermissionDenied
from keel.models.flavors import get_flavor, installed_version
from keel.models.manifest import MANIFEST_NAME, Manifest, read_manifest
from keel.models.save import decode_example
from keel.models.signature import Signature, check_input


class FrameworkVersionWarning(UserWarning):
    """The model was saved under another minor version of its framework."""


def verify(path: str | Path) -> Manifest:
    """Check every file of the package at ``path`` against the manifest; returns the manifest.

    Raises CorruptObject naming the first file whose bytes changed or that is
    missing, and InvalidInput for a file the manifest does not list.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder holding a model package")
    manifest = read_manifest(folder)
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    present.discard(MANIFEST_NAME)
    for name, entry in sorted(manifest.files.items()):
        file = folder / name
        if name not in present:
            raise CorruptObject(f"model package file {name!r} is missing (its manifest names it)")
        size = file.stat().st_size
        if size != entry.size:
            raise CorruptObject(
                f"model package file {name!r} has {size} bytes; its manifest says {entry.size}"
            )
        if hash_file(file) != entry.digest:
            raise CorruptObject(f"model package file {name!r} was changed: its bytes do not match its digest")
    extra = sorted(present - set(manifest.files))
    if extra:
        raise InvalidInput(f"model package holds {extra[0]!r}, which its manifest does not list")
    return manifest


def check_framework(manifest: Manifest, framework: str) -> None:
    """Warn on another minor version of the framework; refuse another major version or a missing one."""
    saved = manifest.frameworks.get(framework)
    if saved is None or framework == "python":
        return
    now = installed_version(framework)
    if now is None:
        raise InvalidInput(f"the model needs {framework}=={saved}, which is not installed")
    if now.split(".")[0] != saved.split(".")[0]:
        raise InvalidInput(
            f"the model was saved with {framework} {saved}; {now} (another major version) cannot load it"
        )
    if now.split(".")[:2] != saved.split(".")[:2]:
        warnings.warn(
            f"the model was saved with {framework} {saved} and is loaded with {now}",
            FrameworkVersionWarning,
            stacklevel=3,
        )


@dataclass
class Model:
    """A loaded package: the framework's object plus its manifest; ``predict`` checks its input."""

    raw: Any
    manifest: Manifest
    path: Path

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature

    def _checked(self, data: Any) -> Any:
        return data if self.signature is None else check_input(self.signature.inputs, data)

    def predict(self, data: Any) -> Any:
        """The model's predictions, after the input is checked against the signature (InvalidInput naming the field)."""
        return self.raw.predict(self._checked(data))

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities, for classifiers that have them."""
        method = getattr(self.raw, "predict_proba", None)
        if method is None:
            raise InvalidInput(f"a {type(self.raw).__name__} has no predict_proba")
        return method(self._checked(data))

    def input_example(self) -> Any:
        """The example the model was saved with (None if it had none)."""
        if self.manifest.input_example is None:
            return None
        return decode_example((self.path / self.manifest.input_example).read_bytes(), self.signature)


def load_dir(path: str | Path, *, unsafe_pickle: bool = False) -> Model:
    """Verify and load the package in folder ``path``."""
    folder = Path(path)
    manifest = verify(folder)
    if manifest.unsafe_pickle and not unsafe_pickle:
        raise PermissionDenied(
            f"the model package at {folder} is a pickle: loading it runs code",
            hint="pass unsafe_pickle=True if you trust whoever made it",
        )
    flavor = get_flavor(manifest.flavor)
    check_framework(manifest, flavor.framework)
    return Model(raw=flavor.load(folder, manifest), manifest=manifest, path=folder)
