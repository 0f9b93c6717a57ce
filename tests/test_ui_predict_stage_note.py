"""The Predict tab's note over "what each stage sees" follows the checkpoint's design: the re-injected image is
named only where the design injects it (``tiny`` at the stem and every stage, ``demo`` nowhere), the places agree
with the stage views the library collects, and the handler sends the loaded checkpoint's note."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from idfy import build_model, load_preset
from idfy.plan import injection_places
from idfy.predict import Predictor
from idfy.ui.formatting import part_label
from idfy.ui.tabs import predict as predict_tab
from idfy.ui.tabs.predict.pictures import stage_note

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = sorted((ROOT / "assets" / "examples").glob("*.png"))[0]
INJECTED = "the image re-injected there"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def test_demo_injects_nothing_and_its_note_says_so() -> None:
    demo = load_preset("demo")
    assert injection_places(demo) == []
    note = stage_note(demo)
    assert INJECTED not in note and "re-injects no image" in note and "four strongest channels" in note


def test_a_design_with_injection_names_its_places() -> None:
    assert injection_places(load_preset("tiny")) == ["stem", "stages.0", "stages.1", "stages.2"]
    assert injection_places(load_preset("medium")) == ["stem"]
    assert f"{INJECTED} (S1: stem, stage 1, stage 2, stage 3)" in stage_note(load_preset("tiny"))
    assert f"{INJECTED} (S1: stem, stage 1, stage 2, stage 3, head inject)" in stage_note(load_preset("full"))
    assert f"{INJECTED} (S1: stem)," in stage_note(load_preset("medium"))
    one = load_preset("demo").set("stages.1.inject", True)
    assert f"{INJECTED} (S1: stage 2)," in stage_note(one)


def test_without_a_checkpoint_the_note_claims_no_injection() -> None:
    note = stage_note(None)
    assert "where the checkpoint's design does so" in note and "(S1:" not in note


@pytest.mark.parametrize("preset", ["demo", "tiny", "full", "medium"])
def test_the_note_names_exactly_the_places_the_stage_views_show_an_injected_image(preset: str) -> None:
    cfg = load_preset(preset).set("input.size", [64, 64])
    prediction = Predictor.from_model(build_model(cfg).eval()).predict(torch.rand(3, 64, 64))
    shown = [v.name for v in prediction.stage_views if v.injected is not None]
    assert shown == injection_places(cfg)
    note = stage_note(cfg)
    assert (INJECTED in note) == bool(shown)
    assert all(part_label(name) in note for name in shown)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Checkpoints written by the library (2 steps at 32 px) of a design with injection and of ``demo``."""
    from idfy.data import make_dataset
    from idfy.train import TrainConfig, train
    from idfy.train.events import Done

    data = (
        make_dataset("shapes", split="train", size=32, n=32),
        make_dataset("shapes", split="test", size=32, n=8),
    )
    tc = TrainConfig(size=32, batch_size=16, max_steps=2, time_budget_s=None, eval_every=0, sample_every=0)
    out: dict[str, Path] = {}
    for name in ("tiny", "demo"):
        done = list(train(load_preset(name), tc, out_dir=tmp_path_factory.mktemp(name), data=data))[-1]
        assert isinstance(done, Done) and done.checkpoint
        out[name] = Path(done.checkpoint)
    return out


def test_the_prediction_sends_the_checkpoints_note(checkpoints: dict[str, Path]) -> None:
    tiny = predict_tab.predict_image(str(EXAMPLE), predict_tab.UPLOADED, str(checkpoints["tiny"]), "s")
    demo = predict_tab.predict_image(str(EXAMPLE), predict_tab.UPLOADED, str(checkpoints["demo"]), "s")
    assert set(tiny) == set(demo) == set(predict_tab.OUTPUTS)
    assert 'data-state="ok"' in tiny["summary"] and 'data-state="ok"' in demo["summary"]
    assert f"{INJECTED} (S1: stem, stage 1, stage 2, stage 3)" in tiny["note"]
    assert any(" · injected " in caption for _, caption in tiny["stages"])
    assert INJECTED not in demo["note"] and "re-injects no image" in demo["note"]
    assert not any(" · injected " in caption for _, caption in demo["stages"])


def test_a_chosen_checkpoint_sets_the_note_before_any_image(
    checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    ready = predict_tab.predict_image(None, predict_tab.UPLOADED, str(checkpoints["demo"]), "s")
    assert "Checkpoint ready" in ready["summary"] and ready["note"] == stage_note(load_preset("demo"))
    bad = tmp_path / "photo.png"
    bad.write_text("not really a picture")
    failed = predict_tab.predict_image(str(bad), predict_tab.UPLOADED, str(checkpoints["tiny"]), "s")
    assert 'data-state="err"' in failed["summary"] and "(S1: stem" in failed["note"]
    nothing = predict_tab.predict_image(str(EXAMPLE), predict_tab.UPLOADED, None, "s")
    assert nothing["note"] == stage_note(None)
