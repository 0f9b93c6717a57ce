"""CLI smoke: ``train`` -> ``eval`` -> ``predict`` -> ``export`` on a tiny run, plus user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from idfy.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "examples" / "shapes_star.png"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    code = main([
        "train", "--preset", "tiny", "--data", "shapes", "--size", "32", "--n-train", "32", "--n-test", "16",
        "--batch-size", "16", "--max-steps", "6", "--eval-every", "3", "--log-every", "3", "--no-bar",
        "--translate", "0.1", "--erase", "0.25",
        "--set", "head.widths=[32]", "--out", str(out),
    ])  # fmt: skip
    torch.set_num_threads(threads)
    assert code == 0
    return out


def test_train_writes_the_run_folder(run_dir: Path, capsys) -> None:
    for name in (
        "config.yaml",
        "train.yaml",
        "metrics.csv",
        "curves.png",
        "samples.png",
        "best.pt",
        "last.pt",
    ):
        assert (run_dir / name).is_file(), name
    assert "widths: [32]" in (run_dir / "config.yaml").read_text()  # --set reached the model
    train_yaml = (run_dir / "train.yaml").read_text()
    assert (
        "max_steps: 6" in train_yaml and "time_budget_s: null" in train_yaml
    )  # --max-steps replaced the 90 s
    assert "translate: 0.1" in train_yaml and "erase: 0.25" in train_yaml


def test_a_run_says_whether_it_beat_chance(run_dir: Path) -> None:
    # six steps cannot learn shapes: summary.json holds the held-out chance level and a verdict that says so,
    # with the too-few-steps reason (the Train tab says the same)
    summary = json.loads((run_dir / "summary.json").read_text())
    chance, verdict = summary["chance"], summary["verdict"]
    assert chance["n"] == 16 and chance["num_classes"] == 7 and 0 < chance["accuracy"] <= 1
    assert verdict["beat"] is False and "chance" in verdict["text"]


def test_the_console_prints_the_verdict_with_the_too_few_steps_reason() -> None:
    from idfy.train.chance import Chance
    from idfy.train.events import Done
    from idfy.train.progress import ConsoleProgress

    lines: list[str] = []
    show = ConsoleProgress(bar=False)
    show._line = lines.append  # type: ignore[method-assign]
    show.chance = Chance(n=100, num_classes=7, accuracy=0.16, mean_iou=0.34, loc_accuracy=0.04)
    metrics = {"n": 100, "accuracy": 0.2, "mean_iou": 0.3, "loc_accuracy": 0.03}
    show(Done(step=12, reason="budget", metrics=metrics, elapsed=60.0))
    assert lines[-1].startswith("verdict: did not beat chance: localization accuracy 3.0 % against 4.0 %")
    assert "only 12 training steps ran" in lines[-1]
    show(Done(step=900, reason="budget", metrics={**metrics, "loc_accuracy": 0.78}, elapsed=60.0))
    assert lines[-1].startswith("verdict: beat chance by 74.0 pt") and "steps ran" not in lines[-1]


def test_eval(run_dir: Path, capsys, tmp_path) -> None:
    assert main(["eval", str(run_dir), "--n", "16", "--json", str(tmp_path / "m.json")]) == 0
    out = capsys.readouterr().out
    assert "shapes/test: 16 images" in out and "loc-acc" in out and "circle" in out
    assert json.loads((tmp_path / "m.json").read_text())["n"] == 16


def test_predict_prints_tuples_and_writes_files(run_dir: Path, capsys, tmp_path) -> None:
    assert (
        main(["predict", str(EXAMPLE), "--checkpoint", str(run_dir / "last.pt"), "--out", str(tmp_path)]) == 0
    )
    out = capsys.readouterr().out
    assert "pixels     (x1, y1, x2, y2, label) = (" in out and "normalized (x1, y1, x2, y2, label) = (" in out
    rec = json.loads((tmp_path / "shapes_star.json").read_text())
    assert len(rec["tuple_pixels"]) == 5 and rec["image_size"] == [128, 128]
    assert (tmp_path / "shapes_star.overlay.png").is_file()


def test_predict_reports_a_bad_image(run_dir: Path, capsys, tmp_path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    assert main(["predict", str(bad), str(EXAMPLE), "-c", str(run_dir), "--out", str(tmp_path)]) == 1
    assert "bad.png: error:" in capsys.readouterr().out


def test_export_onnx_with_parity_and_safetensors(run_dir: Path, capsys, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    argv = [
        "export",
        str(run_dir),
        "--onnx",
        str(tmp_path / "m.onnx"),
        "--safetensors",
        str(tmp_path / "w.st"),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "exporter dynamo" in out and "parity vs onnxruntime: max |diff| = " in out and "(ok)" in out
    assert (tmp_path / "w.st").stat().st_size > 0 and (tmp_path / "m.onnx").stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--preset", "nope", "--max-steps", "1"], "unknown preset"),
        (["train", "--set", "stages.9.width=4", "--max-steps", "1"], "stage 9 does not exist"),
        (["train", "--resume", "--max-steps", "1"], "--resume needs --out"),
        (["eval", "/no/such/run"], "does not exist"),
        (["export", "/no/such/run"], "say what to write"),
    ],
)
def test_user_errors_are_one_line(argv, words, capsys) -> None:
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_console_progress_bar_and_plain_lines() -> None:
    import io

    import idfy
    from idfy.train import TrainConfig
    from idfy.train.events import Done, Eval, Start, Step
    from idfy.train.progress import ConsoleProgress

    tc = TrainConfig(max_steps=20, time_budget_s=None)
    start = Start(
        model_config=idfy.load_preset("tiny"), train_config=tc, n_train=10, n_test=5, classes=["a"], task="localize",
        device="cpu", world_size=1, num_params=123, steps_per_epoch=2, total_steps=20,
    )  # fmt: skip
    step = Step(
        step=10, epoch=1.0, loss=1.5, box_l1=0.1, giou=0.5, cls=0.4, lr=1e-3, images_per_s=100.0, elapsed=2.0
    )
    metrics = {"accuracy": 0.5, "mean_iou": 0.25, "loc_accuracy": 0.125}
    events = [start, step, Eval(step=10, metrics=metrics, elapsed=2.0, is_best=True),
              Done(step=20, reason="max_steps", metrics=metrics, elapsed=4.0)]  # fmt: skip
    for bar in (False, True):
        buf = io.StringIO()
        show = ConsoleProgress(stream=buf, bar=bar)
        for ev in events:
            show(ev)
        text = buf.getvalue()
        assert "training tiny (123 params)" in text and "acc 50.0% · IoU 0.250 · loc-acc 12.5%" in text
        assert "done: max_steps after 20 steps" in text
        assert (
            "step     10 | epoch   1.00 | loss 1.500" in text
        ) is not bar  # the bar shows it in its postfix


@pytest.mark.parametrize("command", ["predict", "eval"])
@pytest.mark.parametrize("damage", ["flip", "truncate", "pickle"])
def test_a_damaged_or_foreign_checkpoint_is_one_line_in_every_command(
    run_dir: Path, tmp_path: Path, capsys, command: str, damage: str
) -> None:
    bad = tmp_path / "last.pt"
    data = bytearray((run_dir / "last.pt").read_bytes())
    if damage == "flip":  # cases/train-2/flip.py
        for i in range(len(data) // 2, len(data) // 2 + 64):
            data[i] ^= 0xFF
        bad.write_bytes(bytes(data))
    elif damage == "truncate":
        bad.write_bytes(bytes(data[: len(data) // 3]))
    else:
        torch.save(torch.nn.Linear(2, 2), bad)
    argv = ["predict", str(EXAMPLE), "--checkpoint", str(bad)] if command == "predict" else ["eval", str(bad)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: ") and err.count("\n") == 1, err
    assert not any(s in err for s in ("Traceback", "weights_only", "\x1b", "torch.serialization")), err


@pytest.mark.parametrize(
    ("flags", "want"),
    [([], ("muon", 1e-2)), (["--optimizer", "sgd"], ("sgd", 0.1)), (["--optimizer", "adamw"], ("adamw", 5e-3)),
     (["--optimizer", "sgd", "--lr", "0.02"], ("sgd", 0.02))],
)  # fmt: skip
def test_an_optimizer_without_lr_gets_its_measured_rate(flags: list[str], want: tuple[str, float]) -> None:
    import argparse

    from idfy.commands.train import _train_config, add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    tc = _train_config(parser.parse_args(flags))
    assert (tc.optimizer, tc.lr) == want
