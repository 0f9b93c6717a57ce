"""Data-parallel training: ``torchrun --nproc-per-node 2 -m idfy train`` with two CPU processes (Gloo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import free_port

from idfy.train.distributed import DistInfo, shard

ROOT = Path(__file__).resolve().parent.parent


def test_shard_splits_a_global_batch() -> None:
    x = torch.arange(10)
    parts = [shard(x, DistInfo(rank=r, world_size=3)) for r in range(3)]
    assert torch.equal(torch.cat(parts), x) and [len(p) for p in parts] == [4, 3, 3]
    assert shard(None, DistInfo(rank=1, world_size=2)) is None
    assert shard(x, DistInfo()) is x


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not built in")
def test_torchrun_two_cpu_processes(tmp_path) -> None:
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
        "--master-port", str(free_port()), "-m", "idfy", "train", "--preset", "tiny", "--data", "shapes",
        "--size", "32", "--n-train", "64", "--n-test", "16", "--batch-size", "16", "--max-steps", "12",
        "--eval-every", "6", "--checkpoint-every", "6", "--log-every", "6", "--device", "cpu", "--no-bar",
        "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:] + r.stdout[-3000:]
    # only rank 0 prints: one Start line, one Done line
    assert r.stdout.count("training tiny") == 1 and "×2 processes" in r.stdout
    assert r.stdout.count("done: max_steps after 12 steps") == 1
    ck = torch.load(out / "last.pt", weights_only=True)
    assert ck["step"] == 12 and ck["epoch"] == 3  # 64 images / global batch 16 = 4 steps per epoch
    assert (out / "metrics.csv").read_text().count("\n") == 1 + 2 + 2  # header, steps 6 and 12, 2 evals
    assert torch.isfinite(torch.cat([v.flatten().float() for v in ck["model"].values()])).all()
