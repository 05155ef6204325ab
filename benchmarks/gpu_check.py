"""Device check for tracking: a small PyTorch loop on a GPU must produce `system/gpu*` series.

Run on a machine with an NVIDIA GPU (PyTorch and nvidia-ml-py installed):

    PYTHONPATH=src python benchmarks/gpu_check.py --seconds 8

It makes a throwaway workspace, trains a tiny model on the GPU inside a Keel run
with system metrics sampled every half second, then reads the run back and
prints every GPU series (points, last value) and the run's GPU energy. Exits 1
when no GPU series appears.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("no CUDA device visible to PyTorch")
        return 1
    root = Path(tempfile.mkdtemp(prefix="keel-gpu-"))
    os.environ["KEEL_SYSTEM_METRICS_INTERVAL_S"] = "0.5"
    os.environ["KEEL_HOURLY_PRICE"] = "2.5"
    from keel.core.workspace import create_workspace
    from keel.store.migrate import upgrade_url

    home, _ = create_workspace(root)
    os.environ["KEEL_HOME"] = str(home)
    upgrade_url(f"sqlite:///{home / 'keel.db'}")

    import keel

    keel.init(project="gpu-check", create=True)
    device = torch.device("cuda")
    model = torch.nn.Sequential(torch.nn.Linear(4096, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 1)).to(
        device
    )
    optimiser = torch.optim.SGD(model.parameters(), lr=1e-4)
    x = torch.randn(8192, 4096, device=device)
    y = torch.randn(8192, 1, device=device)
    with keel.start_run(name="torch-loop", params={"device": torch.cuda.get_device_name(0)}) as run:
        step = 0
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            optimiser.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimiser.step()
            if step % 10 == 0:
                run.log_metrics({"loss": float(loss.item())}, step=step)
            step += 1
        torch.cuda.synchronize()
    record = keel.get_run(run.id)
    gpu_keys = sorted(k for k in record.metrics if k.startswith("system/gpu"))
    print(f"GPU: {torch.cuda.get_device_name(0)}; {step} steps in {args.seconds:.0f} s")
    print(
        f"run {run.id}: status {record.status}, duration {record.duration:.1f} s, "
        f"cost {record.cost}, GPU energy {record.energy_kwh} kWh"
    )
    for key in gpu_keys:
        history = record.metric_history(key)
        print(f"  {key:40s} {len(history):3d} points, last {history[-1].value:.1f}")
    other = sorted(k for k in record.metrics if k.startswith("system/") and not k.startswith("system/gpu"))
    print(f"  other system series: {', '.join(other)}")
    print(f"  loss points: {len(record.metric_history('loss'))}")
    if not gpu_keys:
        print("FAIL: no system/gpu* series")
        return 1
    print("OK: GPU series recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
