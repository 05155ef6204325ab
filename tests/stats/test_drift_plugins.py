"""A third party's drift test registers through ``keel.drift_tests`` and is used like a built-in."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from keel.core.errors import ConfigError
from keel.stats.drift import GROUP, detect, drift_test, forget_registered, registered
from keel.stats.drift_reference import build_reference

PLUGIN = '''
"""A third party's drift test: the shift of the mean in units of the reference's deviation."""

from keel.stats.drift_tests import Outcome


class MeanShift:
    name = "mean_shift"
    kinds = frozenset({"numeric"})
    measure = "distance"
    threshold = 0.25

    def run(self, reference, current):
        scale = reference.std or 1.0
        value = abs(float(current.values.mean()) - float(reference.values.mean())) / scale
        return Outcome(statistic=value, p_value=None, effect=value)


mean_shift = MeanShift()
'''


def install(root: Path, name: str, points: dict[str, str], module: str = "") -> None:
    """What ``pip install`` leaves behind, reduced to what entry points need."""
    info = (
        root / f"{name.replace('-', '_')}-1.0.dist-info"
    )  # as wheels name it: the stem's first '-' ends the name
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "\n".join(f"{key} = {value}" for key, value in points.items())
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}\n")
    if module:
        (root / f"{name.replace('-', '_')}.py").write_text(textwrap.dedent(module))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    forget_registered()
    yield root
    forget_registered()


def test_a_third_party_test_decides_a_monitor_like_a_builtin(site: Path) -> None:
    install(site, "keel-mean-shift", {"mean_shift": "keel_mean_shift:mean_shift"}, PLUGIN)
    assert "mean_shift" in registered() and "ks" in registered()
    rng = np.random.default_rng(1)
    reference = build_reference(pa.table({"x": rng.normal(0, 1, 2000)}), ["x"])
    tests = {"numeric": ["mean_shift", "ks"]}
    shifted = detect(reference, pa.table({"x": rng.normal(0.5, 1, 500)}), tests=tests)
    assert shifted.drifted == ["x"]
    verdict = shifted.features[0].tests[0]
    assert verdict.test == "mean_shift" and verdict.measure == "distance" and verdict.threshold == 0.25
    assert shifted.features[0].decided_by == "mean_shift"
    quiet = detect(reference, pa.table({"x": rng.normal(0, 1, 500)}), tests=tests)
    assert quiet.drifted == []


def test_two_packages_claiming_one_test_name_is_a_config_error(site: Path) -> None:
    install(site, "keel-other-ks", {"ks": "keel_other_ks:ks"})
    with pytest.raises(ConfigError, match="two packages register the drift test 'ks'"):
        drift_test("ks")


def test_a_registered_object_without_the_test_shape_is_refused(site: Path) -> None:
    install(site, "keel-broken", {"broken": "keel_broken:broken"}, "broken = object()\n")
    with pytest.raises(ConfigError, match="drift test 'broken'"):
        drift_test("broken")
