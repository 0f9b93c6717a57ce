"""Train / Predict tabs without a browser: the job line (limit, place in line, stop, folders), the settings
checks, a tiny live run (curves, samples, metrics, checkpoint), Stop, failures shown as messages, and
predictions on every example and on bad uploads."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from gradio.components.plot import PlotData
from PIL import Image

from idfy import load_preset
from idfy.config import ConfigError
from idfy.train.chance import Chance
from idfy.train.events import Failed, Samples, Start, Step
from idfy.ui import jobs
from idfy.ui.jobs import JobError, JobRegistry, ordinal
from idfy.ui.tabs import predict as predict_tab
from idfy.ui.tabs import train as train_tab
from idfy.ui.tabs.predict import checkpoints as predict_checkpoints
from idfy.ui.tabs.predict.handlers import box_iou_xyxy
from idfy.ui.tabs.train import RUN_OUTPUTS, TrainSettings, make_configs, run_training
from idfy.ui.tabs.train import handlers as train_handlers
from idfy.ui.tabs.train import settings as train_settings
from idfy.viz import samples as sample_pictures

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "assets" / "examples").glob("*.png"))
#: A run small enough for a unit test: tiny on shapes at 32 px, 25 steps of 16 images.
TINY = TrainSettings(dataset="shapes", model="tiny", size=32, budget_kind="steps", budget=25, batch_size=16)


@pytest.fixture(scope="module", autouse=True)
def _small_and_single_threaded() -> Iterator[None]:
    """Other tests share the 2 cores: one torch thread, and demo data of a few hundred images."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(train_tab.RUN_OVERRIDES, "n_train", 400)
        mp.setitem(train_tab.RUN_OVERRIDES, "n_test", 100)
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> JobRegistry:
    return JobRegistry(1, root=tmp_path_factory.mktemp("jobs"))


def _state(status: str) -> str:
    m = re.search(r'data-state="(\w+)"', status)
    assert m, status
    return m.group(1)


@pytest.fixture(scope="module")
def tiny_run(registry: JobRegistry) -> list[dict[str, Any]]:
    """Every page update (``{name: value}`` of what changed) of one tiny run of session ``trained``."""
    return list(run_training(TINY, None, "trained", registry=registry))


# --------------------------------------------------------------------------- jobs
def test_ordinal() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
    ]  # fmt: skip


def test_max_trainings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDFY_MAX_TRAININGS", raising=False)
    assert jobs.max_trainings() == jobs.DEFAULT_MAX_TRAININGS
    monkeypatch.setenv("IDFY_MAX_TRAININGS", "3")
    assert jobs.max_trainings() == 3
    assert JobRegistry().limit == 3
    for bad in ("0", "two"):
        monkeypatch.setenv("IDFY_MAX_TRAININGS", bad)
        with pytest.raises(ValueError, match="IDFY_MAX_TRAININGS"):
            jobs.max_trainings()


def test_line_is_first_come_first_served(tmp_path: Path) -> None:
    reg = JobRegistry(1, root=tmp_path)
    a, b, c = reg.submit("a"), reg.submit("b"), reg.submit("c")
    assert [t.position() for t in (a, b, c)] == [1, 2, 3]
    assert not c.wait(0.05)  # c is not at the front
    assert a.wait(0.05) and a.position() == 0
    assert [b.position(), c.position()] == [1, 2]
    assert not b.wait(0.05)  # the one slot is taken
    started = threading.Event()

    def wait_b() -> None:
        if b.wait(5):
            started.set()

    th = threading.Thread(target=wait_b)
    th.start()
    a.release()
    th.join(5)
    assert started.is_set() and reg.counts() == (1, 1)
    assert c.position() == 1
    b.release()
    c.release()
    assert reg.counts() == (0, 0)


def test_stop_while_waiting_leaves_the_line(tmp_path: Path) -> None:
    reg = JobRegistry(1, root=tmp_path)
    a, b = reg.submit("a"), reg.submit("b")
    assert a.wait(0.01)
    assert reg.stop("b") and b.stop.is_set()
    assert not b.wait(1)  # gives up at once
    b.release()
    assert reg.counts() == (1, 0)
    assert not reg.stop("nobody")
    a.release()


def test_one_training_per_session_and_a_full_line(tmp_path: Path) -> None:
    reg = JobRegistry(1, max_waiting=2, root=tmp_path)
    t = reg.submit("a")
    with pytest.raises(JobError, match="already has a training"):
        reg.submit("a")
    reg.submit("b")
    with pytest.raises(JobError, match="waiting"):
        reg.submit("c")
    t.release()
    reg.submit("a").release()  # free again once released


def test_session_folders_and_forget(tmp_path: Path) -> None:
    reg = JobRegistry(1, root=tmp_path)
    folder = reg.session_dir("some session/../x")
    assert folder.parent == tmp_path and ".." not in folder.name
    run1, run2 = reg.new_run_dir("some session/../x"), reg.new_run_dir("some session/../x")
    assert run1 != run2 and run1.parent == folder
    ckpt = folder / "a.pt"
    ckpt.write_bytes(b"x")
    reg.set_latest("some session/../x", ckpt, {"step": 3})
    assert reg.latest("some session/../x").info == {"step": 3}
    assert reg.latest("other") is None and reg.latest(None) is None
    reg.forget("some session/../x")
    assert not folder.exists() and reg.latest("some session/../x") is None


