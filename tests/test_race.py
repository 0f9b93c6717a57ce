"""Races (:mod:`idfy.train.race`) and chance levels (:mod:`idfy.train.chance`): the same data, order and initialization for
every design, equal budgets of each run's own compute, turns that interleave, Stop that keeps every checkpoint,
the final table, the CLI, and the chance level and verdict."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from idfy import load_preset
from idfy.cli import main
from idfy.data import make_dataset
from idfy.train.chance import Chance, chance_of, verdict
from idfy.train.config import TrainConfig
from idfy.train.events import Done, Eval, Step
from idfy.train.race import (
    SPEED_LABEL,
    SPEED_NOTE,
    Entrant,
    Lap,
    RaceDone,
    RaceStart,
    Stopwatch,
    format_speed,
    race,
    unique_names,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data() -> tuple[Any, Any]:
    return (
        make_dataset("shapes", split="train", size=32, n=64),
        make_dataset("shapes", split="test", size=32, n=32),
    )


def _tc(**changes: Any) -> TrainConfig:
    base = TrainConfig(data="shapes", size=32, batch_size=16, time_budget_s=None, max_steps=4, eval_every=0,
                       sample_every=0, checkpoint_every=0, log_every=1, num_samples=4)  # fmt: skip
    return base.replace(**changes)


def _laps(items: list[Any]) -> list[Lap]:
    return [i for i in items if isinstance(i, Lap)]


# --------------------------------------------------------------------------- fairness
def test_two_copies_of_a_design_train_identically(data: tuple[Any, Any]) -> None:
    """Same data, same batch order and augmentation draws per seed, same initialization: identical losses."""
    tiny = load_preset("tiny")
    items = list(race([Entrant("a", tiny), Entrant("b", tiny)], _tc(deterministic=True), data=data))
    losses: dict[int, list[float]] = {0: [], 1: []}
    for lap in _laps(items):
        if isinstance(lap.event, Step):
            losses[lap.index].append(lap.event.loss)
    assert len(losses[0]) == 4 and losses[0] == losses[1]
    done = items[-1]
    assert isinstance(done, RaceDone) and [s.state for s in done.standings] == ["done", "done"]
    assert done.standings[0].metrics["accuracy"] == done.standings[1].metrics["accuracy"]


def test_each_design_gets_the_whole_budget_of_its_own_compute(data: tuple[Any, Any]) -> None:
    """Time budgets count each run's own turns: two 1.5 s runs take at least 3 s together, both end on their
    budget, and their turns interleave (the second starts before the first ends)."""
    cfgs = [Entrant("tiny", load_preset("tiny")), Entrant("tiny_tuned", load_preset("tiny_tuned"))]
    t0 = time.perf_counter()
    items = list(race(cfgs, _tc(time_budget_s=1.5, max_steps=None, log_every=2), data=data))
    wall = time.perf_counter() - t0
    laps = _laps(items)
    dones = {lap.index: lap.event for lap in laps if isinstance(lap.event, Done)}
    assert {d.reason for d in dones.values()} == {"budget"}
    last_step = {i: max(lap.event.elapsed for lap in laps if lap.index == i and isinstance(lap.event, Step)) for i in (0, 1)}  # fmt: skip
    assert all(v >= 1.5 for v in last_step.values())
    assert wall >= 3.0
    order = [lap.index for lap in laps if isinstance(lap.event, Step)]
    first_done = next(k for k, lap in enumerate(laps) if isinstance(lap.event, Done))
    steps_before = {lap.index for lap in laps[:first_done] if isinstance(lap.event, Step)}
    # interleaved, not one run after the other: the turn passes back and forth (which run goes first depends on
    # how long each one's set-up took, which counts toward its budget)
    switches = sum(a != b for a, b in zip(order, order[1:]))
    assert steps_before == {0, 1} and switches >= 2, order


def test_the_run_with_the_least_time_goes_next() -> None:
    now = [0.0]
    w = Stopwatch(lambda: now[0])
    w.resume()
    now[0] = 2.0
    assert w() == 2.0
    w.pause()
    now[0] = 10.0  # time passes while other runs compute: not counted
    assert w() == 2.0
    w.resume()
    now[0] = 10.5
    w.pause()
    assert w() == 2.5


def test_stop_ends_every_run_and_keeps_every_checkpoint(data: tuple[Any, Any], tmp_path: Path) -> None:
    stop = threading.Event()
    cfgs = [Entrant("tiny", load_preset("tiny")), Entrant("tiny #2", load_preset("tiny"))]
    items = []
    for item in race(cfgs, _tc(max_steps=500), data=data, out_dir=tmp_path, stop=stop):
        items.append(item)
        if isinstance(item, Lap) and isinstance(item.event, Step):
            stop.set()  # what the Stop button does, after the first step
    done = items[-1]
    assert isinstance(done, RaceDone) and done.reason == "stopped"
    assert [s.state for s in done.standings] == ["stopped", "stopped"]
    assert all(s.step < 10 for s in done.standings)
    for s in done.standings:
        assert s.checkpoint and Path(s.checkpoint).is_file() and s.metrics  # final evaluation and checkpoint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1-tiny", "2-tiny--2"]


def test_a_race_needs_two_to_four_unique_designs(data: tuple[Any, Any]) -> None:
    tiny = load_preset("tiny")
    for entrants in ([Entrant("a", tiny)], [Entrant(str(i), tiny) for i in range(5)]):
        with pytest.raises(ValueError, match="2 to 4 designs"):
            next(race(entrants, _tc(), data=data))
    with pytest.raises(ValueError, match="its own name"):
        next(race([Entrant("a", tiny), Entrant("a", tiny)], _tc(), data=data))
    assert unique_names(["tiny", "small", "tiny", "tiny"]) == ["tiny", "small", "tiny #2", "tiny #3"]


def test_final_table_has_deltas_against_the_first_and_the_chance_row(data: tuple[Any, Any]) -> None:
    cfgs = [Entrant("tiny", load_preset("tiny")), Entrant("tiny_tuned", load_preset("tiny_tuned"))]
    items = list(race(cfgs, _tc(eval_every=2), data=data))
    start, done = items[0], items[-1]
    assert isinstance(start, RaceStart) and start.names == ["tiny", "tiny_tuned"] and start.n_test == 32
    assert any(isinstance(lap.event, Eval) for lap in _laps(items))
    headers, rows = done.table()
    assert headers == [
        "design",
        "steps",
        "training images/s",
        "accuracy",
        "IoU",
        "loc. acc.",
        "Δ vs first",
        "vs chance",
    ]
    assert rows[0][0] == "tiny" and rows[0][6] == "reference"
    assert rows[1][6].endswith(" pt") and rows[1][6][0] in "+-"
    assert rows[-1][0] == "chance (constant answer)" and rows[-1][5].endswith("%")
    summary = done.to_dict()
    assert json.dumps(summary) and summary["runs"][1]["name"] == "tiny_tuned"
    assert summary["chance"]["loc_accuracy"] == pytest.approx(start.chance.loc_accuracy)


# --------------------------------------------------------------------------- the CLI
def test_cli_race_prints_lines_and_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["race", "tiny", "tiny", "--data", "shapes", "--size", "32", "--n-train", "64", "--n-test", "32",
            "--max-steps", "3", "--batch-size", "16", "--out", str(tmp_path / "r")]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "race: tiny vs tiny #2 on shapes at 32 px" in out and "chance (constant answer): acc" in out
    assert "step      3 |" in out  # the final evaluation's line
    # the count is the adapted model's (shapes at 32 px: RGB, 7 classes), said so, not the preset's 224 px one
    assert re.search(
        r"^tiny\s+[\d,]+ params as trained \(fitted to the data: 3×32×32 input, 7 classes\)$", out, re.M
    )
    assert "Δ vs first" in out and "reference" in out and "beat chance" in out  # the verdict lines
    saved = json.loads((tmp_path / "r" / "race.json").read_text())
    assert [r["name"] for r in saved["runs"]] == ["tiny", "tiny #2"]
    # the table's speed is the library's (race.json's), under its label, with the line that says what it is
    assert SPEED_LABEL in out and SPEED_NOTE in out
    cells = {c[0]: c for c in (re.split(r"\s{2,}", line) for line in out.splitlines()) if len(c) >= 3}
    assert cells["design"][2] == SPEED_LABEL
    for run in saved["runs"]:
        assert run["images_per_s"] > 0 and cells[run["name"]][2] == format_speed(run["images_per_s"])
    assert all(Path(r["checkpoint"]).is_file() for r in saved["runs"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["race", "tiny"], "give 2 to 4 designs"),
        (["race", "tiny", "nope"], "unknown preset 'nope'"),
        (["race", "tiny", "small", "--size", "4"], "size=4"),
    ],
)
def test_cli_race_refuses_bad_input_in_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


# --------------------------------------------------------------------------- chance
def test_chance_of_a_set_is_the_best_constant_answer() -> None:
    labels = torch.tensor([0, 0, 0, 1])
    boxes = torch.tensor([[0.1, 0.1, 0.5, 0.5]] * 3 + [[0.6, 0.6, 0.9, 0.9]])
    c = chance_of(labels, boxes, 3)
    assert (c.n, c.accuracy, c.loc_accuracy) == (4, 0.75, 0.75)
    assert c.mean_iou == pytest.approx(
        0.75
    )  # the majority box fits three images exactly, the fourth not at all
    assert c.key == "loc_accuracy" and c.headline == 0.75
    plain = chance_of(torch.tensor([0, 1, 2, 2]), None, 4)
    assert (plain.accuracy, plain.loc_accuracy, plain.key) == (0.5, None, "accuracy")
    with pytest.raises(ValueError, match="empty"):
        chance_of(torch.tensor([], dtype=torch.long), None, 3)
    with pytest.raises(ValueError, match="classes"):
        chance_of(torch.tensor([0, 5]), None, 3)


def test_chance_of_the_demo_sets_is_low() -> None:
    from idfy.train.chance import chance_level

    c = chance_level(make_dataset("shapes", split="test", size=32, n=300))
    assert 0 < c.loc_accuracy < 0.1 and 1 / 7 <= c.accuracy < 0.3


def test_verdict_says_whether_and_by_how_much() -> None:
    chance = Chance(n=200, num_classes=10, accuracy=0.1, mean_iou=0.3, loc_accuracy=0.05)
    v = verdict({"n": 200, "accuracy": 0.9, "loc_accuracy": 0.85}, chance)
    assert v is not None and v.beat and v.margin == pytest.approx(0.80)
    assert v.text.startswith("beat chance by 80.0 pt: localization accuracy 85.0 % against 5.0 %")
    v = verdict({"n": 50, "accuracy": 0.12, "loc_accuracy": 0.06}, chance)  # one image above chance of 50
    assert v is not None and not v.beat and v.text.startswith("not clearly above chance")
    v = verdict({"n": 200, "accuracy": 0.1, "loc_accuracy": 0.0}, chance)
    assert v is not None and not v.beat and v.text.startswith("did not beat chance")
    assert verdict({}, chance) is None


def test_images_per_s_is_all_images_over_all_training_seconds() -> None:
    """Log windows differ in steps (the last one is short): the race's speed weighs each by its images, not
    a plain mean of the windows' rates (a run with twice the steps showed the lower speed before)."""
    from idfy.train import Start, Step, TrainConfig
    from idfy.train.race import Standing, _record, _Speed

    start = object.__new__(Start)  # only the fields _record reads
    start.num_params, start.train_config = 1000, TrainConfig(batch_size=64)
    s, speed = Standing(name="demo"), _Speed()
    _record(s, speed, start, None)  # type: ignore[arg-type]

    def step(n: int, rate: float) -> Step:
        return Step(step=n, epoch=0.0, loss=1.0, box_l1=0.0, giou=0.0, cls=1.0, lr=1e-3, images_per_s=rate,
                    elapsed=float(n))  # fmt: skip

    _record(s, speed, step(10, 100.0), None)  # type: ignore[arg-type]
    _record(s, speed, step(12, 10.0), None)  # type: ignore[arg-type]
    # 640 images in 6.4 s, then 128 images in 12.8 s: 768 / 19.2 = 40 images/s (the harmonic mean gave 18.2)
    assert s.images_per_s == pytest.approx(40.0)


