"""The Train tab's words before a run: the idle status line follows the settings (one run, or a race whose designs
train in turns, each on the whole budget), the budget's label follows its unit in a race, and the augmentation
caption says what the ticked boxes do, as :func:`make_configs` passes them to the engine."""

from __future__ import annotations

import itertools
import re

import gradio as gr
import pytest

from idfy.train.config import TrainConfig
from idfy.ui.run_view import idle_status
from idfy.ui.tabs.train import handlers as h
from idfy.ui.tabs.train.layout import controls
from idfy.ui.tabs.train.settings import TrainSettings, augmentation_text, augmentations, make_configs


def _text(status: str) -> str:
    return re.sub(r"<[^>]+>", " ", status)


# --------------------------------------------------------------------------- idle status
def test_the_idle_status_of_one_run_names_design_data_and_budget() -> None:
    text = _text(idle_status(TrainSettings()))
    tc = TrainConfig()
    assert f"Press Start to train demo on {tc.data} for {tc.time_budget_s:g} s." in text
    assert "race" not in text.split("Add designs")[0]  # no race promised for one run
    steps = _text(idle_status(TrainSettings(budget_kind="steps", budget=300)))
    assert "for 300 steps." in steps and "time budget runs from Start" not in steps


def test_the_idle_status_of_a_race_names_every_design_and_the_budget_each_gets() -> None:
    """Each design gets the whole budget on its own clock, in turns (idfy.train.race): 2 designs × 20 s ≈ 40 s."""
    s = TrainSettings(budget=20, race=("tiny_tuned",))
    text = _text(idle_status(s))
    assert "Press Start race to race demo and tiny_tuned on fashion-canvas" in text, text
    assert "each of the 2 designs gets 20 s of training on its own clock" in text
    assert "in turns" in text and "about 40 s (2 × 20 s)" in text
    assert "Press Start to train" not in text
    three = _text(idle_status(TrainSettings(dataset="shapes", budget=15, race=("tiny", "saved: wide"))))
    assert "race demo, tiny and wide on shapes" in three and "about 45 s (3 × 15 s)" in three
    steps = _text(idle_status(TrainSettings(budget_kind="steps", budget=200, race=("tiny",))))
    assert "each of the 2 designs gets 200 steps" in steps and "s (2 ×" not in steps


def test_a_setting_change_updates_the_idle_status_only() -> None:
    idle = idle_status(TrainSettings())
    out = h.idle(idle, "fashion-canvas", "demo", ["tiny_tuned"], "seconds", 20)
    assert "Press Start race to race demo and tiny_tuned" in _text(out["status"])
    back = h.idle(out["status"], "shapes", "tiny", [], "steps", 50)
    assert "Press Start to train tiny on shapes for 50 steps." in _text(back["status"])
    running = '<div class="ts" data-state="training">…</div>'
    assert h.idle(running, "shapes", "tiny", ["demo"], "seconds", 20) == {}  # a run's status stays
    for bad in (
        None,
        "",
        "x",
        float("nan"),
    ):  # Start refuses these with a message; the line keeps its last words
        assert h.idle(idle, "shapes", "tiny", [], "seconds", bad) == {}


def test_the_budget_label_says_per_design_and_its_unit_in_a_race() -> None:
    assert h.race_mode(["tiny"], "steps")["budget"]["label"] == "budget per design (steps)"
    assert h.race_mode([], "seconds")["budget"]["label"] == "budget (seconds)"
    assert h.budget_default("steps", ["tiny"])["budget"]["label"] == "budget per design (steps)"
    assert h.budget_default("seconds")["budget"]["label"] == "budget (seconds)"


# --------------------------------------------------------------------------- augmentation
def test_the_demo_runs_flips_only_and_its_caption_says_so() -> None:
    """The demo (TrainConfig's defaults, the tab's first settings) flips but neither shifts nor erases."""
    settings = TrainSettings()
    _, tc = make_configs(settings)
    assert (tc.augment, tc.translate, tc.erase) == (True, 0.0, 0.0)
    assert settings.augment == ("flip",)
    text = augmentation_text(settings.augment)
    assert text == "applied: random horizontal flips · off: shift, erase"
    with gr.Blocks():
        c = controls(settings)
    assert c["augment"].value == ["flip"] and c["augment"].info == text


@pytest.mark.parametrize(
    "ticked", [combo for n in range(4) for combo in itertools.combinations(augmentations(), n)]
)
def test_the_caption_describes_what_the_engine_gets(ticked: tuple[str, ...]) -> None:
    _, tc = make_configs(TrainSettings(augment=ticked))
    text = augmentation_text(ticked)
    applied = text.split(" · off: ")[0]
    assert ("horizontal flips" in applied) == tc.augment
    assert (f"shifts of up to {100 * tc.translate:g} % of the side" in applied) == (tc.translate > 0)
    assert (f"random erasing (p = {tc.erase:g} per image)" in applied) == (tc.erase > 0)
    if not ticked:
        assert applied == "none: the training images are used as they are"
    off = set(text.split(" · off: ")[1].split(", ")) if " · off: " in text else set()
    assert off == set(augmentations()) - set(ticked)


def test_ticking_a_box_updates_the_caption() -> None:
    out = h.augment_info(["flip", "shift"])
    assert out["augment"]["info"] == augmentation_text(("flip", "shift"))
    assert "shifts of up to 10 % of the side" in out["augment"]["info"]
    assert h.augment_info(None)["augment"]["info"].startswith("none:")
