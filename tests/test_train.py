"""The training engine: events, learning, stopping, NaN detection, data adaptation, evaluation metrics."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

import idfy
from idfy.data import make_dataset
from idfy.train import TrainConfig, adapt_config, train
from idfy.train.events import Checkpoint, Done, Failed, Samples, Start, Step
from idfy.train.losses import LossWeights, box_from_raw, compute_loss
from idfy.train.metrics import evaluate
from idfy.train.optim import lr_factor

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_tc(**kw) -> TrainConfig:
    base = dict(
        data="shapes", size=32, n_train=32, n_test=16, batch_size=16, max_steps=20, time_budget_s=None,
        eval_every=0, sample_every=0, checkpoint_every=0, log_every=10, lr=3e-3, warmup=5,
        schedule="constant", augment=False,
    )  # fmt: skip
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def shapes32():
    return make_dataset("shapes", split="train", size=32, n=32), make_dataset(
        "shapes", split="test", size=32, n=16
    )


def test_loss_falls_on_a_tiny_subset(shapes32) -> None:
    events = list(train(idfy.load_preset("tiny"), tiny_tc(max_steps=60), data=shapes32))
    assert isinstance(events[0], Start) and isinstance(events[-1], Done)
    steps = [e for e in events if isinstance(e, Step)]
    assert [s.step for s in steps] == [10, 20, 30, 40, 50, 60]
    first, last = steps[0], steps[-1]
    assert last.loss < 0.7 * first.loss, (first, last)
    assert last.box_l1 < first.box_l1 and last.cls < first.cls
    assert all(s.images_per_s > 0 and s.lr > 0 for s in steps)
    done = events[-1]
    assert done.reason == "max_steps" and done.step == 60
    assert {"accuracy", "mean_iou", "loc_accuracy", "per_class"} <= set(done.metrics)
    assert isinstance(done.model, nn.Module) and not done.model.training
    from idfy.predict import Predictor

    pred = Predictor.from_model(done.model, done.classes).predict(
        torch.randint(0, 256, (3, 40, 50), dtype=torch.uint8)
    )
    assert pred.class_name in shapes32[0].classes and pred.image_size == (40, 50)


def test_start_event_adapts_the_model_to_the_data(shapes32) -> None:
    start = next(iter(train(idfy.load_preset("seed_model2"), tiny_tc(max_steps=1), data=shapes32)))
    assert isinstance(start, Start)
    cfg = start.model_config
    assert cfg.task == "localize" and cfg.num_classes == 7 and tuple(cfg.input.size) == (32, 32)
    assert start.n_train == 32 and start.n_test == 16 and start.classes[0] == "circle"
    assert start.steps_per_epoch == 2 and start.total_steps == 1 and start.device == "cpu"
    assert any("adapted" in n for n in start.notes)


def test_adapt_config_converts_images_when_design_cannot_take_grey() -> None:
    full = idfy.load_preset("full")  # stem groups=3 cannot take 1 channel
    cfg, feed, notes = adapt_config(full, task="localize", num_classes=10, channels=1, size=(32, 32))
    assert cfg.input.channels == 3 and feed == 3 and "converted" in notes[0]
    tiny = idfy.load_preset("tiny")
    cfg, feed, _ = adapt_config(tiny, task="classify", num_classes=10, channels=1, size=(28, 28))
    assert cfg.input.channels == 1 and feed == 1 and cfg.task == "classify" and cfg.num_outputs == 10


def test_events_order_eval_samples_checkpoints(shapes32, tmp_path) -> None:
    tc = tiny_tc(max_steps=20, eval_every=10, sample_every=10, checkpoint_every=10)
    events = list(train(idfy.load_preset("tiny"), tc, out_dir=tmp_path, data=shapes32))
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "Start" and kinds[-1] == "Done"
    assert kinds.count("Eval") == 2  # step 10 and the final one
    samples = [e for e in events if isinstance(e, Samples)]
    assert samples and samples[0].images.shape == (8, 3, 32, 32) and samples[0].pred_boxes.shape == (8, 4)
    assert len(samples[0].pred_labels) == 8 and samples[0].classes[0] == "circle"
    ckpts = [e for e in events if isinstance(e, Checkpoint)]
    assert {c.kind for c in ckpts} == {"best", "last"}
    for name in (
        "config.yaml",
        "train.yaml",
        "metrics.csv",
        "curves.png",
        "samples.png",
        "best.pt",
        "last.pt",
    ):
        assert (tmp_path / name).is_file(), name
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch") and len(rows) == 1 + 2 + 2  # header, 2 steps, 2 evals
    done = events[-1]  # the checkpoint handed on holds the final weights, which done.metrics measured
    assert done.checkpoint == str(tmp_path / "last.pt") and done.best_checkpoint == str(tmp_path / "best.pt")
    assert torch.load(done.checkpoint, weights_only=True)["step"] == done.step == 20


def test_stop_event_finishes_cleanly_with_a_checkpoint(shapes32, tmp_path) -> None:
    stop = threading.Event()
    seen = []
    for ev in train(
        idfy.load_preset("tiny"), tiny_tc(max_steps=10_000), out_dir=tmp_path, stop=stop, data=shapes32
    ):
        seen.append(ev)
        if isinstance(ev, Step) and ev.step >= 10:
            stop.set()
    done = seen[-1]
    assert isinstance(done, Done) and done.reason == "stopped" and done.step == 11
    assert (tmp_path / "last.pt").is_file()
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 11


def test_a_run_stopped_before_its_first_step_writes_no_best_checkpoint(shapes32, tmp_path) -> None:
    """Untrained weights are kept as last.pt (the run's state) but never called best.pt."""
    stop = threading.Event()
    stop.set()
    events = list(train(idfy.load_preset("tiny"), tiny_tc(), out_dir=tmp_path, stop=stop, data=shapes32))
    done = events[-1]
    assert isinstance(done, Done) and done.step == 0
    assert (tmp_path / "last.pt").is_file() and not (tmp_path / "best.pt").exists()
    assert done.checkpoint == str(tmp_path / "last.pt")


def test_time_budget_ends_the_run(shapes32) -> None:
    done = list(train(idfy.load_preset("tiny"), tiny_tc(max_steps=None, time_budget_s=0.5), data=shapes32))[
        -1
    ]
    assert isinstance(done, Done) and done.reason == "budget" and done.step > 0


def test_epochs_limit(shapes32) -> None:
    done = list(train(idfy.load_preset("tiny"), tiny_tc(max_steps=None, epochs=3), data=shapes32))[-1]
    assert done.reason == "epochs" and done.step == 6  # 32 images / batch 16 = 2 steps per epoch


def test_nan_loss_gives_a_clear_failure(shapes32) -> None:
    events = list(train(idfy.load_preset("tiny"), tiny_tc(lr=1e6, grad_clip=None, warmup=0), data=shapes32))
    failed = events[-1]
    assert isinstance(failed, Failed), events[-1]
    assert "loss became" in failed.message and "lower the lr (now 1e+06)" in failed.message
    assert "grad clipping" in failed.message and failed.step >= 1
    assert not any(isinstance(e, Done) for e in events)


def test_nan_detection_names_the_step(shapes32, monkeypatch) -> None:
    import idfy.train.loop as engine

    real = engine.compute_loss
    calls = {"n": 0}

    def poisoned(*a, **k):
        parts = real(*a, **k)
        calls["n"] += 1
        if calls["n"] == 7:
            parts.total = parts.total * float("nan")
        return parts

    monkeypatch.setattr(engine, "compute_loss", poisoned)
    failed = list(train(idfy.load_preset("tiny"), tiny_tc(), data=shapes32))[-1]
    assert isinstance(failed, Failed) and failed.step == 7
    assert failed.message.startswith("loss became NaN at step 7; lower the lr (now 0.003)")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"max_steps": None, "time_budget_s": None}, "give a limit"),
        ({"optimizer": "adam"}, "optimizer"),
        ({"lr": -1.0}, "lr=-1.0"),
        ({"data": "no-such-set"}, "unknown dataset"),
        ({"translate": 0.9}, "translate=0.9"),
        ({"erase": 1.5}, "erase=1.5: a probability"),
    ],
)
def test_bad_settings_fail_with_a_message(changes, words) -> None:
    events = list(train(idfy.load_preset("tiny"), tiny_tc(**changes)))
    assert len(events) == 1 and isinstance(events[0], Failed) and words in events[0].message


