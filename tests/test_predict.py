"""Prediction: every example image, any input form and size, stage views, overlays, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import idfy
from idfy.data import ImageError, make_dataset
from idfy.predict import Prediction, Predictor, draw_overlay
from idfy.train import TrainConfig, train
from idfy.train.events import Done

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "assets" / "examples").glob("*.png"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("run")
    data = (
        make_dataset("shapes", split="train", size=32, n=32),
        make_dataset("shapes", split="test", size=32, n=8),
    )
    tc = TrainConfig(size=32, batch_size=16, max_steps=4, time_budget_s=None, eval_every=0, sample_every=0)
    events = list(train(idfy.load_preset("tiny"), tc, out_dir=out, data=data))
    torch.set_num_threads(threads)
    assert isinstance(events[-1], Done)
    return out


@pytest.fixture(scope="module")
def predictor(run_dir) -> Predictor:
    return Predictor.from_checkpoint(run_dir, device="cpu")


def test_examples_exist_and_are_small() -> None:
    assert len(EXAMPLES) >= 4
    assert all(p.stat().st_size < 50 * 1024 for p in EXAMPLES)
    meta = json.loads((ROOT / "assets" / "examples" / "examples.json").read_text())
    assert {m["file"] for m in meta} == {p.name for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_predict_every_example(predictor: Predictor, path: Path) -> None:
    p = predictor.predict(path)
    h, w = p.image_size
    assert (h, w) == Image.open(path).size[::-1]
    x1, y1, x2, y2 = p.box
    assert 0 <= x1 <= x2 <= 1 and 0 <= y1 <= y2 <= 1
    assert p.box_pixels == pytest.approx((x1 * w, y1 * h, x2 * w, y2 * h))
    assert p.tuple == (*p.box, p.label) and p.tuple_pixels[-1] == p.label
    assert p.class_name == predictor.classes[p.label] and p.probs[p.class_name] == pytest.approx(p.score)
    assert sum(p.probs.values()) == pytest.approx(1.0, abs=1e-5)
    overlay = draw_overlay(predictor.load(path), p)
    assert overlay.mode == "RGB" and overlay.width >= w
    json.dumps(p.to_dict())


def test_stage_views_follow_the_network(predictor: Predictor) -> None:
    p = predictor.predict(EXAMPLES[0])
    names = [v.name for v in p.stage_views]
    assert names == ["stem", "stages.0", "stages.1", "stages.2"]  # tiny injects at the stem and every stage
    shapes = predictor.cfg.stage_shapes()
    for v, (c, h, w) in zip(p.stage_views[1:], shapes):
        assert v.shape == (c, h, w) and v.features.shape == (h, w) and v.top.shape == (4, h, w)
        assert v.injected.shape == (3, h, w) and v.injected.dtype == np.float32
        assert v.injected.min() >= 0.0 and v.injected.max() <= 1.0  # the image, not the 0–10 scaled input
        assert len(v.top_channels) == 4 and all(0 <= i < c for i in v.top_channels)


def test_any_input_form_gives_the_same_prediction(predictor: Predictor) -> None:
    path = EXAMPLES[0]
    ref = predictor.predict(path, stage_views=False)
    arr = np.array(Image.open(path).convert("RGB"))
    forms = [path.read_bytes(), str(path), Image.open(path), arr, torch.from_numpy(arr).permute(2, 0, 1),
             torch.from_numpy(arr).permute(2, 0, 1).float() / 255]  # fmt: skip
    for form in forms:
        p = predictor.predict(form, stage_views=False)
        assert p.label == ref.label and p.box == pytest.approx(ref.box, abs=1e-5)


def test_boxes_map_back_to_the_original_size(predictor: Predictor) -> None:
    img = torch.randint(0, 256, (3, 90, 200), dtype=torch.uint8)
    p = predictor.predict(img)
    x1, _, x2, y2 = p.box_pixels
    assert p.image_size == (90, 200) and x2 <= 200 and y2 <= 90
    assert x1 == pytest.approx(p.box[0] * 200) and y2 == pytest.approx(p.box[3] * 90)
    grey = torch.randint(0, 256, (1, 40, 40), dtype=torch.uint8)  # converted to the model's 3 channels
    assert isinstance(predictor.predict(grey), Prediction)


def test_bad_images_raise_image_error(predictor: Predictor, tmp_path) -> None:
    with pytest.raises(ImageError):
        predictor.predict(b"this is not an image")
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(ImageError):
        predictor.predict(tmp_path / "x.png")
    with pytest.raises(ImageError, match="C = 1 or 3"):
        predictor.predict(torch.zeros(5, 8, 8))


def test_from_model_and_classification(run_dir) -> None:
    cfg = idfy.load_preset("tiny").replace(task="classify", num_classes=3).set("input.size", [32, 32])
    p = Predictor.from_model(idfy.build_model(cfg), ["a", "b", "c"]).predict(EXAMPLES[0])
    assert p.box is None and p.tuple is None and p.class_name in {"a", "b", "c"}
    assert draw_overlay(Image.open(EXAMPLES[0]), p).size == (256, 256)  # 128 px enlarged for the label


def test_float_pixels_follow_the_range_rule(predictor: Predictor) -> None:
    arr = np.array(Image.open(EXAMPLES[0]).convert("RGB"))
    ref = predictor.predict(arr, stage_views=False)
    as_255 = predictor.predict(torch.from_numpy(arr).permute(2, 0, 1).double(), stage_views=False)
    assert as_255.label == ref.label and as_255.box == pytest.approx(ref.box, abs=1e-5)  # once a white image
    assert any("0..255" in n for n in as_255.notes)
    with pytest.raises(ImageError, match="NaN"):
        predictor.predict(np.full((8, 8, 3), np.nan, dtype=np.float32))
    with pytest.raises(ImageError, match="fits neither"):
        predictor.predict(arr.astype(np.float32) - 128.0)


def test_cli_predict_one_line_per_failure_and_notes(run_dir: Path, tmp_path: Path, capsys) -> None:
    from idfy.cli import main

    bad = tmp_path / "nan.tif"
    Image.fromarray(np.full((16, 16), np.nan, dtype=np.float32)).save(bad)
    wide = tmp_path / "other" / "wide.tif"
    wide.parent.mkdir()
    Image.fromarray(np.linspace(0, 255, 16 * 16, dtype=np.float32).reshape(16, 16)).save(wide)
    twin = tmp_path / "wide.tif"
    twin.write_bytes(wide.read_bytes())
    out = tmp_path / "out"
    assert main(["predict", str(bad), str(wide), str(twin), "-c", str(run_dir), "--out", str(out)]) == 1
    lines = capsys.readouterr().out.splitlines()
    errors = [ln for ln in lines if ": error: " in ln]
    assert len(errors) == 1 and errors[0].startswith(f"{bad}: error: ") and "NaN" in errors[0]
    assert "nan.tif: nan.tif" not in errors[0]  # the file name is said once
    assert sum("note: float pixels read as 0..255" in ln for ln in lines) == 2
    assert {p.name for p in out.glob("*.json")} == {"wide.json", "wide-2.json"}  # no output overwritten
    assert json.loads((out / "wide.json").read_text())["notes"] == ["float pixels read as 0..255"]
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert main(["predict", str(wide), "-c", str(run_dir), "--out", str(blocked / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the predictions there" in err


def test_cli_predict_claims_no_output_when_nothing_was_written(run_dir: Path, tmp_path: Path, capsys) -> None:
    from idfy.cli import main

    bad = tmp_path / "nan.tif"
    Image.fromarray(np.full((16, 16), np.nan, dtype=np.float32)).save(bad)
    out = tmp_path / "never"
    assert main(["predict", str(bad), "-c", str(run_dir), "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "nothing written" in printed and "overlays and JSON" not in printed
    assert not out.exists()  # the folder made for the run is not left behind empty


def test_cli_predict_warns_like_the_app_when_the_image_is_unlike_the_training_data(
    run_dir: Path, tmp_path: Path, capsys
) -> None:
    from idfy.cli import main

    ckpt = torch.load(run_dir / "best.pt", weights_only=True) if (run_dir / "best.pt").is_file() else None
    dataset = (ckpt or torch.load(run_dir / "last.pt", weights_only=True)).get("data")
    colour = Path(__file__).resolve().parent.parent / "assets" / "examples" / "shapes_star.png"
    grey = tmp_path / "grey.png"
    Image.new("L", (48, 48), 128).save(grey)
    image = grey if dataset == "shapes" else colour  # an image of the other kind than the checkpoint's data
    assert main(["predict", str(image), "-c", str(run_dir), "--out", str(tmp_path / "o")]) == 0
    assert f"warning: this image does not look like the {dataset} images" in capsys.readouterr().out


def test_cli_predict_decodes_each_image_once_and_gives_the_apps_answer(
    run_dir: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import idfy.data
    import idfy.predict
    from idfy.cli import main

    calls: list[object] = []
    real = idfy.data.decode_image

    def counting(source: object, *args: object, **kwargs: object) -> object:
        calls.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(idfy.data, "decode_image", counting)
    monkeypatch.setattr(idfy.predict, "decode_image", counting)  # Predictor.load's own decoder
    image = EXAMPLES[0]
    assert main(["predict", str(image), "-c", str(run_dir), "--out", str(tmp_path / "o")]) == 0
    assert calls == [str(image)]  # predicted, checked against the training data and drawn from one decode
    record = json.loads((tmp_path / "o" / f"{image.stem}.json").read_text())
    app = Predictor.from_checkpoint(run_dir, device="cpu").predict(real(image, channels=3).image)
    assert record["tuple"] == pytest.approx(app.to_dict()["tuple"])  # the same input as the Predict tab's
