"""Device check for issue 4: a small PyTorch loop on a GPU gets ``system/gpu0/*`` series and GPU energy.

Run on a machine with an NVIDIA GPU, PyTorch and nvidia-ml-py:

    KEEL_SYSTEM_METRICS_INTERVAL_S=0.5 python benchmarks/tracking_gpu_check.py

It trains a two-layer network for about 8 seconds inside ``keel.start_run``,
then prints the run's final GPU metrics, the number of GPU utilisation
samples and the GPU energy, and exits non-zero when any is missing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    import torch

    import keel
    from keel.core.workspace import create_workspace
    from keel.store.migrate import upgrade_url

    os.environ.setdefault("KEEL_SYSTEM_METRICS_INTERVAL_S", "0.5")
    home, _ = create_workspace(Path(tempfile.mkdtemp()))
    upgrade_url(f"sqlite:///{home / 'keel.db'}")
    keel.init(project="gpu-check", create=True, home=home)
    print("torch", torch.__version__, "device", torch.cuda.get_device_name(0))
    with keel.start_run(name="torch-loop", capture_env=False) as run:
        model = torch.nn.Sequential(
            torch.nn.Linear(4096, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 10)
        ).cuda()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        x = torch.randn(8192, 4096, device="cuda")
        y = torch.randint(0, 10, (8192,), device="cuda")
        started, step = time.time(), 0
        while time.time() - started < 8:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 20 == 0:
                run.log_metric("loss", loss.item(), step=step)
            step += 1
    stored = keel.get_run(run.id)
    gpu = {k: v for k, v in stored.metrics.items() if k.startswith("system/gpu")}
    samples = stored.metric_history("system/gpu0/utilization_percent")
    print(f"steps {step}, loss points {len(stored.metric_history('loss'))}")
    for key, value in sorted(gpu.items()):
        print(f"  {key} = {value:.2f}")
    print(f"GPU utilisation samples: {len(samples)}, max {max((p.value for p in samples), default=0):.0f} %")
    print(f"GPU energy: {stored.energy_kwh} kWh over {stored.duration:.1f} s")
    ok = bool(gpu) and len(samples) >= 5 and bool(stored.energy_kwh)
    print("GPU CHECK", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