def test_the_live_status_and_the_final_table_show_one_speed(data: tuple[Any, Any]) -> None:
    """The app's status line reads each design's speed from the library's laps; at the end of the race it is
    the final table's number (before, a plain mean of the last windows' speeds differed from it)."""
    from idfy.ui.race_view import RaceView

    cfgs = [Entrant("tiny", load_preset("tiny")), Entrant("tiny_tuned", load_preset("tiny_tuned"))]
    view = RaceView([e.name for e in cfgs], "race", max_steps=5)
    last: dict[int, Lap] = {}
    for item in race(cfgs, _tc(max_steps=5, batch_size=8), data=data):
        view.apply(item)
        if isinstance(item, Lap):
            last[item.index] = item
    done = view.done
    assert done is not None and [s.state for s in done.standings] == ["done", "done"]
    headers, rows = view.table()
    col = headers.index(SPEED_LABEL)
    status, lines = view.status_html(), dict((n, t) for n, _, t in view.rows())
    assert SPEED_NOTE in status  # what the number is, on the status line too
    for i, s in enumerate(done.standings):
        assert s.images_per_s is not None and s.images_per_s > 0
        assert last[i].images_per_s == view.speeds[i] == s.images_per_s  # one quantity, from the library
        shown = format_speed(s.images_per_s)
        assert rows[i][col] == shown and f"{shown} {SPEED_LABEL}" in lines[s.name]


def test_a_lap_carries_the_runs_speed_so_far(data: tuple[Any, Any]) -> None:
    """Every lap's speed is its run's images so far over its training seconds so far (None before a step)."""
    cfgs = [Entrant("a", load_preset("tiny")), Entrant("b", load_preset("tiny"))]
    laps = _laps(list(race(cfgs, _tc(max_steps=3), data=data)))
    for i in (0, 1):
        mine = [lap for lap in laps if lap.index == i]
        first_step = next(k for k, lap in enumerate(mine) if isinstance(lap.event, Step))
        assert all(lap.images_per_s is None for lap in mine[:first_step])
        images = seconds = 0.0
        for lap in mine[first_step:]:
            if isinstance(lap.event, Step):
                images += 16  # log_every=1: one batch of 16 per window
                seconds += 16 / lap.event.images_per_s
            assert lap.images_per_s == pytest.approx(images / seconds)