# --------------------------------------------------------------------------- settings
def test_the_tab_opens_on_the_engines_demo() -> None:
    """Start without changes runs what ``python -m idfy train`` runs with no flags: the engine's defaults."""
    from idfy.train import config as train_config

    cfg, tc = make_configs(TrainSettings())
    assert tc == train_config.TrainConfig().replace(**train_tab.RUN_OVERRIDES)
    demo = train_config.DEFAULT_PRESET
    assert train_tab.default_model() == demo and cfg.name == load_preset(demo).name
    _, tc = make_configs(TrainSettings(budget_kind="steps", budget=300, optimizer="sgd"))
    assert (tc.time_budget_s, tc.max_steps, tc.optimizer) == (None, 300, "sgd")
    _, tc = make_configs(TrainSettings(augment=("shift", "erase")))
    assert (tc.augment, tc.translate, tc.erase) == (False, 0.1, 0.25)


def test_the_tabs_defaults_follow_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """One place: a changed engine default changes what the tab opens on."""
    from idfy.train import config as train_config

    @dataclasses.dataclass(frozen=True)
    class Changed(train_config.TrainConfig):
        size: int = 48
        batch_size: int = 24

    monkeypatch.setattr(train_settings, "TrainConfig", Changed)
    monkeypatch.setattr(train_config, "DEFAULT_PRESET", "tiny")
    settings = TrainSettings()
    assert (settings.size, settings.batch_size, settings.model) == (48, 24, "tiny")
    assert 24 in train_tab.batch_sizes()


def test_current_design_comes_from_the_design_tab() -> None:
    from idfy import load_preset

    yaml_text = load_preset("seed_model2").to_yaml()
    cfg, _ = make_configs(TrainSettings(model=train_tab.CURRENT_DESIGN), yaml_text)
    assert cfg.name == "seed_model2"


@pytest.mark.parametrize(
    ("changes", "config_yaml", "match"),
    [
        ({"size": 500}, None, "input size"),
        ({"size": 16}, None, "input size"),
        ({"budget": 0}, None, "budget"),
        ({"budget": 10_000}, None, "budget"),
        ({"budget_kind": "steps", "budget": 2.5}, None, "whole number of steps"),
        ({"lr": 0}, None, "learning rate"),
        ({"lr": float("nan")}, None, "learning rate"),
        ({"batch_size": 7}, None, "batch size"),
        ({"dataset": "imagenet"}, None, "dataset"),
        ({"augment": ("flip", "mixup")}, None, "augmentation: unknown 'mixup'"),
        ({"model": "nope"}, None, "unknown preset"),
        ({"model": train_tab.CURRENT_DESIGN}, "", "Design tab"),
        ({"model": train_tab.CURRENT_DESIGN}, "name: x\nstages: 3\n", "stages: expected a list"),
    ],
)
def test_bad_settings_say_which_control(changes: dict[str, Any], config_yaml: str | None, match: str) -> None:
    with pytest.raises((ConfigError, ValueError), match=match):
        make_configs(TrainSettings(**{**TrainSettings().__dict__, **changes}), config_yaml)


def test_bad_settings_are_a_message_in_the_status(registry: JobRegistry) -> None:
    (out, *more) = list(run_training(TrainSettings(lr=-1), None, "bad", registry=registry))
    status = out["status"]
    assert (
        set(out) == set(RUN_OUTPUTS) and not more and _state(status) == "failed" and "learning rate" in status
    )
    assert registry.active("bad") is None  # nothing was queued


