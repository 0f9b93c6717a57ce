"""Checkpoints: weights_only round trip, RNG states, atomic writes, run-folder resolution, in-process resume."""

from __future__ import annotations

import html
import os
import random
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import idfy
from idfy.data import make_dataset
from idfy.predict import Predictor
from idfy.train import TrainConfig, train
from idfy.train.checkpoint import (
    CHECKPOINT_VERSION,
    CheckpointError,
    atomic_write_bytes,
    capture_rng,
    load_checkpoint,
    load_model_weights,
    model_config_of,
    resolve_checkpoint,
    restore_rng,
    save_checkpoint,
)
from idfy.train.events import Checkpoint, Done

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
    with pytest.raises(FileNotFoundError, match=r"holds no last\.pt or best\.pt"):
        resolve_checkpoint(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_checkpoint(tmp_path / "nope.pt")
    save_checkpoint(tmp_path / "best.pt", {"step": 1})
    assert resolve_checkpoint(tmp_path) == tmp_path / "best.pt"
    save_checkpoint(tmp_path / "last.pt", {"step": 2})  # the final weights, which the final metrics describe
    assert resolve_checkpoint(tmp_path) == tmp_path / "last.pt"


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


# --------------------------------------------------------------------------- integrity and refusals
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "examples" / "shapes_star.png"
TORCH_ADVICE = ("weights_only", "add_safe_globals", "\x1b", "Traceback", "torch.serialization", "Re-running")


def _one_line(message: str) -> str:
    assert "\n" not in message and not any(a in message for a in TORCH_ADVICE), message
    return message


def _weights_ckpt(path: Path, **extra) -> Path:
    cfg = idfy.load_preset("tiny").set("input.size", [32, 32])
    state = {"model_config": cfg.to_yaml(), "model": idfy.build_model(cfg).state_dict()}
    return save_checkpoint(path, {**state, "classes": [f"c{i}" for i in range(cfg.num_classes)], **extra})


def test_every_field_has_a_sha256_that_survives_the_round_trip(tmp_path) -> None:
    path = _weights_ckpt(tmp_path / "w.pt", step=3)
    raw = torch.load(path, weights_only=True)
    assert raw["version"] == CHECKPOINT_VERSION == 2
    assert set(raw["sha256"]) == {"model_config", "model", "classes", "step"}
    assert all(len(d) == 64 for d in raw["sha256"].values())
    ck = load_checkpoint(path)
    assert ck["notes"] == [] and "sha256" not in ck and ck["step"] == 3


def _flip(path: Path, at: int, n: int = 64) -> None:
    """train-2's flip.py generalised: XOR 0xFF into ``n`` bytes from offset ``at``."""
    b = bytearray(path.read_bytes())
    for i in range(at, min(at + n, len(b))):
        b[i] ^= 0xFF
    path.write_bytes(bytes(b))


@pytest.mark.parametrize("where", [0.02, 0.25, 0.5, 0.75, 0.97])
def test_flipped_bytes_anywhere_are_refused(tmp_path, where: float) -> None:
    path = _weights_ckpt(tmp_path / "last.pt")
    _flip(path, int(path.stat().st_size * where))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    msg = _one_line(str(err.value))
    assert msg.startswith(f"{path}: ") and ("damaged" in msg or "not a PyTorch checkpoint file" in msg)


@pytest.mark.parametrize("keep", [0, 10, 0.5, -1])
def test_truncated_files_are_refused(tmp_path, keep: float) -> None:
    path = _weights_ckpt(tmp_path / "last.pt")
    data = path.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(data) + keep)
    path.write_bytes(data[:n])
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "not a PyTorch checkpoint file" in _one_line(str(err.value))


def test_a_rewritten_file_with_changed_weights_fails_its_checksum(tmp_path) -> None:
    """Re-saved by torch.save, the archive's CRCs are fine again; only idfy's SHA-256 sees the change."""
    path = _weights_ckpt(tmp_path / "last.pt")
    raw = torch.load(path, weights_only=True)
    name = next(iter(raw["model"]))
    raw["model"][name] = raw["model"][name] + 1e12  # train-2's damage: weights off by 1e12
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match=r"damaged: checksum mismatch in the weights \('model'\)"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("field", "value"),
    [("step", "7"), ("step", -1), ("model_config", 5), ("model", {"w": 3}), ("classes", [1, 2]),
     ("optimizer", [1]), ("elapsed_s", float("nan")), ("best_score", [1.0]), ("batch_in_epoch", True), ("metrics", {"accuracy": "high"})],
)  # fmt: skip
def test_fields_of_the_wrong_type_are_refused_in_one_line(tmp_path, field: str, value) -> None:
    path = _weights_ckpt(tmp_path / "odd.pt", **{field: value})  # checksums valid: written like this
    with pytest.raises(CheckpointError, match=f"'{field}' should be") as err:
        load_checkpoint(path)
    _one_line(str(err.value))


