"""System metrics: a background thread samples the machine and the process as ``system/*`` metrics.

CPU %, memory, disk and network I/O come from psutil (machine-wide and for
this process). GPUs come from NVML (``nvidia-ml-py``): utilisation, memory,
power and temperature per device, as ``system/gpu<i>/*``. NVML is optional:
when the library is missing or no GPU answers, there are simply no GPU
series and no error. GPU energy (kWh) is the integral of the power samples.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("keel.tracking")

Emit = Callable[[str, float, int, int], None]
_MB = 1024 * 1024


class NVML:
    """GPU readings through NVML; ``devices == 0`` when there is no library or no GPU."""

    def __init__(self) -> None:
        self.devices = 0
        self._nvml: Any = None
        self._handles: list[Any] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            count = int(pynvml.nvmlDeviceGetCount())
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
            self.devices = count
        except Exception:  # no library, no driver, no GPU: no GPU series, by design
            self.devices = 0

    def read(self) -> list[dict[str, float]]:
        """One reading per device: utilization %, memory MB, power W, temperature C."""
        out = []
        nv = self._nvml
        for handle in self._handles:
            reading: dict[str, float] = {}
            try:
                util = nv.nvmlDeviceGetUtilizationRates(handle)
                reading["utilization_percent"] = float(util.gpu)
                mem = nv.nvmlDeviceGetMemoryInfo(handle)
                reading["memory_used_mb"] = mem.used / _MB
                reading["memory_percent"] = 100.0 * mem.used / mem.total if mem.total else 0.0
                reading["power_w"] = nv.nvmlDeviceGetPowerUsage(handle) / 1000.0
                reading["temperature_c"] = float(nv.nvmlDeviceGetTemperature(handle, nv.NVML_TEMPERATURE_GPU))
            except Exception as exc:  # one failed reading must not stop the others
                log.debug("NVML reading failed: %s", exc)
            out.append(reading)
        return out

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception as exc:
                log.debug("NVML shutdown failed: %s", exc)


class SystemSampler:
    """Samples every ``interval`` seconds and emits ``system/*`` points through ``emit``."""

    def __init__(self, emit: Emit, *, interval: float = 10.0, nvml: NVML | None = None) -> None:
        import psutil

        self._emit = emit
        self._interval = interval
        self._psutil = psutil
        self._process = psutil.Process(os.getpid())
        self._nvml = nvml if nvml is not None else NVML()
        self._stop = threading.Event()
        self._step = 0
        self._last_power_t: float | None = None
        self.energy_kwh = 0.0 if self._nvml.devices else None
        self._process.cpu_percent(None)  # first call primes the counters
        psutil.cpu_percent(None)
        self._thread = threading.Thread(target=self._run, name="keel-system-metrics", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sample()
            except Exception:
                log.exception("keel: sampling system metrics failed")

    def sample(self) -> dict[str, float]:
        """Take one sample now, emit it, and return it."""
        ps = self._psutil
        values: dict[str, float] = {
            "system/cpu_percent": ps.cpu_percent(None),
            "system/memory_used_mb": ps.virtual_memory().used / _MB,
            "system/memory_percent": ps.virtual_memory().percent,
            "system/process_cpu_percent": self._process.cpu_percent(None),
            "system/process_rss_mb": self._process.memory_info().rss / _MB,
        }
        disk = ps.disk_io_counters()
        if disk is not None:
            values["system/disk_read_mb"] = disk.read_bytes / _MB
            values["system/disk_write_mb"] = disk.write_bytes / _MB
        net = ps.net_io_counters()
        if net is not None:
            values["system/network_sent_mb"] = net.bytes_sent / _MB
            values["system/network_received_mb"] = net.bytes_recv / _MB
        now = time.monotonic()
        power_total = 0.0
        for index, reading in enumerate(self._nvml.read()):
            for name, value in reading.items():
                values[f"system/gpu{index}/{name}"] = value
            power_total += reading.get("power_w", 0.0)
        if self._nvml.devices:
            if self._last_power_t is not None and self.energy_kwh is not None:
                self.energy_kwh += power_total * (now - self._last_power_t) / 3_600_000.0
            self._last_power_t = now
        timestamp = time.time_ns() // 1_000_000
        for key, value in values.items():
            self._emit(key, float(value), self._step, timestamp)
        self._step += 1
        return values

    def stop(self) -> float | None:
        """Stop sampling after one last sample; returns the GPU energy in kWh (None without GPUs)."""
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.sample()
        except Exception:
            log.exception("keel: last system-metrics sample failed")
        self._nvml.close()
        return self.energy_kwh
