"""benchmarks/gpu_check.py runs end to end on the CPU (--device cpu --quick): every check gives a row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_scripts import load_benchmark

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def test_gpu_check_quick_on_cpu(tmp_path: Path) -> None:
    from idfy.data.fashion import find_fashion_files

    try:
        find_fashion_files("train", download=False)
    except FileNotFoundError:
        pytest.skip("the Fashion-MNIST files are not installed")
    code = load_benchmark("gpu_check").main(["--device", "cpu", "--quick", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "gpu_check.json").read_text())
    assert res["analysis"]["ok"] and res["analysis"]["device"] == "cpu"
    training = res["training"]
    assert training["ok"] and training["out_dtype"] == "torch.float32" and training["in_channels_last"]
    assert res["demo"]["ok"] and res["demo"]["device"] == "cpu"
    assert res["fashion_long"]["ok"] and (tmp_path / "fashion_long_fmnist_small28.json").is_file()
    assert code == 0 and res["ok"]