def test_train_config_yaml_round_trip_and_strictness() -> None:
    tc = tiny_tc(seed=3, optimizer="sgd")
    assert TrainConfig.from_yaml(tc.to_yaml()) == tc
    with pytest.raises(ValueError, match="unknown option"):
        TrainConfig.from_dict({"lr": 1e-3, "learning_rate": 1})


def test_schedules() -> None:
    assert lr_factor("constant", 0, 0.0, 10) == pytest.approx(0.1)
    assert lr_factor("cosine", 100, 0.0, 10) == pytest.approx(1.0)
    assert lr_factor("cosine", 100, 1.0, 10) == pytest.approx(0.02)
    assert lr_factor("onecycle", 0, 0.0, 0) == pytest.approx(1 / 25)
    assert lr_factor("onecycle", 0, 0.25, 0) == pytest.approx(1.0)
    assert lr_factor("onecycle", 0, 1.0, 0) == pytest.approx(1e-3)


def test_box_loss_orders_corners_and_keeps_gradients() -> None:
    raw = torch.tensor([[2.0, -1.0, -2.0, 1.0]], requires_grad=True)  # x1 > x2 before ordering
    box = box_from_raw(raw)
    assert box[0, 0] < box[0, 2] and box[0, 1] < box[0, 3]
    out = torch.cat([raw, torch.zeros(1, 3)], dim=1)
    parts = compute_loss(
        out, torch.tensor([1]), torch.tensor([[0.1, 0.1, 0.5, 0.5]]), "localize", LossWeights()
    )
    parts.total.backward()
    assert raw.grad is not None and bool((raw.grad != 0).all())
    one = compute_loss(torch.zeros(2, 5), torch.zeros(2, dtype=torch.long), torch.rand(2, 4).sort(1).values,
                       "localize", LossWeights())  # fmt: skip
    assert torch.isfinite(one.total)  # one class: BCE on the single logit


