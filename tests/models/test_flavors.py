"""Flavors are entry points: Keel's own come from its installed metadata, and a third party's plugs in the same way."""

from __future__ import annotations

import importlib
import json
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import keel.models as km
from keel.core.errors import ConfigError, InvalidInput, MissingExtra
from keel.models.flavors import GROUP, flavor_for, flavor_names, forget_flavors, get_flavor, registered

ROOT = Path(__file__).resolve().parents[2]

#: A third party's whole flavor: a "threshold" model stored as JSON (no code on load).
PLUGIN = """
import json
from pathlib import Path


class Threshold:
    def __init__(self, cut):
        self.cut = cut

    def predict(self, x):
        import numpy as np
        return (np.asarray(x)[:, 0] > self.cut).astype("int64")


class ThresholdFlavor:
    name = "threshold"
    framework = "acme-threshold"

    def accepts(self, model):
        return isinstance(model, Threshold)

    def packages(self):
        return ["acme-threshold"]

    def save(self, model, folder):
        (folder / "cut.json").write_text(json.dumps({"cut": model.cut}))
        return "cut.json"

    def load(self, folder, manifest):
        return Threshold(json.loads((folder / manifest.model_file).read_text())["cut"])


FLAVOR = ThresholdFlavor()
"""


def install_fake_distribution(root: Path, name: str, points: dict[str, str], module: str = "") -> None:
    """What ``pip install`` leaves behind, reduced to what entry points need: a dist-info folder (and a module)."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"  # as pip names it
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "\n".join(f"{key} = {value}" for key, value in points.items())
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}\n")
    if module:
        (root / f"{name.replace('-', '_')}.py").write_text(textwrap.dedent(module))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for fake installed packages; discovery is forgotten before and after."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    forget_flavors()
    yield root
    forget_flavors()


def test_builtin_flavors_are_the_entry_points_keels_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][GROUP]
    points = registered()
    assert {n: p.value for n, p in points.items() if n in declared} == declared, (
        "stale install: pip install -e ."
    )
    assert all(getattr(points[n].dist, "name", None) == "keel" for n in declared)
    assert get_flavor("sklearn").name == "sklearn" and get_flavor("pickle").name == "pickle"


def test_pickle_never_volunteers() -> None:
    with pytest.raises(InvalidInput, match=r"unsupported object: no flavor stores a builtins.dict"):
        flavor_for({"a": 1})
    assert flavor_for({"a": 1}, unsafe_pickle=True).name == "pickle"


def test_a_third_party_flavor_saves_loads_and_is_asked_first(site: Path, tmp_path: Path) -> None:
    install_fake_distribution(site, "acme-threshold", {"threshold": "acme_threshold:FLAVOR"}, PLUGIN)
    acme_threshold: Any = importlib.import_module("acme_threshold")

    assert flavor_names()[0] == "threshold"  # third parties before Keel's own
    example = np.array([[0.2, 1.0], [0.9, 0.0]])
    manifest = km.save(acme_threshold.Threshold(0.5), tmp_path / "pkg", input_example=example)
    assert manifest.flavor == "threshold" and manifest.model_file == "cut.json"
    assert manifest.frameworks == {"acme-threshold": "1.0"}  # pinned like any flavor's packages
    assert json.loads((tmp_path / "pkg" / "cut.json").read_text()) == {"cut": 0.5}
    model = km.load(tmp_path / "pkg")
    assert list(model.predict(example)) == [0, 1]


def test_a_package_of_an_uninstalled_flavor_is_refused_naming_it(site: Path, tmp_path: Path) -> None:
    install_fake_distribution(site, "acme-threshold", {"threshold": "acme_threshold:FLAVOR"}, PLUGIN)
    acme_threshold: Any = importlib.import_module("acme_threshold")

    km.save(acme_threshold.Threshold(0.5), tmp_path / "pkg")
    (site / "acme_threshold-1.0.dist-info" / "entry_points.txt").write_text(f"[{GROUP}]\n")
    forget_flavors()
    with pytest.raises(
        InvalidInput, match=r"no model flavor 'threshold' is installed \(installed: .*sklearn"
    ):
        km.load(tmp_path / "pkg")


def test_a_flavor_that_cannot_be_imported_names_its_distribution(site: Path) -> None:
    install_fake_distribution(site, "acme-broken", {"broken": "acme_missing_module:FLAVOR"})
    with pytest.raises(MissingExtra, match=r"model flavor 'broken' .* cannot be imported"):
        get_flavor("broken")


def test_a_flavor_missing_a_method_is_refused(site: Path) -> None:
    module = "class Half:\n    name = 'half'\n    framework = 'x'\nFLAVOR = Half()\n"
    install_fake_distribution(site, "acme-half", {"half": "acme_half:FLAVOR"}, module)
    with pytest.raises(ConfigError, match=r"model flavor 'half' .* has no 'accepts'"):
        get_flavor("half")


def test_a_name_two_distributions_claim_is_refused_naming_both(
    site: Path, cancer: Any, tmp_path: Path
) -> None:
    install_fake_distribution(site, "acme-threshold", {"sklearn": "acme_threshold:FLAVOR"}, PLUGIN)
    with pytest.raises(ConfigError, match=r"'sklearn' is registered by acme-threshold and keel"):
        get_flavor("sklearn")
