"""Resume after a real ``kill -9``: the CLI run continued with ``--resume`` ends bit-identical to an uninterrupted one
(deterministic CPU mode)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import torch

from idfy.cli import main

ROOT = Path(__file__).resolve().parent.parent
ARGS = [
    "train", "--preset", "tiny", "--data", "shapes", "--size", "32", "--n-train", "48", "--n-test", "8",
    "--batch-size", "16", "--max-steps", "60", "--checkpoint-every", "10", "--eval-every", "0",
    "--sample-every", "0", "--log-every", "10", "--deterministic", "--no-bar",
]  # fmt: skip


def _cli(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "idfy", *ARGS, "--out", str(out), *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def test_resume_after_kill_equals_uninterrupted(tmp_path) -> None:
    whole_dir, killed_dir = tmp_path / "whole", tmp_path / "killed"
    victim = subprocess.Popen(_cli(killed_dir), cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
    assert victim.stdout is not None
    lines = []
    for line in victim.stdout:
        lines.append(line)
        if "saved last.pt at step 20" in line:
            os.kill(victim.pid, signal.SIGKILL)
            break
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL, "".join(lines)
    killed_at = torch.load(killed_dir / "last.pt", weights_only=True)["step"]
    assert 20 <= killed_at < 60  # really interrupted mid-run

    # the uninterrupted run, in this process (one thread, as OMP_NUM_THREADS=1 gives the subprocesses)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main([*ARGS, "--out", str(whole_dir)]) == 0
    finally:
        torch.set_num_threads(threads)

    resumed = subprocess.run(_cli(killed_dir, "--resume"), cwd=ROOT, env=_env(), capture_output=True, text=True,
                             timeout=120)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert f"resumed at step {killed_at}" in resumed.stdout

    a = torch.load(whole_dir / "last.pt", weights_only=True)
    b = torch.load(killed_dir / "last.pt", weights_only=True)
    assert a["step"] == b["step"] == 60
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    sa, sb = a["optimizer"]["state"], b["optimizer"]["state"]
    assert sa.keys() == sb.keys()
    for k in sa:
        assert all(torch.equal(torch.as_tensor(sa[k][n]), torch.as_tensor(sb[k][n])) for n in sa[k]), k
