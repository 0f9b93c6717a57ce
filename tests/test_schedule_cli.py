"""``python -m idfy train`` without flags is the demo (TrainConfig() + DEFAULT_PRESET); every CLI run writes
summary.json beside metrics.csv with the final held-out metrics, steps, images/s and wall time."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from idfy.cli import main
from idfy.commands import train as train_cmd
from idfy.train.config import DEFAULT_PRESET, TrainConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train_cmd.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_no_flags_is_the_demo() -> None:
    args = _args()
    assert train_cmd._train_config(args) == TrainConfig()
    assert train_cmd.model_config(args).name == DEFAULT_PRESET == "demo"
    tc = TrainConfig()
    assert (tc.data, tc.size, tc.time_budget_s) == ("fashion-canvas", 64, 60.0)
    assert tc.eval_points >= 6  # at least 5 held-out points within the minute, then the full split


def test_summary_json_beside_metrics_csv(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = main([
        "train", "--data", "shapes", "--size", "32", "--n-train", "32", "--n-test", "16", "--batch-size", "16",
        "--max-steps", "3", "--log-every", "1", "--no-bar", "--out", str(out),
    ])  # fmt: skip
    assert code == 0 and (out / "metrics.csv").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["reason"] == "max_steps"
    assert summary["metrics"]["n"] == 16  # the full held-out split
    assert {"accuracy", "mean_iou", "loc_accuracy"} <= set(summary["metrics"])
    assert summary["images_per_s"] > 0 and summary["wall_s"] >= summary["train_s"] > 0
