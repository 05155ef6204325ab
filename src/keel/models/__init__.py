"""Model packages (L1): a fitted model as files plus a manifest, in formats that run no code on load.

- :func:`save` writes a package folder: the model's files, an input example,
  and ``keel-model.json`` (:class:`Manifest`: flavor, framework versions,
  :class:`Signature`, pinned requirements, file digests, metrics);
- :func:`verify` checks every file against its digest;
- :func:`load` gives a :class:`Model` whose ``predict`` checks its input;
  it takes a package folder, or a registry reference (``churn@production``,
  ``churn@3``, ``model_version:<id>``) that a source registered in the
  ``keel.model_sources`` entry-point group (Keel's SDK) fetches first.

Flavors (how a kind of model becomes files) are entry points of the
``keel.model_flavors`` group, Keel's own included: ``sklearn`` (skops, or
Keel's tree format for forests), ``torch`` (safetensors + a module spec),
``onnx`` (onnxruntime) and ``pickle`` (only by explicit choice); see
:mod:`keel.models.flavors`. :func:`keel.models.convert.to_onnx` turns a
scikit-learn package into an ONNX one after checking both answer alike.

Tables, versions and aliases belong to the registry capability, not here.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from keel.core.errors import ConfigError
from keel.models.load import Model, load_dir, verify
from keel.models.manifest import MANIFEST_NAME, Manifest
from keel.models.save import save
from keel.models.signature import Signature

__all__ = ["MANIFEST_NAME", "Manifest", "Model", "Signature", "load", "load_dir", "save", "verify"]


def load(source: str | Path, *, unsafe_pickle: bool = False, **options: Any) -> Model:
    """Load a model: a package folder, or a registry reference fetched (verified) by the SDK.

    ``options`` go to the source (``project=``, ``client=``). Raises what
    :func:`verify` and the flavor raise, NotFound for an unknown reference.
    """
    if isinstance(source, Path) or Path(source).is_dir():
        return load_dir(source, unsafe_pickle=unsafe_pickle)
    sources = {ep.name: ep for ep in metadata.entry_points(group="keel.model_sources")}
    if "registry" not in sources:
        raise ConfigError(
            "no model source is registered to resolve a registry reference",
            hint="reinstall Keel (pip install -e .) so its keel.model_sources entry point exists",
        )
    fetch = sources["registry"].load()
    folder: Path = fetch(str(source), **options)
    return load_dir(folder, unsafe_pickle=unsafe_pickle)
