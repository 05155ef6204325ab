"""System metrics: psutil series always; GPU series only when NVML answers, and no error when it does not."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from keel.tracking.sampler import NVML, SystemSampler


def _collect() -> tuple[list[Any], Any]:
    points: list[Any] = []
    return points, lambda key, value, step, ts: points.append((key, value, step))


def test_without_nvml_there_are_no_gpu_series_and_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails as if not installed
    nvml = NVML()
    assert nvml.devices == 0
    points, emit = _collect()
    sampler = SystemSampler(emit, interval=60, nvml=nvml)
    values = sampler.sample()
    assert sampler.stop() is None
    assert "system/cpu_percent" in values and "system/process_rss_mb" in values
    assert not any("gpu" in key for key, _, _ in points)
    assert {step for _, _, step in points} == {0, 1}


class FakeNVML(NVML):
    def __init__(self) -> None:
        self.devices = 2
        self._nvml = None
        self._handles = []

    def read(self) -> list[dict[str, float]]:
        return [
            {"utilization_percent": 50.0, "memory_used_mb": 100.0, "power_w": 3600.0, "temperature_c": 60.0},
            {"utilization_percent": 10.0, "power_w": 0.0},
        ]


def test_gpu_series_per_device_and_energy_from_power(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 101.0, 103.0])
    monkeypatch.setattr("keel.tracking.sampler.time.monotonic", lambda: next(clock))
    points, emit = _collect()
    sampler = SystemSampler(emit, interval=60, nvml=FakeNVML())
    sampler.sample()
    sampler.sample()
    energy = sampler.stop()
    keys = {key for key, _, _ in points}
    assert {
        "system/gpu0/utilization_percent",
        "system/gpu0/power_w",
        "system/gpu1/utilization_percent",
    } <= keys
    # 3600 W for 1 s then 2 s = 3 Wh = 0.003 kWh
    assert energy == pytest.approx(0.003)