# --------------------------------------------------------------------------- a live run
def test_run_streams_curves_samples_and_keeps_the_checkpoint(
    tiny_run: list[dict[str, Any]], registry: JobRegistry
) -> None:
    states = [_state(u["status"]) for u in tiny_run]
    assert states[0] == "preparing" and "training" in states and states[-1] == "done"
    assert all(set(u) <= set(RUN_OUTPUTS) and "status" in u for u in tiny_run)
    first = tiny_run[0]  # the first update clears what an earlier run left
    assert isinstance(first["curves"], PlotData)
    assert (first["samples"], first["metrics"], first["checkpoint"]) == (None, [], None)
    assert any(set(u) < set(RUN_OUTPUTS) for u in tiny_run[1:-1])  # later ones send only what changed
    plots = [u["curves"] for u in tiny_run if isinstance(u.get("curves"), PlotData)]
    assert len(plots) >= 3  # the curves grow while training
    final = json.loads(plots[-1].plot)
    traces = {t["name"]: t for t in final["data"]}
    assert {
        "loss (total)",
        "box L1",
        "GIoU",
        "class CE",
        "class accuracy",
        "mean IoU",
        "loc. accuracy",
    } <= set(traces)
    assert len(traces["loss (total)"]["x"]) >= 3  # a point every few steps and at the end
    # held-out points during the run (fixed fractions of the budget) and at the end, with the chance lines
    assert len(traces["loc. accuracy"]["x"]) >= 5
    chance = [t for n, t in traces.items() if n.startswith("chance: loc. accuracy")]
    assert chance and chance[0]["line"]["dash"] == "dash" and 0 < chance[0]["y"][0] < 100
    assert any(n.startswith("chance: class accuracy") for n in traces)
    images = [u["samples"] for u in tiny_run if isinstance(u.get("samples"), Image.Image)]
    assert images and images[-1].width >= 4 * sample_pictures.TILE
    assert set(tiny_run[-1]) == set(RUN_OUTPUTS)  # the final update carries every value
    status, rows, ckpt = (tiny_run[-1][k] for k in ("status", "metrics", "checkpoint"))
    assert "step budget reached at step 25" in status and "checkpoint kept" in status
    assert re.search(r'id="train-verdict" data-beat="(yes|no)"', status)
    if 'data-beat="no"' in status:  # 25 steps: a run at chance says it was too short to learn
        assert "only 25 training steps ran" in status
    assert "chance" in status and "for a constant answer" in status
    assert "Traceback" not in status
    assert rows[0][0] == "all" and rows[0][1] == 100 and len(rows) == 1 + 7  # all + the 7 shape classes
    assert all(str(r[2]).endswith("%") for r in rows)
    assert Path(ckpt).is_file() and Path(ckpt).name == "idfy-tiny-shapes-32px-step25.pt"
    latest = registry.latest("trained")
    assert latest is not None and latest.path == ckpt and latest.info["step"] == 25
    assert not any(p.name.startswith("run-") for p in Path(ckpt).parent.iterdir())  # run folder cleaned
    assert registry.active("trained") is None and registry.counts() == (0, 0)


def test_stop_ends_the_run_cleanly_and_keeps_its_checkpoint(registry: JobRegistry) -> None:
    settings = dataclasses.replace(TINY, budget_kind="seconds", budget=120)
    t0 = time.monotonic()
    updates = []
    for update in run_training(settings, None, "stopper", registry=registry):
        updates.append(update)
        if _state(update["status"]) == "training" and isinstance(update.get("curves"), PlotData):
            registry.stop("stopper")  # what the Stop button does
    status, ckpt = updates[-1]["status"], updates[-1]["checkpoint"]
    assert _state(status) == "stopped" and "stopped at step" in status
    assert Path(ckpt).is_file() and registry.latest("stopper").info["reason"] == "stopped"
    assert time.monotonic() - t0 < 60
    assert registry.active("stopper") is None


def test_waiting_in_line_shows_the_place_and_can_be_stopped(registry: JobRegistry) -> None:
    blocker = registry.submit("someone else")
    assert blocker.wait(1)
    try:
        gen = run_training(TINY, None, "patient", registry=registry)
        status = next(gen)["status"]
        assert _state(status) == "waiting" and "1st in line" in status and "1 at a time" in status
        registry.stop("patient")
        rest = list(gen)
        assert _state(rest[-1]["status"]) == "stopped" and "before it started" in rest[-1]["status"]
    finally:
        blocker.release()
    assert registry.counts() == (0, 0)


def test_a_second_start_in_the_same_session_is_refused(registry: JobRegistry) -> None:
    held = registry.submit("busy")
    try:
        (out,) = list(run_training(TINY, None, "busy", registry=registry))
        status = out["status"]
        assert _state(status) == "failed" and "already has a training" in status
    finally:
        held.release()