def test_a_whole_model_pickle_is_named_in_one_line_and_never_unpickled(tmp_path, capsys) -> None:
    """weights-only-message: torch.save(model) in the library, the CLI and the app's Predict upload path."""
    from idfy.cli import main
    from idfy.ui.tabs import predict as predict_tab

    path = tmp_path / "whole_model.pt"
    torch.save(idfy.build_model(idfy.load_preset("tiny").set("input.size", [32, 32])), path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    msg = _one_line(str(err.value))
    assert "a pickled model object (idfy.model.IdfyNet), not an idfy checkpoint" in msg and len(msg) < 400
    assert "best.pt / last.pt" in msg and "save it with idfy's checkpoint format" in msg

    assert main(["predict", str(EXAMPLE), "--checkpoint", str(path)]) == 2
    err_text = capsys.readouterr().err
    assert err_text.count("\n") == 1 and "a pickled model object" in _one_line(err_text.strip())

    out = predict_tab.predict_image(str(EXAMPLE), predict_tab.UPLOADED, str(path), "s")
    summary, overlay = out["summary"], out["overlay"]
    assert overlay is None and "whole_model.pt: a pickled model object" in summary
    assert not any(a in summary for a in TORCH_ADVICE) and str(tmp_path) not in summary


def test_other_pickled_objects_are_refused_without_running_them(tmp_path) -> None:
    path = tmp_path / "objects.pt"
    torch.save({"format": "idfy-checkpoint", "when": __import__("datetime").date(2024, 1, 1)}, path)
    with pytest.raises(CheckpointError, match=r"pickled Python objects \(datetime.date\)"):
        load_checkpoint(path)


def test_wrongly_typed_upload_gets_a_message_in_the_app_not_an_internal_error(tmp_path) -> None:
    from idfy.ui.tabs import predict as predict_tab

    path = _weights_ckpt(tmp_path / "typed.pt", classes="abc")
    out = predict_tab.predict_image(str(EXAMPLE), predict_tab.UPLOADED, str(path), "s")
    summary, overlay = out["summary"], out["overlay"]
    summary = html.unescape(summary)
    assert overlay is None and "'classes' should be a list of names" in summary
    assert "failed unexpectedly" not in summary


def test_weights_of_another_design_are_named(tmp_path) -> None:
    path = _weights_ckpt(tmp_path / "w.pt")
    ck = load_checkpoint(path)
    other = idfy.build_model(model_config_of(ck).set("stem.width", 12))
    with pytest.raises(CheckpointError, match="the weights do not match its model_config") as err:
        load_model_weights(other, ck)
    _one_line(str(err.value))
    with pytest.raises(ValueError, match="the weights do not match its model_config"):
        Predictor.from_checkpoint(
            save_checkpoint(
                tmp_path / "x.pt", {**ck, "model_config": model_config_of(ck).set("stem.width", 12).to_yaml()}
            ),
            device="cpu",
        )


def test_version_1_files_load_with_a_note_unless_their_weights_are_absurd(tmp_path) -> None:
    path = _weights_ckpt(tmp_path / "old.pt")
    raw = torch.load(path, weights_only=True)
    raw.pop("sha256")
    raw["version"] = 1
    torch.save(raw, path)
    ck = load_checkpoint(path)
    assert ck["notes"] == [
        "old.pt has no checksum (written by an older idfy); its integrity was not verified"
    ]
    name = next(k for k, v in raw["model"].items() if v.is_floating_point())
    raw["model"][name] = raw["model"][name] + 1e12
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match=f"damaged: weight '{re.escape(name)}' holds"):
        load_checkpoint(path)


def test_resume_needs_the_fields_of_last_pt(tmp_path) -> None:
    path = _weights_ckpt(tmp_path / "best.pt", optimizer=None, rng=None, step=1, epoch=0,
                         batch_in_epoch=1, elapsed_s=1.0)  # fmt: skip
    assert load_checkpoint(path)["step"] == 1  # fine for predicting
    with pytest.raises(CheckpointError, match=r"not a resumable idfy checkpoint \(it holds weights only"):
        load_checkpoint(path, resume=True)
    with pytest.raises(
        CheckpointError, match=r"not a resumable idfy checkpoint \(missing 'optimizer', 'rng'"
    ):
        load_checkpoint(_weights_ckpt(tmp_path / "w.pt", step=1), resume=True)


def test_any_damage_is_refused_in_one_line_or_changes_nothing(tmp_path) -> None:
    """Random flips and cuts anywhere (headers, pickle, tensor bytes, the zip directory): load_checkpoint
    raises only CheckpointError, in one line, or returns exactly the weights that were written."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    lin = torch.nn.Linear(6, 3)
    good = save_checkpoint(
        tmp_path / "good.pt", {"model_config": "name: x", "model": lin.state_dict(), "step": 2}
    )
    data = good.read_bytes()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        at=st.integers(0, len(data) - 1), n=st.integers(1, 16), mask=st.integers(1, 255), cut=st.booleans()
    )
    def check(at: int, n: int, mask: int, cut: bool) -> None:
        b = bytearray(data[:at] if cut else data)
        for i in range(at, min(at + n, len(b))):
            b[i] ^= mask
        bad = tmp_path / "bad.pt"
        bad.write_bytes(bytes(b))
        try:
            ck = load_checkpoint(bad)
        except CheckpointError as e:
            _one_line(str(e))
            return
        assert all(torch.equal(ck["model"][k], v) for k, v in lin.state_dict().items()) and ck["step"] == 2

    check()
