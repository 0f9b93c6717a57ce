"""Export: safetensors round trip and ONNX (TorchScript and dynamo exporters) parity with onnxruntime."""

from __future__ import annotations

import pytest
import torch

import idfy
from idfy.export import export_onnx, export_safetensors, load_safetensors

pytest.importorskip("onnxruntime")


def test_safetensors_round_trip(tmp_path) -> None:
    cfg = idfy.load_preset("tiny").set("input.size", [32, 32])
    model = idfy.build_model(cfg).eval()
    path = export_safetensors(model, tmp_path / "w.safetensors", classes=["a"] * cfg.num_classes)
    again, classes = load_safetensors(path)
    assert classes == ["a"] * cfg.num_classes and again.cfg == cfg
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


def test_onnx_parity_torchscript_exporter(tmp_path) -> None:
    """No image re-injection: the fast TorchScript exporter. (The dynamo path is covered by test_cli_train.)"""
    cfg = idfy.load_preset("seed_model1")
    model = idfy.build_model(cfg)
    r = export_onnx(model, tmp_path / "m.onnx")
    assert r["exporter"] == "torchscript" and (tmp_path / "m.onnx").is_file()
    assert r["max_abs_diff"] is not None and r["max_abs_diff"] < 1e-4  # batch 2 and 3: dynamic batch axis
    assert r["input_shape"] == [2, 3, *cfg.input.size]
