"""The torch flavor: weights as safetensors, the module rebuilt from a spec; no pickle runs on load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import keel.models as km
from keel.core.errors import CorruptObject, InvalidInput
from keel.models.manifest import MANIFEST_NAME


class Scorer(torch.nn.Module):
    """A custom module that keeps its constructor arguments as attributes (so it can be rebuilt)."""

    def __init__(self, n_features: int, hidden: int = 8) -> None:
        super().__init__()
        self.n_features, self.hidden = n_features, hidden
        self.body = torch.nn.Sequential(torch.nn.Linear(n_features, hidden), torch.nn.ReLU())
        self.head = torch.nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.body(x))
        return out


class Forgetful(torch.nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(width, 1)


X = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")


def _mlp() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(16, 3, bias=False)
    )


@pytest.mark.parametrize("make", [_mlp, lambda: Scorer(4, hidden=5)], ids=["sequential", "custom"])
def test_a_module_round_trips_with_the_same_outputs(make: object, tmp_path: Path) -> None:
    module = make()  # type: ignore[operator]
    manifest = km.save(module, tmp_path / "pkg", input_example=X)
    assert manifest.flavor == "torch" and not manifest.unsafe_pickle
    assert set(manifest.files) == {"model.safetensors", "module.json", "input_example.json"}
    assert manifest.frameworks["torch"].startswith("2.13")
    assert manifest.signature is not None and manifest.signature.outputs.tensor is not None
    loaded = km.load(tmp_path / "pkg")
    module.eval()
    with torch.no_grad():
        want = module(torch.as_tensor(X)).numpy()
    assert np.array_equal(loaded.predict(X), want)
    with pytest.raises(InvalidInput, match=r"input dimension 1 is 3; the model takes 4"):
        loaded.predict(X[:, :3])


def test_the_files_hold_no_pickle(tmp_path: Path) -> None:
    km.save(_mlp(), tmp_path / "pkg")
    weights = (tmp_path / "pkg" / "model.safetensors").read_bytes()
    header = int.from_bytes(weights[:8], "little")
    assert json.loads(weights[8 : 8 + header])["0.weight"]["shape"] == [16, 4]  # safetensors: JSON + raw
    spec = json.loads((tmp_path / "pkg" / "module.json").read_text())["module"]
    assert spec["class"] == "torch.nn.modules.container:Sequential"
    assert spec["args"][0]["kwargs"] == {"in_features": 4, "out_features": 16, "bias": True}
    assert spec["args"][3]["kwargs"]["bias"] is False


def test_a_module_that_cannot_be_rebuilt_is_refused_naming_the_argument(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"takes 'width' but keeps no attribute of that name"):
        km.save(Forgetful(3), tmp_path / "pkg")
    assert not (tmp_path / "pkg").exists()

    class Local(torch.nn.Module):
        pass

    with pytest.raises(InvalidInput, match=r"defined in .*which a loader cannot import"):
        km.save(Local(), tmp_path / "pkg")


def _reseal(folder: Path, name: str, data: bytes) -> None:
    """Write ``name`` and re-seal the manifest, as an attacker who can write both would."""
    from keel.artifacts.files import hash_file

    (folder / name).write_bytes(data)
    doc = json.loads((folder / MANIFEST_NAME).read_text())
    doc["files"][name] = {"digest": hash_file(folder / name), "size": len(data)}
    (folder / MANIFEST_NAME).write_text(json.dumps(doc))


def test_a_spec_naming_a_class_that_is_not_a_module_is_refused(tmp_path: Path) -> None:
    km.save(_mlp(), tmp_path / "pkg")
    doc = {"format": 1, "module": {"class": "os:system", "args": [], "kwargs": {}}}
    _reseal(tmp_path / "pkg", "module.json", json.dumps(doc).encode())
    with pytest.raises(InvalidInput, match=r"os:system is not a torch.nn.Module"):
        km.load(tmp_path / "pkg")


def test_weights_that_do_not_fit_the_module_are_refused(tmp_path: Path) -> None:
    km.save(_mlp(), tmp_path / "pkg")
    km.save(torch.nn.Sequential(torch.nn.Linear(4, 2)), tmp_path / "other")
    _reseal(tmp_path / "pkg", "model.safetensors", (tmp_path / "other" / "model.safetensors").read_bytes())
    with pytest.raises(InvalidInput, match=r"model.safetensors does not fit the module"):
        km.load(tmp_path / "pkg")


def test_a_changed_weight_byte_is_refused(tmp_path: Path) -> None:
    km.save(_mlp(), tmp_path / "pkg")
    path = tmp_path / "pkg" / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptObject, match=r"'model.safetensors' was changed"):
        km.load(tmp_path / "pkg")
