"""ONNX export of every preset runs in onnxruntime and matches PyTorch to 1e-4."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import idfy

ort = pytest.importorskip("onnxruntime")


@pytest.mark.slow
@pytest.mark.parametrize("name", idfy.list_presets())
def test_onnx_parity(name: str, tmp_path) -> None:
    cfg = idfy.load_preset(name)
    model = idfy.build_model(cfg).eval()
    x = torch.rand(2, cfg.input.channels, *cfg.input.size)
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the dynamo exporter handles antialiased bicubic resizing (S1d); the legacy one does not
        torch.onnx.export(model, (x,), str(path), dynamo=True, input_names=["image"], output_names=["out"])
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    with torch.inference_mode():
        want = model(x).numpy()
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)
