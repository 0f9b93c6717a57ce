"""Checkpoints: weights_only round trip, RNG states, atomic writes, run-folder resolution, in-process resume."""

from __future__ import annotations

import os
import random
import threading

import numpy as np
import pytest
import torch

import idfy
from idfy.checkpoint import (
    atomic_write_bytes,
    capture_rng,
    load_checkpoint,
    model_config_of,
    resolve_checkpoint,
    restore_rng,
    save_checkpoint,
)
from idfy.data import make_dataset
from idfy.events import Checkpoint, Done
from idfy.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_round_trip_is_weights_only_loadable(tmp_path) -> None:
    cfg = idfy.load_preset("tiny").set("input.size", [32, 32])
    model = idfy.build_model(cfg)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.rand(2, 3, 32, 32)).sum().backward()
    opt.step()
    gen = torch.Generator().manual_seed(5)
    state = {
        "model_config": cfg.to_yaml(),
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "rng": capture_rng(gen.get_state()),
        "step": 7,
        "metrics": {"accuracy": 0.5, "per_class": {"a": {"n": 3, "iou": float("nan")}}},
    }
    path = save_checkpoint(tmp_path / "x.pt", state)
    raw = torch.load(path, weights_only=True)  # would raise on any pickled object
    assert raw["format"] == "idfy-checkpoint" and raw["step"] == 7
    ck = load_checkpoint(path)
    assert model_config_of(ck) == cfg
    m2 = idfy.build_model(model_config_of(ck))
    m2.load_state_dict(ck["model"])
    for k, v in model.state_dict().items():
        assert torch.equal(v, m2.state_dict()[k])
    opt2 = torch.optim.AdamW(m2.parameters())
    opt2.load_state_dict(ck["optimizer"])


def test_rng_states_restore_every_stream() -> None:
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(0), random.seed(0), np.random.seed(0)
    gen.manual_seed(3)
    st = capture_rng(gen.get_state())
    want = (torch.rand(3), random.random(), np.random.rand(), torch.rand(2, generator=gen))
    torch.manual_seed(99), random.seed(99), np.random.seed(99), gen.manual_seed(99)
    restore_rng(st, gen)
    got = (torch.rand(3), random.random(), np.random.rand(), torch.rand(2, generator=gen))
    assert (
        torch.equal(want[0], got[0])
        and want[1] == got[1]
        and want[2] == got[2]
        and torch.equal(want[3], got[3])
    )


def test_atomic_write_keeps_the_old_file_on_a_crash(tmp_path) -> None:
    target = tmp_path / "last.pt"
    save_checkpoint(target, {"step": 1})

    def crash(f) -> None:
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, crash)
    assert load_checkpoint(target)["step"] == 1
    assert sorted(os.listdir(tmp_path)) == ["last.pt"]  # no temporary file left behind


def test_load_refuses_foreign_and_broken_files(tmp_path) -> None:
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a PyTorch checkpoint file"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an idfy checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match=r"holds no best\.pt"):
        resolve_checkpoint(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_checkpoint(tmp_path / "nope.pt")
    save_checkpoint(tmp_path / "last.pt", {"step": 2})
    assert resolve_checkpoint(tmp_path) == tmp_path / "last.pt"
    save_checkpoint(tmp_path / "best.pt", {"step": 1})
    assert resolve_checkpoint(tmp_path) == tmp_path / "best.pt"


def _final(events) -> Done:
    done = events[-1]
    assert isinstance(done, Done), done
    return done


def test_resume_in_process_equals_uninterrupted(tmp_path) -> None:
    """Mid-epoch resume (3 steps per epoch, checkpoint at step 4) with flips, shifts and erasing on."""
    data = (
        make_dataset("shapes", split="train", size=32, n=48),
        make_dataset("shapes", split="test", size=32, n=8),
    )
    tc = TrainConfig(
        data="shapes", size=32, batch_size=16, max_steps=10, time_budget_s=None, eval_every=0, sample_every=0,
        checkpoint_every=4, log_every=5, deterministic=True, augment=True, warmup=2, translate=0.1, erase=0.5,
    )  # fmt: skip
    cfg = idfy.load_preset("tiny")
    whole = _final(list(train(cfg, tc, out_dir=tmp_path / "a", data=data)))
    stop = threading.Event()
    for ev in train(cfg, tc, out_dir=tmp_path / "b", data=data, stop=stop):
        if isinstance(ev, Checkpoint) and ev.step == 4:
            stop.set()  # interrupted after step 5, same settings (same schedule) as the whole run
    assert ev.reason == "stopped" and ev.step == 5
    ck = torch.load(tmp_path / "b" / "last.pt", weights_only=True)
    assert ck["step"] == 5 and ck["batch_in_epoch"] == 2 and ck["epoch"] == 1
    resumed = _final(list(train(cfg, tc, out_dir=tmp_path / "b", resume=True, data=data)))
    assert resumed.step == 10
    a = whole.model.state_dict()
    b = resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.are_deterministic_algorithms_enabled()  # global switch restored after the run
    rows = (tmp_path / "b" / "metrics.csv").read_text().splitlines()
    # the interrupted run logged steps 5 and its final eval (5); resuming from step 5 keeps them
    assert [r.split(",")[0] for r in rows[1:]] == ["5", "5", "10", "10"]


def test_resume_without_a_checkpoint_fails_clearly(tmp_path) -> None:
    tc = TrainConfig(size=32, n_train=16, n_test=8, batch_size=8, max_steps=2, time_budget_s=None)
    events = list(train(idfy.load_preset("tiny"), tc, out_dir=tmp_path, resume=True))
    assert type(events[-1]).__name__ == "Failed" and "does not exist" in events[-1].message
