"""Schedule by time: the learning rate and the held-out points follow the fraction of the budget spent, not the
step count (idfy.train.optim, idfy.train.config.eval_fractions, the engine's in-run evaluations)."""

from __future__ import annotations

import math

import pytest

import idfy
from idfy.data import make_dataset
from idfy.train import TrainConfig, train
from idfy.train.config import eval_fractions
from idfy.train.events import Done, Eval, Start, Step
from idfy.train.optim import lr_factor, progress

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_progress_is_the_further_of_steps_and_time() -> None:
    assert progress(10, None, 30.0, 60.0) == pytest.approx(0.5)  # time-budgeted: seconds decide
    assert progress(90, 100, 30.0, 60.0) == pytest.approx(0.9)  # steps further along
    assert progress(5, 100, 90.0, 60.0) == 1.0  # clamped at the end
    assert progress(0, None, 0.0, None) == 0.0


def test_cosine_anneals_with_the_fraction_and_warms_up_by_steps() -> None:
    assert lr_factor("cosine", 100, 0.0, 50) == pytest.approx(1.0)
    assert lr_factor("cosine", 100, 0.5, 50) == pytest.approx(0.51)  # halfway between 1 and the 2 % floor
    assert lr_factor("cosine", 100, 1.0, 50) == pytest.approx(0.02)
    assert lr_factor("cosine", 9, 0.0, 50) == pytest.approx(0.2)  # step 10 of a 50-step warm-up
    # the same step count gives a different rate when more of the budget is spent: time, not steps, decides
    assert lr_factor("cosine", 100, 0.2, 50) > lr_factor("cosine", 100, 0.8, 50)
    rise = [lr_factor("onecycle", 0, f, 0) for f in (0.0, 0.125, 0.25)]
    assert rise[0] == pytest.approx(1 / 25) and rise[-1] == pytest.approx(1.0) and rise[0] < rise[1] < rise[2]


def test_eval_fractions() -> None:
    assert eval_fractions(10) == pytest.approx([k / 10 for k in range(1, 10)])
    assert eval_fractions(4) == [0.25, 0.5, 0.75]
    assert eval_fractions(1) == [] and eval_fractions(0) == []


class FakeClock:
    """A clock that advances a fixed amount per reading: the run's seconds are deterministic."""

    def __init__(self, tick: float) -> None:
        self.t, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.t += self.tick
        return self.t


def _run(tc: TrainConfig, clock: FakeClock) -> list:
    data = (
        make_dataset("shapes", split="train", size=32, n=64, seed=0),
        make_dataset("shapes", split="test", size=32, n=40, seed=0),
    )
    return list(train(idfy.load_preset("tiny"), tc, data=data, clock=clock))


