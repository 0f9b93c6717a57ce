"""The checkpoint handed on with a run's final metrics holds the weights those metrics measured: the engine's
``Done``, the CLI's end-of-run lines, a race's standings and ``race.json``, and the files the Train tab keeps
(a run's, a race's and the one handed to the Predict tab), each named with the step inside.

Every run here evaluates during the run, and its first evaluation is rated perfect: ``best.pt`` is then the
first evaluated step, never the final one, as when a run's held-out subset score peaks before its end.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import idfy
from idfy.cli import main
from idfy.data import make_dataset
from idfy.train import evaluation as evaluation_module
from idfy.train import train
from idfy.train.config import TrainConfig
from idfy.train.events import Done
from idfy.train.metrics import evaluate
from idfy.train.progress import ConsoleProgress
from idfy.train.race import Entrant, RaceDone, Standing, race
from idfy.ui.jobs import JobRegistry
from idfy.ui.race_view import RaceView
from idfy.ui.tabs import train as train_tab
from idfy.ui.tabs.train import TrainSettings, run_training
from idfy.ui.tabs.train import runs as runs_module

pytestmark = pytest.mark.usefixtures("one_torch_thread")

N_TRAIN, N_TEST, SUBSET = 32, 16, 8


@pytest.fixture(scope="module")
def shapes() -> tuple[Any, Any]:
    return (
        make_dataset("shapes", split="train", size=32, n=N_TRAIN),
        make_dataset("shapes", split="test", size=32, n=N_TEST),
    )


@pytest.fixture
def subset_peaks_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each network's first evaluation (on the held-out subset, during the run) scores perfectly, so it stays
    the best; every later one, the final one on the full split included, is the real evaluation."""
    rated: set[int] = set()

    def rigged(module: Any, ds: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        m = evaluate(module, ds, *args, **kwargs)
        if id(module) not in rated:
            rated.add(id(module))
            m = {**m, "accuracy": 1.0, "mean_iou": 1.0, "loc_accuracy": 1.0}
        return m

    monkeypatch.setattr(evaluation_module, "evaluate", rigged)


def _tc(**changes: Any) -> TrainConfig:
    base = TrainConfig(data="shapes", size=32, n_train=N_TRAIN, n_test=N_TEST, batch_size=16, time_budget_s=None,
                       max_steps=20, eval_every=10, eval_subset=SUBSET, sample_every=0, checkpoint_every=0,
                       log_every=10, lr=3e-3, warmup=5, schedule="constant", augment=False)  # fmt: skip
    return base.replace(**changes)


def _step_in(path: str | Path) -> int:
    return int(torch.load(path, weights_only=True)["step"])


def _cli_eval(path: str | Path, tmp_path: Path) -> dict[str, Any]:
    """``python -m idfy eval PATH`` on the run's held-out split, as a user checks a checkpoint."""
    out = tmp_path / "eval.json"
    assert main(["eval", str(path), "--n", str(N_TEST), "--json", str(out)]) == 0
    return json.loads(out.read_text())


def _same_metrics(measured: dict[str, Any], reported: dict[str, Any]) -> None:
    assert measured["n"] == reported["n"] == N_TEST
    for key in ("accuracy", "loc_accuracy"):
        assert measured[key] == pytest.approx(reported[key], abs=1e-9), key
    assert measured["mean_iou"] == pytest.approx(reported["mean_iou"], abs=1e-4)


# --------------------------------------------------------------------------- the engine and the CLI's lines
@pytest.fixture
def run(shapes: tuple[Any, Any], tmp_path: Path, subset_peaks_early: None) -> tuple[list[Any], Path]:
    out = tmp_path / "run"
    return list(train(idfy.load_preset("tiny"), _tc(), out_dir=out, data=shapes)), out


def test_done_hands_on_the_final_weights_not_the_subsets_best(
    run: tuple[list[Any], Path], tmp_path: Path
) -> None:
    events, out = run
    done = events[-1]
    assert isinstance(done, Done) and done.step == 20
    assert done.checkpoint == str(out / "last.pt") and _step_in(done.checkpoint) == 20
    assert (
        done.best_checkpoint == str(out / "best.pt")
        and done.best_step == 10
        and _step_in(out / "best.pt") == 10
    )
    stored = torch.load(done.checkpoint, weights_only=True)["metrics"]
    assert stored["loc_accuracy"] == done.metrics["loc_accuracy"] < 1.0  # the full split's, not the subset's
    _same_metrics(_cli_eval(done.checkpoint, tmp_path), done.metrics)


def test_the_done_line_names_the_final_checkpoint_and_best_pt_apart(run: tuple[list[Any], Path]) -> None:
    events, out = run
    stream = io.StringIO()
    show = ConsoleProgress(stream, bar=False)
    for ev in events:
        show(ev)
    lines = stream.getvalue().splitlines()
    done_line = next(line for line in lines if line.startswith("done: "))
    assert done_line.endswith(f"| checkpoint (step 20): {out / 'last.pt'}"), done_line
    assert "best.pt" not in done_line
    best = next(line for line in lines if line.startswith("also kept: "))
    assert best == (
        "also kept: the best on the held-out subset, step 10 (not the weights measured above): "
        f"{out / 'best.pt'}"
    )


def test_no_best_line_when_best_pt_holds_the_final_weights() -> None:
    done = Done(step=20, reason="max_steps", metrics={}, elapsed=1.0, checkpoint="r/last.pt",
                best_checkpoint="r/best.pt", best_step=20)  # fmt: skip
    assert ConsoleProgress.best_line(done) is None
    assert ConsoleProgress.best_line(Done(step=20, reason="max_steps", metrics={}, elapsed=1.0)) is None


def test_a_resumed_run_still_knows_the_step_of_best_pt(
    shapes: tuple[Any, Any], tmp_path: Path, subset_peaks_early: None
) -> None:
    out = tmp_path / "run"
    list(train(idfy.load_preset("tiny"), _tc(max_steps=12), out_dir=out, data=shapes))
    done = list(train(idfy.load_preset("tiny"), _tc(max_steps=16), out_dir=out, resume=True, data=shapes))[-1]
    assert isinstance(done, Done) and done.step == 16 and _step_in(done.checkpoint) == 16
    assert done.best_step == 10 and _step_in(done.best_checkpoint) == 10


def test_the_cli_summary_names_the_checkpoint_of_its_metrics(
    tmp_path: Path, subset_peaks_early: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(["train", "--preset", "tiny", "--data", "shapes", "--size", "32", "--n-train", str(N_TRAIN),
                 "--n-test", str(N_TEST), "--batch-size", "16", "--max-steps", "20", "--eval-every", "10",
                 "--log-every", "10", "--no-bar", "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert f"checkpoint (step 20): {out / 'last.pt'}" in printed and "held-out subset, step 10" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 20 and summary["checkpoint"] == str(out / "last.pt")
    assert _step_in(summary["checkpoint"]) == 20
    _same_metrics(_cli_eval(summary["checkpoint"], tmp_path), summary["metrics"])


# --------------------------------------------------------------------------- a race and the Train tab's race files
@pytest.fixture
def raced(shapes: tuple[Any, Any], tmp_path: Path, subset_peaks_early: None) -> tuple[list[Any], Path]:
    entrants = [Entrant("tiny", idfy.load_preset("tiny")), Entrant("tiny #2", idfy.load_preset("tiny"))]
    out = tmp_path / "race"
    return list(race(entrants, _tc(), out_dir=out, data=shapes)), out


def test_a_races_checkpoints_hold_the_weights_of_its_table(
    raced: tuple[list[Any], Path], tmp_path: Path
) -> None:
    items, out = raced
    done = items[-1]
    assert isinstance(done, RaceDone)
    for i, s in enumerate(done.standings):
        folder = next(out.glob(f"{i + 1}-*"))
        assert s.step == 20 and s.checkpoint == str(folder / "last.pt") and _step_in(s.checkpoint) == 20
        assert s.best_checkpoint == str(folder / "best.pt") and s.best_step == 10
    runs = done.to_dict()["runs"]
    assert [r["checkpoint"] for r in runs] == [s.checkpoint for s in done.standings]
    assert all(r["best_step"] == 10 for r in runs)
    first = done.standings[0]
    _same_metrics(_cli_eval(first.checkpoint, tmp_path), first.metrics)


def test_the_train_tab_keeps_each_designs_final_weights_named_by_their_step(
    raced: tuple[list[Any], Path], tmp_path: Path
) -> None:
    items, _ = raced
    view = RaceView(["tiny", "tiny #2"], "race", max_steps=20)
    for item in items:
        view.apply(item)
    registry = JobRegistry(1, root=tmp_path / "jobs")
    settings = TrainSettings(
        dataset="shapes", model="tiny", size=32, budget_kind="steps", budget=20, batch_size=16
    )
    runs_module._keep_race(registry, "s", view, settings)
    assert len(view.files) == 2
    for name in view.files:
        assert name.endswith("-step20.pt") and _step_in(name) == 20
    latest = registry.latest("s")
    assert latest is not None and latest.path in view.files and latest.info["step"] == 20
    winner = max(view.done.standings, key=lambda s: s.score or 0.0)
    assert latest.info["loc_accuracy"] == winner.metrics["loc_accuracy"]
    assert (
        torch.load(latest.path, weights_only=True)["metrics"]["loc_accuracy"]
        == winner.metrics["loc_accuracy"]
    )


def test_a_failed_race_run_keeps_its_newest_file_named_by_its_step(tmp_path: Path) -> None:
    best = tmp_path / "best.pt"
    best.write_bytes(b"x")
    failed = Standing(name="a", state="failed", step=9, best_checkpoint=str(best), best_step=4)
    assert runs_module._race_file(failed) == (str(best), 4)
    last = tmp_path / "last.pt"
    last.write_bytes(b"x")
    failed.last_checkpoint, failed.last_step = str(last), 8
    assert runs_module._race_file(failed) == (str(last), 8)
    assert runs_module._race_file(Standing(name="b", state="failed")) is None


# --------------------------------------------------------------------------- the Train tab's run
@pytest.fixture
def tab_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, subset_peaks_early: None
) -> Iterator[tuple[list[dict[str, Any]], list[Any], JobRegistry]]:
    for key, value in {"n_train": N_TRAIN, "n_test": N_TEST, "eval_subset": SUBSET}.items():
        monkeypatch.setitem(train_tab.RUN_OVERRIDES, key, value)
    seen: list[Any] = []

    def recorded(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for ev in train(*args, **kwargs):
            seen.append(ev)
            yield ev

    monkeypatch.setattr(runs_module, "train", recorded)
    registry = JobRegistry(1, root=tmp_path / "jobs")
    settings = TrainSettings(
        dataset="shapes", model="tiny", size=32, budget_kind="steps", budget=20, batch_size=16
    )
    yield list(run_training(settings, None, "s", registry=registry)), seen, registry


def test_the_train_tab_keeps_the_final_weights_named_by_their_step(
    tab_run: tuple[list[dict[str, Any]], list[Any], JobRegistry], tmp_path: Path
) -> None:
    updates, seen, registry = tab_run
    done = seen[-1]
    assert isinstance(done, Done) and done.step == 20 and done.best_step is not None and done.best_step < 20
    kept = updates[-1]["checkpoint"]
    assert kept and Path(kept).name.endswith("-step20.pt") and _step_in(kept) == 20
    latest = registry.latest("s")
    assert latest is not None and latest.path == kept and latest.info["step"] == 20
    _same_metrics(_cli_eval(kept, tmp_path), done.metrics)