class _Oracle(nn.Module):
    """Returns the true box (as raw logits) for each image, and a label that is wrong for class 1."""

    def __init__(self, boxes: torch.Tensor, labels: torch.Tensor, n_classes: int) -> None:
        super().__init__()
        self.boxes, self.labels, self.n = boxes, labels, n_classes
        self.w = nn.Parameter(torch.zeros(()))
        self.i = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = len(x)
        boxes, labels = self.boxes[self.i : self.i + b], self.labels[self.i : self.i + b]
        self.i += b
        logits = nn.functional.one_hot(torch.where(labels == 1, 0, labels), self.n).float() * 10
        return torch.cat([torch.logit(boxes.clamp(1e-6, 1 - 1e-6)), logits], dim=1)


def test_evaluate_metrics_per_class(shapes32) -> None:
    _, test = shapes32
    oracle = _Oracle(test.boxes, test.labels, test.num_classes)
    m = evaluate(oracle, test, "localize", batch_size=5)
    wrong = int((test.labels == 1).sum())
    assert m["n"] == 16
    assert m["mean_iou"] == pytest.approx(1.0, abs=1e-4)
    assert m["accuracy"] == pytest.approx((16 - wrong) / 16)
    assert m["loc_accuracy"] == pytest.approx(m["accuracy"])
    for name, row in m["per_class"].items():
        if row["n"]:
            assert row["accuracy"] == (0.0 if name == "square" else 1.0)
            assert row["iou"] == pytest.approx(1.0, abs=1e-4)


def _iou_by_hand(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Elementwise IoU of (N, 4) xyxy boxes, written out: the formula evaluate() used before torchvision's."""
    w = (torch.minimum(a[:, 2], b[:, 2]) - torch.maximum(a[:, 0], b[:, 0])).clamp(min=0)
    h = (torch.minimum(a[:, 3], b[:, 3]) - torch.maximum(a[:, 1], b[:, 1])).clamp(min=0)
    inter = w * h
    area = lambda t: (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def test_held_out_iou_keeps_the_numbers_of_the_hand_formula(shapes32) -> None:
    """Mean IoU and loc-acc through torchvision.ops.box_iou equal the hand-written IoU of shifted boxes."""
    _, test = shapes32
    shift = torch.tensor([0.15, -0.05, 0.15, -0.05])
    moved = (test.boxes + shift).clamp(0.01, 0.99)
    oracle = _Oracle(moved, test.labels, test.num_classes)
    m = evaluate(oracle, test, "localize", batch_size=5)
    iou = _iou_by_hand(moved, test.boxes)
    right = test.labels != 1
    assert 0.05 < m["mean_iou"] < 0.95 and m["mean_iou"] == pytest.approx(float(iou.mean()), abs=1e-4)
    hits = (iou >= 0.5) & right
    assert m["loc_accuracy"] == pytest.approx(float(hits.float().mean()), abs=1e-6)


def test_train_accepts_an_external_model() -> None:
    """Baselines (e.g. timm networks) train with the same engine and recipe."""
    import timm

    from idfy.data import make_dataset
    from idfy.train import TrainConfig, train
    from idfy.train.events import Done

    tr = make_dataset("shapes", split="train", size=32, n=128)
    te = make_dataset("shapes", split="test", size=32, n=32)
    net = timm.create_model("resnet18", pretrained=False, in_chans=3, num_classes=4 + tr.num_classes)
    tc = TrainConfig(
        max_steps=3, time_budget_s=None, batch_size=32, eval_every=0, sample_every=0, checkpoint_every=0
    )
    events = list(train(idfy.load_preset("tiny"), tc, data=(tr, te), model=net))
    done = events[-1]
    assert isinstance(done, Done) and done.model is net and "loc_accuracy" in done.metrics