def _fake_train(*events: Any) -> Any:
    def train(*args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from events

    return train


def test_nan_is_shown_as_the_engine_says(monkeypatch: pytest.MonkeyPatch, registry: JobRegistry) -> None:
    msg = "loss became NaN at step 3; lower the lr (now 10) or lower the gradient clipping (now 2)"
    monkeypatch.setattr("idfy.ui.tabs.train.runs.train", _fake_train(Failed(message=msg, step=3)))
    status = list(run_training(TINY, None, "nan", registry=registry))[-1]["status"]
    assert _state(status) == "failed" and "loss became NaN at step 3" in status
    assert registry.active("nan") is None


def test_missing_fashion_files_are_a_message(monkeypatch: pytest.MonkeyPatch, registry: JobRegistry) -> None:
    def missing(tc: Any) -> Any:
        raise FileNotFoundError(
            "Fashion-MNIST files not found in /nowhere; apt-get install dataset-fashion-mnist"
        )

    monkeypatch.setattr("idfy.train.race.make_data", missing)  # the real engine turns it into Failed
    settings = TrainSettings(**{**TINY.__dict__, "dataset": "fashion-canvas"})
    status = list(run_training(settings, None, "fashion", registry=registry))[-1]["status"]
    assert _state(status) == "failed" and "apt-get install dataset-fashion-mnist" in status


def test_an_unexpected_error_is_logged_not_shown(
    monkeypatch: pytest.MonkeyPatch, registry: JobRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Iterator[Any]:
        raise RuntimeError("secret internals")
        yield  # a generator

    monkeypatch.setattr("idfy.ui.tabs.train.runs.train", broken)
    status = list(run_training(TINY, None, "broken", registry=registry))[-1]["status"]
    assert _state(status) == "failed" and "server log" in status and "secret" not in status
    assert "secret internals" in caplog.text
    assert registry.counts() == (0, 0)


# --------------------------------------------------------------------------- pictures
def _samples(channels: int, boxes: bool) -> Samples:
    k = 6
    b = torch.tensor([[0.1, 0.2, 0.6, 0.7]]).repeat(k, 1)
    return Samples(
        step=7,
        images=torch.rand(k, channels, 28, 28),
        pred_boxes=b if boxes else None,
        pred_labels=[0, 1, 2, 0, 1, 2],
        pred_scores=[0.9] * k,
        true_boxes=b if boxes else None,
        true_labels=[0, 1, 1, 0, 2, 2],
        classes=["a", "b", "c"],
    )


@pytest.mark.parametrize(("channels", "boxes"), [(3, True), (1, True), (1, False)])
def test_samples_image_is_one_enlarged_grid(channels: int, boxes: bool) -> None:
    tile = sample_pictures.TILE
    img = train_tab.samples_image(_samples(channels, boxes))
    assert img.mode == "RGB" and img.width > 4 * tile and img.height > 2 * tile
    px = img.load()
    tile_x, tile_y = 8 + int(0.1 * tile), 26 + 8 + int(0.4 * tile)
    assert (
        px[tile_x, tile_y] in (sample_pictures.TRUTH, sample_pictures.PRED)
    ) == boxes  # the boxes' left edge


def test_curves_figure_of_a_classification_run() -> None:
    steps = [Step(s, s / 10, 1.0 / s, 0.0, 0.0, 1.0 / s, 1e-3, 100.0, s / 5) for s in (5, 10, 15)]
    fig = train_tab.curves_figure(steps, [])
    assert [t["name"] for t in fig["data"]] == ["loss (total)", "class CE"]  # box parts are always 0
    assert "held-out points appear" in json.dumps(fig["layout"]["annotations"])
    chance = Chance(n=10, num_classes=4, accuracy=0.3)  # no boxes: only the class-accuracy line
    fig = train_tab.curves_figure(steps, [], chance=chance)
    line = fig["data"][-1]
    assert line["name"] == "chance: class accuracy 30.0 %" and line["y"] == [30.0, 30.0]
    assert line["x"] == [0, 15]  # from the start to the last step


def test_images_per_s_is_smoothed() -> None:
    view = train_tab.RunView(TINY)
    for i, speed in enumerate((100.0, 1000.0, 100.0, 1000.0), 1):
        view.apply(Step(5 * i, 0.1 * i, 1.0, 0.5, 0.3, 0.2, 1e-3, speed, float(i)))
    shown = dict(view.chips())["images/s"]
    assert 100 < float(shown.replace(",", "")) < 1000 and shown != "1,000"  # not the last window's jump


def test_the_end_of_a_run_gives_one_clock_and_says_what_came_after_it() -> None:
    """The headline and the numbers agree on the seconds from Start (the budget's clock, data preparation
    included); the final held-out evaluation's seconds are shown apart, named as what came after."""
    from idfy.train.events import Done

    view = train_tab.RunView(dataclasses.replace(TINY, budget_kind="seconds", budget=60))
    view.prep_s = 2.0
    view.apply(Step(400, 1.0, 1.0, 0.5, 0.3, 0.2, 1e-3, 900.0, 30.0))
    view.apply(Step(926, 2.0, 0.8, 0.4, 0.3, 0.1, 1e-4, 900.0, 58.2))
    view.apply(Done(step=926, reason="budget", metrics={}, elapsed=63.0))
    chips = dict(view.chips())
    assert chips["since Start"] == "60.2 s / 60 s budget"
    assert chips["final evaluation"] == "4.8 s after that"
    assert "at step 926, 60.2 s after Start" in view.headline()
    seconds = set(re.findall(r"(\d+(?:\.\d+)?) s\b", view.status_html()))
    assert seconds == {"60.2", "60", "4.8"}, seconds  # no second, disagreeing total (65 s before)


def test_a_race_shows_each_designs_own_time_against_its_budget() -> None:
    """The designs take turns: each line counts that design's own training seconds against its budget."""
    from idfy.train.race import Lap
    from idfy.ui.race_view import RaceView

    view = RaceView(["tiny", "small"], "race", budget_s=60)
    view.apply(Lap(0, "tiny", Step(40, 0.5, 1.0, 0.5, 0.3, 0.2, 1e-3, 500.0, 21.44)))
    rows = {name: text for name, _, text in view.rows()}
    assert "21.4 s of its 60 s budget" in rows["tiny"] and rows["small"] == "waiting for its turn"


def test_race_from_the_compare_selection() -> None:
    """ "Race these in Train": the first design is the model, the others race against it; saved designs come along."""
    out = train_handlers.from_compare(["small", "saved: wide", "tiny", "small"], {"wide": "x"})
    model, race_with, saved, tabs = (out[k] for k in ("model", "race_with", "saved", "tabs"))
    assert model["value"] == "small" and race_with["value"] == ["saved: wide", "tiny"]
    assert "saved: wide" in model["choices"] and saved == {"wide": "x"} and tabs.selected == "train"
    settings = dataclasses.replace(TINY, model="tiny", race=("saved: wide",))
    with pytest.raises(ConfigError, match="no saved design called 'wide'"):
        train_tab.make_race(settings, None, {})
    wide = load_preset("tiny").replace(name="wide").to_yaml()
    entrants, tc = train_tab.make_race(settings, None, {"wide": wide})
    assert [e.name for e in entrants] == ["tiny", "wide"] and tc.max_steps == 25
    with pytest.raises(ValueError, match="race against"):
        train_tab.make_race(TINY)


def test_race_samples_side_by_side() -> None:
    img = sample_pictures.race_samples_image(
        ["tiny", "a very long design name indeed"], [_samples(3, True), None]
    )
    assert img.mode == "RGB" and img.height > 2 * 104 and img.width > 4 * 104


def test_metrics_rows() -> None:
    m = {
        "n": 10,
        "accuracy": 0.5,
        "mean_iou": 0.4321,
        "loc_accuracy": 0.25,
        "per_class": {
            "a": {"n": 0, "accuracy": float("nan"), "iou": float("nan"), "loc_accuracy": float("nan")}
        },
    }
    assert train_tab.metrics_rows(m) == [["all", 10, "50.0 %", "0.432", "25.0 %"], ["a", 0, "—", "—", "—"]]
    assert train_tab.metrics_rows({"n": 4, "accuracy": 1.0, "per_class": {}}) == [
        ["all", 4, "100.0 %", "—", "—"]
    ]


def test_start_event_notes_reach_the_status() -> None:
    view = train_tab.RunView(TINY)
    start = Start(None, None, 1, 1, ["a"], "localize", "cpu", 1, 1234, 1, 25, notes=["model adapted"])  # type: ignore[arg-type]
    assert view.apply(start)
    assert "model adapted" in view.status_html() and "1,234" in view.status_html()


# --------------------------------------------------------------------------- predict
@pytest.fixture(scope="module")
def checkpoint(tiny_run: list[dict[str, Any]]) -> str:
    return tiny_run[-1]["checkpoint"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_predict_every_example(example: Path, tiny_run: Any, registry: JobRegistry) -> None:
    out = predict_tab.predict_image(str(example), predict_tab.LATEST, None, "trained", registry=registry)
    assert set(out) == set(predict_tab.OUTPUTS)
    summary, overlay, probs, views, data = (out[k] for k in ("summary", "overlay", "probs", "stages", "json"))
    assert 'data-state="ok"' in summary and "latest from Train" in summary and "step 25" in summary
    assert "true: " in summary  # a known example: its truth is shown
    assert isinstance(overlay, Image.Image) and min(overlay.size) >= 256
    assert abs(sum(probs.values()) - 1) < 1e-4 and len(probs) == 7
    x1, y1, x2, y2, label = data["tuple_pixels"]
    h, w = data["image_size"]
    assert 0 <= x1 <= x2 <= w and 0 <= y1 <= y2 <= h and label == data["label"]
    assert len(data["tuple"]) == 5 and all(0 <= v <= 1 for v in data["tuple"][:4])
    captions = [c for _, c in views]
    assert "stem · injected 3×16×16" in captions  # the stride-2 stem of tiny
    assert any(c.startswith("stage 2 · features") for c in captions)
    assert all(isinstance(im, Image.Image) and min(im.size) >= 64 for im, _ in views)


def test_predict_flags_other_data_and_a_checkpoint_at_chance(tiny_run: Any, registry: JobRegistry) -> None:
    """The tiny run (25 steps of shapes) guesses; a Fashion-MNIST item is not a shapes image."""
    fashion = next(p for p in EXAMPLES if p.stem.startswith("fashion"))
    shapes = next(p for p in EXAMPLES if p.stem.startswith("shapes"))
    out = predict_tab.predict_image(str(fashion), predict_tab.LATEST, None, "trained", registry=registry)
    summary, data = out["summary"], out["json"]
    assert "does not look like the shapes images the model was trained on" in summary
    assert "this checkpoint is at chance level" in summary and summary.count('data-flag="1"') == 2
    assert len(data["warnings"]) == 2
    out = predict_tab.predict_image(str(shapes), predict_tab.LATEST, None, "trained", registry=registry)
    summary, data = out["summary"], out["json"]
    assert "does not look like" not in summary
    assert len(data["warnings"]) == 1 and "at chance level" in data["warnings"][0]


def test_provenance_checks() -> None:
    from idfy.data import decode_image
    from idfy.provenance import at_chance, foreign_image

    for path in EXAMPLES:
        image = decode_image(path, channels=3).image
        own = path.stem.split("_")[0]  # shapes_star.png -> shapes
        other = "fashion-canvas" if own == "shapes" else "shapes"
        assert foreign_image(image, own if own == "shapes" else "fashion-canvas", 32) is None, path.name
        assert foreign_image(image, other, 32) is not None, path.name
    screenshot = torch.full((3, 200, 300), 250, dtype=torch.uint8)  # a white page
    assert "does not look like the shapes images" in (foreign_image(screenshot, "shapes", 32) or "")
    assert foreign_image(screenshot, "/etc/passwd", 32) is None  # never a path: built-in datasets only
    assert foreign_image(screenshot, None, 32) is None
    assert at_chance({"n": 500, "accuracy": 0.9, "loc_accuracy": 0.8}, "shapes", 32) is None
    assert "at chance level" in (
        at_chance({"n": 500, "accuracy": 0.15, "loc_accuracy": 0.02}, "shapes", 32) or ""
    )
    assert (
        at_chance({}, "shapes", 32) is None
        and at_chance({"n": 5, "accuracy": 0.1}, "my/data.csv", 32) is None
    )
    for hostile in (
        {"n": "500", "accuracy": 0.1},
        {"n": 500, "accuracy": "x"},
        {"n": 500, "loc_accuracy": 7.0},
        [],
    ):
        assert at_chance(hostile, "shapes", 32) is None  # metrics that are not numbers in range are ignored


def test_predict_with_an_uploaded_checkpoint(checkpoint: str, tmp_path: Path) -> None:
    up = tmp_path / "mine.pt"
    up.write_bytes(Path(checkpoint).read_bytes())
    out = predict_tab.predict_image(str(EXAMPLES[0]), predict_tab.UPLOADED, str(up), "nobody")
    summary, overlay = out["summary"], out["overlay"]
    assert "uploaded mine.pt" in summary and overlay is not None


def test_no_checkpoint_says_what_to_do(registry: JobRegistry) -> None:
    out = predict_tab.predict_image(
        str(EXAMPLES[0]), predict_tab.LATEST, None, "never trained", registry=registry
    )
    assert "train a model in the Train tab first or upload a checkpoint" in out["summary"]
    assert (out["overlay"], out["probs"], out["stages"], out["json"]) == (None, None, [], None)


def test_checkpoint_ready_without_an_image(checkpoint: str, registry: JobRegistry) -> None:
    summary = predict_tab.predict_image(None, predict_tab.LATEST, None, "trained", registry=registry)[
        "summary"
    ]
    assert "Checkpoint ready" in summary and "pick an example" in summary


def test_bad_checkpoints(tmp_path: Path, checkpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    summary = predict_tab.predict_image(str(EXAMPLES[0]), predict_tab.UPLOADED, str(junk))["summary"]
    assert "junk.pt: not a" in summary and "checkpoint" in summary and str(tmp_path) not in summary
    summary = predict_tab.predict_image(str(EXAMPLES[0]), predict_tab.UPLOADED, None)["summary"]
    assert "upload a checkpoint" in summary
    other = tmp_path / "weights.bin"
    other.write_bytes(b"x")
    assert (
        ".pt checkpoint"
        in predict_tab.predict_image(str(EXAMPLES[0]), predict_tab.UPLOADED, str(other))["summary"]
    )
    monkeypatch.setattr(predict_checkpoints, "MAX_CHECKPOINT_BYTES", 1000)
    summary = predict_tab.predict_image(str(EXAMPLES[0]), predict_tab.UPLOADED, checkpoint)["summary"]
    assert "MB a checkpoint may have" in summary


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def _encode(image: Image.Image, fmt: str = "PNG", **kw: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


BAD = {
    "text.png": (b"hello, I am a text file", "not an image"),
    "empty.png": (b"", "empty"),
    "truncated.png": (EXAMPLES[0].read_bytes()[:400] if EXAMPLES else b"", "truncated"),
    "enormous.png": (_png_header(10_000, 10_000), "megapixels"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_uploads_give_a_clear_message(name: str, tmp_path: Path, checkpoint: str) -> None:
    data, match = BAD[name]
    path = tmp_path / name
    path.write_bytes(data)
    out = predict_tab.predict_image(str(path), predict_tab.UPLOADED, checkpoint)
    summary, overlay = out["summary"], out["overlay"]
    assert 'data-state="err"' in summary and match in summary and "Traceback" not in summary
    assert overlay is None


def test_unusual_images_are_converted_with_a_note(tmp_path: Path, checkpoint: str) -> None:
    import numpy as np

    frames = [Image.new("RGB", (40, 30), c) for c in ("red", "green", "blue")]
    cases = {
        "deep.png": _encode(Image.fromarray(np.full((30, 40), 40000, np.uint16))),
        "alpha.png": _encode(Image.new("RGBA", (40, 30), (255, 0, 0, 128))),
        "anim.gif": _encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        got = predict_tab.predict_image(str(path), predict_tab.UPLOADED, checkpoint)
        summary = got["summary"]
        assert 'data-state="ok"' in summary, name
        assert got["overlay"] is not None and got["json"]["image_size"] == [30, 40]
        if name == "anim.gif":
            assert "animated (3 frames)" in summary


def test_the_gradio_handler_opens_uploaded_files_only(checkpoint: str) -> None:
    summary = predict_tab.predict(str(EXAMPLES[0]), predict_tab.UPLOADED, checkpoint)["summary"]
    assert "only uploaded files" in summary


def test_example_copies_live_in_a_temporary_folder() -> None:
    import tempfile

    class Evt:
        index = 1

    path = Path(predict_tab.pick_example(Evt())["image"])  # type: ignore[arg-type]
    assert path.read_bytes() == predict_tab.examples()[1].path.read_bytes()
    assert path.is_relative_to(tempfile.gettempdir())


def test_the_demos_data_comes_first_among_the_examples() -> None:
    """After the default demo (fashion-canvas) its pictures lead the gallery; the rest keep the file's order."""
    from idfy.train.config import TrainConfig

    datasets = [e.dataset for e in predict_tab.examples()]
    assert datasets[0] == TrainConfig().data == "fashion-canvas"
    assert datasets == sorted(datasets, key=lambda d: d != "fashion-canvas") and "shapes" in datasets


def test_a_run_at_chance_says_when_it_had_too_few_steps() -> None:
    from idfy.train.chance import FEW_STEPS, few_steps_hint

    assert "only 29 training steps ran at 85 images/s" in few_steps_hint(29, 85.0)
    assert "busy CPU" in few_steps_hint(3, None)
    assert few_steps_hint(FEW_STEPS, 900.0) == ""


def test_batch_size_is_taken_as_the_api_lists_it_and_checked_by_idfy() -> None:
    _, tc = make_configs(TrainSettings(batch_size="16"))  # gradio_client lists the choices as strings
    assert tc.batch_size == 16
    for bad in ("16.5", "7", "lots"):
        with pytest.raises(ValueError, match="batch size"):
            make_configs(TrainSettings(batch_size=bad))


def test_truth_iou_is_torchvisions_box_iou() -> None:
    """The summary's IoU against an example's truth: torchvision's box IoU, the numbers of the hand formula."""
    assert box_iou_xyxy((0.0, 0.0, 2.0, 2.0), (1.0, 1.0, 3.0, 3.0)) == pytest.approx(1 / 7)
    assert box_iou_xyxy((0.1, 0.2, 0.5, 0.6), (0.1, 0.2, 0.5, 0.6)) == pytest.approx(1.0)
    assert box_iou_xyxy((0.0, 0.0, 1.0, 1.0), (2.0, 2.0, 3.0, 3.0)) == 0.0
    assert box_iou_xyxy((0.5, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)) == 0.0  # no area: 0, not NaN


def test_keyed_handlers_map_names_to_components() -> None:
    """Handlers speak by name; the wrapper Gradio calls returns {component: value}, keeps the signature (for
    gr.Request) and streams a generator as a generator; an unknown name is a programming error."""
    import inspect

    from idfy.ui.tabs.keyed import keyed

    a, b = object(), object()

    def one(x: int, request: Any = None) -> dict[str, Any]:
        return {"a": x}

    def many(n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield {"a": i, "b": -i}

    assert keyed(one, {"a": a, "b": b})(3) == {a: 3}
    assert list(inspect.signature(keyed(one, {"a": a})).parameters) == ["x", "request"]
    stream = keyed(many, {"a": a, "b": b})
    assert inspect.isgeneratorfunction(stream) and list(stream(2)) == [{a: 0, b: 0}, {a: 1, b: -1}]
    with pytest.raises(KeyError, match="'a'"):
        keyed(one, {"b": b})(1)


# --------------------------------------------------------------------------- the app's threads and prepared data
@pytest.mark.parametrize(
    ("cores", "env", "want"),
    [(2, {}, 1), (1, {}, 1), (8, {}, 7), (2, {"IDFY_THREADS": "2"}, 2), (8, {"OMP_NUM_THREADS": "4"}, None),
     (8, {"IDFY_THREADS": "3", "OMP_NUM_THREADS": "4"}, 3)],
)  # fmt: skip
def test_the_app_leaves_a_core_to_the_page(cores: int, env: dict[str, str], want: int | None) -> None:
    from idfy.ui.app import app_threads

    assert app_threads(cores, env) == want


@pytest.mark.parametrize("bad", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_is_one_line(bad: str) -> None:
    from idfy.ui.app import app_threads

    with pytest.raises(ValueError, match=r"IDFY_THREADS=.*give a whole number of threads, 1 or more"):
        app_threads(2, {"IDFY_THREADS": bad})


def test_prepared_data_is_built_once_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from idfy.train.config import TrainConfig
    from idfy.ui.tabs.train import prepared

    calls: list[tuple] = []

    def fake_load(tc: TrainConfig) -> tuple[str, str]:
        calls.append((tc.data, tc.size))
        return f"train-{tc.data}-{tc.size}", f"test-{tc.data}-{tc.size}"

    monkeypatch.setattr(prepared, "load_data", fake_load)
    prepared.clear()
    a, b, c = (TrainConfig(data="shapes", size=s) for s in (32, 48, 64))
    prepared.prepare_ahead(a).join()
    (data, _), (again, waited) = prepared.prepared_data(a), prepared.prepared_data(a)
    assert data == again == ("train-shapes-32", "test-shapes-32") and calls == [("shapes", 32)] and waited < 1
    prepared.prepared_data(a.replace(lr=0.5, batch_size=8))  # settings the images do not depend on
    assert len(calls) == 1
    prepared.prepared_data(a.replace(seed=1))  # the training split's canvases depend on the seed
    assert len(calls) == 2
    prepared.prepared_data(b)
    prepared.prepared_data(c)  # KEEP = 2: the oldest (a) goes
    n = len(calls)
    prepared.prepared_data(a)
    assert len(calls) == n + 1
    prepared.clear()


def test_prepared_data_is_keyed_by_the_settings_it_is_built_from(monkeypatch: pytest.MonkeyPatch) -> None:
    """One source of truth: the key is the run's DataSpec, and the data are built from that value alone."""
    from idfy.data import DataSpec
    from idfy.train import setup
    from idfy.train.config import TrainConfig
    from idfy.train.setup import data_spec
    from idfy.ui.tabs.train import prepared

    base = TrainConfig(data="shapes", size=32)
    monkeypatch.setattr(prepared, "load_data", lambda tc: ("train", "test"))
    prepared.clear()
    prepared.prepared_data(base)
    assert list(prepared._KEPT) == [data_spec(base)]  # the kept data's key is the run's DataSpec
    prepared.clear()
    key = data_spec(base)
    assert isinstance(key, DataSpec) and key == data_spec(TrainConfig(data="shapes", size=32))
    assert hash(key) == hash(data_spec(TrainConfig(data="shapes", size=32)))
    # settings the images do not depend on
    assert data_spec(base.replace(lr=0.5, batch_size=8, optimizer="sgd", time_budget_s=5)) == key
    changes = {"name": {"data": "fashion-canvas"}, "size": {"size": 48}, "seed": {"seed": 1},
               "data_dir": {"data_dir": "/elsewhere"}, "n_train": {"n_train": 10}, "n_test": {"n_test": 10}}  # fmt: skip
    # every data setting is tried
    assert sorted(changes) == sorted(f.name for f in dataclasses.fields(DataSpec))
    keys = {name: data_spec(base.replace(**change)) for name, change in changes.items()}
    assert all(k != key for k in keys.values()) and len(set(keys.values())) == len(changes)

    seen: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        "idfy.data.splits.make_dataset", lambda name, **kw: seen.append((name, kw)) or kw["split"]
    )
    tc = base.replace(n_train=10, n_test=5, seed=3)
    assert setup.make_data(tc) == ("train", "test")  # what a run builds ...
    spec = data_spec(tc)
    common = {"size": spec.size, "seed": spec.seed, "data_dir": spec.data_dir}
    assert seen == [  # ... is made of the key's values, and of nothing else
        (spec.name, {"split": "train", "n": spec.n_train, **common}),
        (spec.name, {"split": "test", "n": spec.n_test, **common}),
    ]
    assert (spec.name, spec.size, spec.seed, spec.n_train, spec.n_test) == ("shapes", 32, 3, 10, 5)


def test_data_that_cannot_be_prepared_ahead_is_reported_by_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from idfy.train.config import TrainConfig
    from idfy.ui.tabs.train import prepared

    def missing(tc: TrainConfig) -> None:
        raise FileNotFoundError("Fashion-MNIST files not found")

    monkeypatch.setattr(prepared, "load_data", missing)
    prepared.clear()
    prepared.prepare_ahead(TrainConfig()).join()  # logged, not raised in the thread
    with pytest.raises(FileNotFoundError, match="not found"):
        prepared.prepared_data(TrainConfig())


@pytest.mark.parametrize(("optimizer", "lr"), [("muon", 1e-2), ("adamw", 5e-3), ("sgd", 0.1)])
def test_picking_an_optimizer_suggests_its_measured_learning_rate(optimizer: str, lr: float) -> None:
    from idfy.train.config import TrainConfig
    from idfy.ui.tabs.train import handlers

    assert handlers.optimizer_lr(optimizer) == {"lr": lr}
    assert handlers.optimizer_lr(TrainConfig().optimizer) == {
        "lr": TrainConfig().lr
    }  # the default pair agrees


@pytest.mark.slow
def test_a_process_that_launches_the_app_and_ends_at_once_exits_cleanly() -> None:
    """The demo's data is still being rendered when such a process ends (a script, a benchmark): it waits for it
    rather than aborting at exit (a daemon thread in torch gave 'terminate called without an active exception')."""
    import subprocess
    import sys

    from conftest import free_port

    code = (
        "from idfy.ui.app import launch\n"
        f"demo, _ = launch('127.0.0.1', {free_port()}, block=False, quiet=True)\n"
        "import time; time.sleep(1)\n"  # the rendering is under way
        "demo.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-500:]
    assert "terminate called" not in done.stderr
