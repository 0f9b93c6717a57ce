"""Classes matched by name between model and data (idfy.data.classes), in evaluate() and ``idfy eval``.

The data is the eval-class-order case: the same red squares (apple) and blue discs (pear) as CSV (classes
sorted: apple, pear), as YOLO with ``classes.txt`` = ``pear, apple`` and as COCO with pear's id first.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw
from torch import Tensor, nn

import idfy
from idfy.cli import main
from idfy.data import load_user_dataset
from idfy.data.classes import ClassMismatchError, align_classes, match_classes
from idfy.train.metrics import evaluate

S = 32  # image side


def _fruit(root: Path, n: int = 24, yolo_names: tuple[str, ...] = ("pear", "apple")) -> dict[str, Path]:
    """CSV, YOLO and COCO copies of ``n`` labelled images; the YOLO/COCO lists put pear first."""
    rng = random.Random(1)
    for sub in (
        "csv",
        "yolo/images/train",
        "yolo/images/val",
        "yolo/labels/train",
        "yolo/labels/val",
        "coco",
    ):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rows, images, anns = ["path,x1,y1,x2,y2,label,split"], [], []
    for i in range(n):
        lab = ("apple", "pear")[i % 2]
        im = Image.new("RGB", (S, S), (255, 255, 255))
        x, y, s = rng.randint(0, 14), rng.randint(0, 14), 16
        draw = ImageDraw.Draw(im)
        if lab == "apple":
            draw.rectangle((x, y, x + s - 1, y + s - 1), fill=(220, 20, 20))
        else:
            draw.ellipse((x, y, x + s - 1, y + s - 1), fill=(20, 20, 220))
        split = "val" if i >= n * 3 // 4 else "train"
        im.save(root / "csv" / f"im{i:02d}.png")
        im.save(root / "yolo" / "images" / split / f"im{i:02d}.png")
        im.save(root / "coco" / f"im{i:02d}.png")
        rows.append(f"im{i:02d}.png,{x},{y},{x + s},{y + s},{lab},{'test' if split == 'val' else 'train'}")
        cid = yolo_names.index(lab) if lab in yolo_names else 0
        c = (x + s / 2) / S, (y + s / 2) / S
        (root / "yolo" / "labels" / split / f"im{i:02d}.txt").write_text(
            f"{cid} {c[0]} {c[1]} {s / S} {s / S}\n"
        )
        images.append({"id": i, "file_name": f"im{i:02d}.png", "width": S, "height": S})
        anns.append({"id": i, "image_id": i, "category_id": 1 if lab == "pear" else 2, "bbox": [x, y, s, s]})
    (root / "csv" / "boxes.csv").write_text("\n".join(rows) + "\n")
    (root / "yolo" / "classes.txt").write_text("\n".join(yolo_names) + "\n")
    cats = [{"id": 1, "name": "pear"}, {"id": 2, "name": "apple"}]
    coco = {"images": images, "annotations": anns, "categories": cats}
    (root / "coco" / "coco.json").write_text(json.dumps(coco))
    return {"csv": root / "csv" / "boxes.csv", "yolo": root / "yolo", "coco": root / "coco" / "coco.json"}


class _ColourModel(nn.Module):
    """A perfect fruit classifier: red -> ``apple``, blue -> ``pear``, outputs in the order of ``classes``."""

    def __init__(self, classes: list[str]) -> None:
        super().__init__()
        self.sign = nn.Parameter(torch.tensor([1.0 if c == "apple" else -1.0 for c in classes]))

    def forward(self, x: Tensor) -> Tensor:
        red_minus_blue = (x[:, 0] - x[:, 2]).mean(dim=(1, 2))  # (B,)
        return 100.0 * red_minus_blue[:, None] * self.sign[None, :]


# --------------------------------------------------------------------------- the rules


def test_match_classes_rules() -> None:
    assert match_classes(["a", "b"], ["a", "b"]).note == ""
    m = match_classes(["apple", "pear"], ["pear", "apple"])
    assert m.index == (1, 0) and "matched by name" in m.note and "pear, apple" in m.note
    assert match_classes(["a", "b", "c"], ["c", "a"]).index == (2, 0)  # a subset, by name
    with pytest.raises(ClassMismatchError, match=r"only by number .* classes\.txt"):
        match_classes(["apple", "pear"], ["0", "1"])  # which number is the apple is not said
    assert match_classes(["0", "1"], ["1", "0"]).index == (1, 0)  # a model trained on numbers: by name
    unnamed = match_classes(["class 0", "class 1"], ["x", "y"], model_named=False)
    assert unnamed.index == (0, 1) and "names no classes" in unnamed.note
    with pytest.raises(ClassMismatchError, match=r"3 classes .* predicts 2"):
        match_classes(["class 0", "class 1"], ["x", "y", "z"], model_named=False)


def test_differing_names_are_refused_with_both_lists() -> None:
    with pytest.raises(ClassMismatchError) as info:
        match_classes(["apple", "pear"], ["pear", "plum"])
    msg = str(info.value)
    assert "pear, plum" in msg and "apple, pear" in msg and "no class plum" in msg and "\n" not in msg


def test_align_classes_remaps_labels(tmp_path: Path) -> None:
    ds = load_user_dataset(_fruit(tmp_path)["yolo"], size=S)
    assert ds.classes == ["pear", "apple"]
    aligned = align_classes(ds, ["apple", "pear"])
    assert aligned.classes == ["apple", "pear"]
    assert torch.equal(aligned.labels, 1 - ds.labels)
    assert "matched by name" in aligned.notes[-1] and align_classes(aligned, ["apple", "pear"]) is aligned


@pytest.mark.parametrize("fmt", ["csv", "yolo", "coco"])
@pytest.mark.parametrize("model_order", [["apple", "pear"], ["pear", "apple"]])
def test_evaluate_matches_by_name_in_every_format(tmp_path: Path, fmt: str, model_order: list[str]) -> None:
    ds = load_user_dataset(_fruit(tmp_path)[fmt], size=S)
    model = _ColourModel(model_order)
    m = evaluate(model, ds, "classify", classes=model_order)
    assert m["accuracy"] == 1.0  # was 0 % whenever the data listed the classes in the other order
    assert list(m["per_class"]) == model_order and all(r["n"] == 12 for r in m["per_class"].values())


def test_evaluate_refuses_other_names(tmp_path: Path) -> None:
    ds = load_user_dataset(_fruit(tmp_path, yolo_names=("pear", "plum"))["yolo"], size=S)
    with pytest.raises(ClassMismatchError, match="pear, plum"):
        evaluate(_ColourModel(["apple", "pear"]), ds, "classify", classes=["apple", "pear"])


# --------------------------------------------------------------------------- the CLI


@pytest.fixture(scope="module")
def fruit_run(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    from idfy.train import TrainConfig, train

    root = tmp_path_factory.mktemp("fruit")
    paths = _fruit(root, n=48)
    out = root / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tc = TrainConfig(
            data=str(paths["csv"]), size=S, batch_size=16, max_steps=60, time_budget_s=None, eval_every=0,
            sample_every=0,
        )  # fmt: skip
        list(train(idfy.load_preset("tiny"), tc, out_dir=out))
    finally:
        torch.set_num_threads(threads)
    return out, paths


def test_cli_eval_remaps_another_class_order(fruit_run, capsys, tmp_path: Path) -> None:
    run, paths = fruit_run
    assert main(["eval", str(run), "--json", str(tmp_path / "csv.json")]) == 0
    assert main(["eval", str(run), "--data", str(paths["yolo"]), "--json", str(tmp_path / "yolo.json")]) == 0
    out = capsys.readouterr().out
    assert (
        "note: classes matched by name (the data's classes are pear, apple, the model's are apple, pear)"
        in out
    )
    csv_m = json.loads((tmp_path / "csv.json").read_text())
    yolo_m = json.loads((tmp_path / "yolo.json").read_text())
    assert csv_m["n"] == yolo_m["n"] == 12 and csv_m["accuracy"] != 0.5  # the same 12 images, a decided model
    assert yolo_m["accuracy"] == csv_m["accuracy"]  # not 1 - accuracy
    assert yolo_m["per_class"] == csv_m["per_class"]


def test_cli_eval_refuses_other_names_in_one_line(fruit_run, capsys, tmp_path: Path) -> None:
    run, _ = fruit_run
    plum = _fruit(tmp_path, yolo_names=("pear", "plum"))["yolo"]
    assert main(["eval", str(run), "--data", str(plum)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "pear, plum" in err and "apple, pear" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--n", "0"], "--n must be at least 1"),
        (["--json", "/proc/no/such/m.json"], "cannot write the metrics there"),
    ],
)
def test_cli_eval_arguments_are_checked_before_work(fruit_run, capsys, extra: list[str], words: str) -> None:
    run, _ = fruit_run
    assert main(["eval", str(run), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and words in captured.err
