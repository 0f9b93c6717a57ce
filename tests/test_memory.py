"""idfy.analysis.memory: one memory model for the analysis report, the timm baselines and the app's guard."""

from __future__ import annotations

import torch

import idfy.ui.api
from idfy import load_preset
from idfy.analysis import analyze, memory
from idfy.analysis.baselines import baseline_row
from idfy.analysis.memory import estimate_memory, model_memory, training_memory
from idfy.model import build_model


def test_training_memory_is_weights_grads_two_moments_and_activations() -> None:
    m = training_memory(params=10, trainable=6, buffer_bytes=8, act_bytes_per_image=100, batch_size=3)
    assert m == {"weights": 48, "grads": 24, "optimizer": 48, "activations": 300, "total": 420}


def test_report_and_baselines_use_the_one_formula() -> None:
    cfg = load_preset("seed_model2")
    r = analyze(cfg, device="cpu", batch_size=4)
    with torch.device("meta"):
        model = build_model(cfg)
    assert r.memory == model_memory(model, sum(s.act_bytes for s in r.stages), 4)
    row = baseline_row("resnet18", 5, 3, (64, 64), 2)
    assert row["memory"]["total"] == sum(v for k, v in row["memory"].items() if k != "total")
    assert row["memory"]["optimizer"] == 2 * row["memory"]["grads"] == 8 * row["params"]


def test_guard_estimate_totals_with_the_same_formula() -> None:
    est = estimate_memory(load_preset("seed_model2"))
    total = training_memory(est.params, est.params, 0, est.activation_bytes_per_image, 8)["total"]
    assert est.train_bytes(8) == total


def test_the_app_guard_is_the_library_guard() -> None:
    assert idfy.ui.api.check_memory is memory.check_memory and idfy.ui.api.check_report is memory.check_report
