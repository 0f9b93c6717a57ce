"""Ablation machinery: variants, claim shortcuts, cache, statistics (training replaced by a fake)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

import idfy
from idfy.config import ConfigError
from idfy.train.ablate import (
    AblationResult,
    RunFinished,
    apply_variant,
    parse_vary,
    run_ablation,
    variants_for,
)


def test_parse_vary() -> None:
    assert parse_vary("input.scale=1,10,255") == ("input.scale", [1, 10, 255])
    assert parse_vary("block.order=original, preact") == ("block.order", ["original", "preact"])
    assert parse_vary("injection=none,all") == ("injection", ["none", "all"])
    with pytest.raises(ConfigError, match="KEY=V1,V2"):
        parse_vary("input.scale")


def test_injection_shortcut() -> None:
    base = idfy.load_preset("small")
    none = apply_variant(base, "injection", "none")
    assert not none.inject.stem and not none.inject.head and not any(s.inject for s in none.stages)
    allv = apply_variant(base, "injection", "all")
    assert allv.inject.stem and allv.inject.head and all(s.inject for s in allv.stages)
    assert apply_variant(base, "injection", "head").inject.head
    with pytest.raises(ConfigError, match="injection='everywhere'"):
        apply_variant(base, "injection", "everywhere")


def test_other_shortcuts() -> None:
    base = idfy.load_preset("small")
    assert all(s.gaussian.enabled for s in apply_variant(base, "gaussian", "on").stages)
    fc = apply_variant(base, "dense", "fc")
    assert [s.dense.kind for s in fc.stages] == ["none", "none", "fc"]
    reg = apply_variant(base, "convs", "regular")
    assert {s.conv.kind for s in reg.stages} == {"regular"} and reg.stem.conv.kind == "regular"


def test_design_shortcut_takes_preset_names_only(tmp_path) -> None:
    base = idfy.load_preset("tiny_tuned")
    assert apply_variant(base, "design", "tiny") == idfy.load_preset("tiny")
    path = tmp_path / "x.yaml"
    path.write_text(base.to_yaml())
    with pytest.raises(ConfigError, match="use a preset name"):
        apply_variant(base, "design", str(path))  # a value from the browser never names a file


def test_cache_key_ignores_options_added_later_at_their_defaults() -> None:
    from idfy.train.ablate import _run_key

    cfg = idfy.load_preset("tiny")
    recipe = {"data": "shapes", "lr": 0.003}
    assert _run_key(cfg, {**recipe, "translate": 0.0, "erase": 0.0}, 0) == _run_key(cfg, recipe, 0)
    assert _run_key(cfg, {**recipe, "translate": 0.1, "erase": 0.0}, 0) != _run_key(cfg, recipe, 0)


def test_variants_are_deduplicated_and_base_first() -> None:
    base = idfy.load_preset("small")
    vs = variants_for(base, ["stages.*.down=avgpool,maxpool,conv", "input.scale=10,1"])
    labels = [v.label for v in vs]
    assert labels == ["base=small", "stages.*.down=maxpool", "stages.*.down=conv", "input.scale=1"]


def _fake_world(monkeypatch: pytest.MonkeyPatch, calls: list) -> None:
    import idfy.train.ablate
    from idfy.train.events import Done

    fake_set = SimpleNamespace(task="localize")
    monkeypatch.setattr(idfy.train.ablate, "make_dataset", lambda *a, **k: fake_set)

    def fake_train(cfg, tc, *, data=None, **kw):
        calls.append((cfg.input.scale, tc.seed))
        score = 0.5 + (0.2 if cfg.input.scale == 10 else 0.0) + 0.01 * tc.seed
        yield Done(
            step=10, reason="max_steps", metrics={"loc_accuracy": score, "accuracy": score}, elapsed=1.0
        )

    monkeypatch.setattr(idfy.train.ablate, "train", fake_train)


def test_run_ablation_statistics_and_cache(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from idfy.train import TrainConfig

    calls: list = []
    _fake_world(monkeypatch, calls)
    base = idfy.load_preset("tiny")  # scale 10
    tc = TrainConfig(max_steps=10, time_budget_s=None)
    events = list(run_ablation(base, ["input.scale=1"], seeds=3, train_config=tc, cache_dir=tmp_path))
    result = events[-1]
    assert isinstance(result, AblationResult)
    assert len(calls) == 6 and sum(isinstance(e, RunFinished) for e in events) == 6
    base_row, var = result.rows
    assert base_row.mean == pytest.approx(0.71) and var.mean == pytest.approx(0.51)
    assert var.delta == pytest.approx(-0.2)
    assert var.p_value is not None and var.p_value < 0.05 and var.significant
    assert "| input.scale=1 |" in result.to_markdown()
    json.dumps(result.to_dict())
    # a second run is served from the cache: no training at all
    calls.clear()
    again = list(run_ablation(base, ["input.scale=1"], seeds=3, train_config=tc, cache_dir=tmp_path))
    assert calls == [] and again[-1].rows[1].mean == pytest.approx(0.51)
    # a changed recipe is a different run
    list(run_ablation(base, ["input.scale=1"], seeds=1, train_config=tc.replace(lr=1e-3), cache_dir=tmp_path))
    assert len(calls) == 2


def test_a_stopped_ablation_says_so_once_and_keeps_the_finished_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from idfy.train import TrainConfig

    calls: list = []
    _fake_world(monkeypatch, calls)
    stop = threading.Event()
    tc = TrainConfig(max_steps=10, time_budget_s=None)
    events = []
    for ev in run_ablation(idfy.load_preset("tiny"), ["input.scale=1"], seeds=3, train_config=tc, stop=stop):
        events.append(ev)
        if isinstance(ev, RunFinished):
            stop.set()  # after the first run: the other five never start
    result = events[-1]
    assert len(calls) == 1 and [r.values for r in result.rows] == [[pytest.approx(0.7)]]
    assert result.notes == ["stopped early: the table covers the finished runs only"]


def test_committed_cache_still_answers_the_committed_ablations() -> None:
    """Re-running benchmarks/run_ablations.sh reuses the committed runs (cache keys stay stable)."""
    from idfy.evidence import load_ablations, results_folder
    from idfy.train.ablate import _run_key

    root = results_folder(Path(__file__).resolve().parents[1])
    assert root is not None
    a = next(x for x in load_ablations(root) if x["claim"] == "s9_input_scale")
    recipe = {**a["recipe"], "translate": 0.0, "erase": 0.0}  # today's TrainConfig has these options too
    for seed in a["seeds"]:
        key = _run_key(idfy.load_preset(a["base"]), recipe, seed)
        assert (root / "ablations" / "cache" / f"{key}.json").is_file()


def test_dense_shortcut_offers_every_registered_kind() -> None:
    cfg = apply_variant(idfy.load_preset("small"), "dense", "nonlocal")
    assert [s.dense.kind for s in cfg.stages][-1] == "nonlocal"
    with pytest.raises(ConfigError, match="nonlocal"):
        apply_variant(idfy.load_preset("small"), "dense", "attention")
