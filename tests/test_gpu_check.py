"""benchmarks/gpu_check.py runs end to end on the CPU (--device cpu --quick): every check gives a row."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def _load() -> object:
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_gpu_check_quick_on_cpu(tmp_path: Path) -> None:
    from idfy.data.fashion import find_fashion_files

    try:
        find_fashion_files("train", download=False)
    except FileNotFoundError:
        pytest.skip("the Fashion-MNIST files are not installed")
    code = _load().main(["--device", "cpu", "--quick", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "gpu_check.json").read_text())
    assert res["analysis"]["ok"] and res["analysis"]["device"] == "cpu"
    training = res["training"]
    assert training["ok"] and training["out_dtype"] == "torch.float32" and training["in_channels_last"]
    assert res["demo"]["ok"] and res["demo"]["device"] == "cpu"
    assert res["fashion_long"]["ok"] and (tmp_path / "fashion_long_fmnist_small28.json").is_file()
    assert code == 0 and res["ok"]