def test_held_out_points_at_fixed_fractions_of_the_budget_on_the_subset() -> None:
    tc = TrainConfig(data="shapes", size=32, batch_size=16, time_budget_s=4.0, eval_points=4, eval_subset=8,
                     eval_every=0, sample_every=0, checkpoint_every=0, log_every=5, warmup=2)  # fmt: skip
    events = _run(tc, FakeClock(0.01))
    evals = [e for e in events if isinstance(e, Eval)]
    assert isinstance(events[-1], Done) and events[-1].reason == "budget"
    inner, final = evals[:-1], evals[-1]
    assert len(inner) == 3  # at 1/4, 2/4 and 3/4 of the budget
    for k, ev in enumerate(inner, start=1):
        assert ev.metrics["n"] == 8  # the fixed held-out subset
        assert k / 4 * tc.time_budget_s <= ev.elapsed < (k + 1) / 4 * tc.time_budget_s
    assert final.metrics["n"] == 40  # the full split at the end
    # the learning rate fell with the seconds spent (cosine over the budget)
    lrs = [e.lr for e in events if isinstance(e, Step)]
    assert lrs[-1] < lrs[len(lrs) // 2] < max(lrs)
    assert lrs[-1] == pytest.approx(tc.lr * lr_factor("cosine", 10**6, 1.0, 2), rel=0.5)


def test_step_bounded_runs_use_eval_every_only() -> None:
    tc = TrainConfig(data="shapes", size=32, batch_size=16, time_budget_s=None, max_steps=6, eval_points=4,
                     eval_every=3, sample_every=0, checkpoint_every=0, log_every=3, warmup=2)  # fmt: skip
    events = _run(tc, FakeClock(0.01))
    evals = [e for e in events if isinstance(e, Eval)]
    assert [e.step for e in evals] == [3, 6]  # step 3 and the final one; no fraction points
    assert all(e.metrics["n"] == 40 for e in evals[-1:]) and not math.isnan(evals[-1].metrics["accuracy"])


def test_progressive_resizing_trains_at_the_low_side_then_at_full_size() -> None:
    """``low_res``: the first ``low_res_until`` of the run at the smaller side, the rest (and every evaluation)
    at ``size``; boxes are normalized, so the targets are unchanged."""
    tc = TrainConfig(data="shapes", size=32, batch_size=16, time_budget_s=None, max_steps=8, low_res=0.5,
                     low_res_until=0.5, eval_every=0, sample_every=0, checkpoint_every=0, log_every=4,
                     warmup=2)  # fmt: skip
    data = (
        make_dataset("shapes", split="train", size=32, n=64, seed=0),
        make_dataset("shapes", split="test", size=32, n=16, seed=0),
    )
    model = idfy.build_model(idfy.load_preset("tiny"))
    sides: list[tuple[bool, int]] = []  # (training, side) of every batch (not the one-image dry runs)
    model.register_forward_pre_hook(
        lambda m, args: sides.append((m.training, args[0].shape[-1])) if len(args[0]) > 1 else None
    )
    events = list(train(idfy.load_preset("tiny"), tc, data=data, model=model, clock=FakeClock(0.01)))
    assert isinstance(events[-1], Done), events[-1]
    trained = [side for training, side in sides if training]
    assert trained == [16] * 4 + [32] * 4  # steps 0-3 at 16 px (progress < 0.5), steps 4-7 at 32 px
    assert {side for training, side in sides if not training} == {32}  # evaluation at full size


@pytest.mark.parametrize(("changes", "word"), [({"low_res": 0}, "low_res=0"), ({"low_res": 1.5}, "low_res=1.5"),
                                               ({"low_res_until": 1.5}, "low_res_until")])  # fmt: skip
def test_progressive_resizing_options_are_checked(changes: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        TrainConfig(size=64, **changes).validate()


def test_progressive_resizing_is_off_with_a_note_for_a_design_that_cannot_take_the_low_side() -> None:
    """A flatten head's FC layer is sized for ``size``: the run trains at full size and says why."""
    cfg = idfy.load_preset("tiny").set("head.kind", "flatten")
    tc = TrainConfig(data="shapes", size=32, batch_size=16, time_budget_s=None, max_steps=2, low_res=0.5,
                     sample_every=0, checkpoint_every=0)  # fmt: skip
    data = (
        make_dataset("shapes", split="train", size=32, n=32, seed=0),
        make_dataset("shapes", split="test", size=32, n=8, seed=0),
    )
    events = list(train(cfg, tc, data=data, clock=FakeClock(0.01)))
    assert isinstance(events[0], Start) and isinstance(events[-1], Done)
    (note,) = [n for n in events[0].notes if "progressive resizing" in n]
    assert note.startswith(
        "progressive resizing off (training at 32×32 throughout): the design cannot run on 16×16"
    )
    assert "\n" not in note and "--size" not in note


def test_a_budget_spent_before_the_first_step_is_said_at_start() -> None:
    """On a busy machine data preparation can take the whole budget: the Start event says so in one line."""
    tc = TrainConfig(data="shapes", size=32, batch_size=16, time_budget_s=1.0, eval_points=0, sample_every=0,
                     checkpoint_every=0)  # fmt: skip
    events = _run(tc, FakeClock(1.0))  # every clock reading is a second later: setup alone spends the budget
    start = events[0]
    assert isinstance(start, Start)
    (note,) = [n for n in start.notes if "data preparation" in n]
    assert "of the 1 s budget: no time is left to train" in note and "--time" in note
    assert isinstance(events[-1], Done)
