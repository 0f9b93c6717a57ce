"""Training always ends and never lies: resume positions that do not exist, structurally wrong or damaged
last.pt files, settings that cannot train and failed writes each end in one Failed line, before any step
where they can be known."""

from __future__ import annotations

import errno
import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

import idfy
import idfy.train.files
from idfy.cli import main
from idfy.data import make_dataset
from idfy.train import TrainConfig, train
from idfy.train.checkpoint import capture_rng, save_checkpoint
from idfy.train.checks import trainability_problem
from idfy.train.engine import _Run
from idfy.train.events import Done, Failed, Start

pytestmark = pytest.mark.usefixtures("one_torch_thread")

DATA = Path(__file__).resolve().parent / "data"
ADVICE = ("Traceback", "weights_only", "\x1b", "Error(s) in loading", "torch.", "KeyError")


def _tc(**kw) -> TrainConfig:
    base = dict(
        data="shapes", size=32, batch_size=16, max_steps=6, time_budget_s=None, eval_every=0, sample_every=0,
        checkpoint_every=0, log_every=3, augment=True, deterministic=True, warmup=2,
    )  # fmt: skip
    return TrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def data64():
    return make_dataset("shapes", split="train", size=32, n=64), make_dataset(
        "shapes", split="test", size=32, n=8
    )


@pytest.fixture
def run_dir(tmp_path: Path, data64) -> Path:
    """A run stopped by --max-steps 6 with 4 batches per epoch: last.pt sits at batch 2 of epoch 1."""
    events = list(train(idfy.load_preset("tiny"), _tc(), out_dir=tmp_path, data=data64))
    assert isinstance(events[-1], Done)
    ck = torch.load(tmp_path / "last.pt", weights_only=True)
    assert (ck["step"], ck["epoch"], ck["batch_in_epoch"], ck["steps_per_epoch"]) == (6, 1, 2, 4)
    return tmp_path


def _failure(events: list) -> Failed:
    assert isinstance(events[-1], Failed), events[-1]
    msg = events[-1].message
    assert "\n" not in msg and not any(a in msg for a in ADVICE), msg
    return events[-1]


# --------------------------------------------------------------------------- resume positions
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("batch_size", "n", "words", "fix"),
    [
        (32, 64, "an epoch has 2 batches, so batch 2 does not exist", "resume with --batch-size 16, or"),
        (64, 64, "an epoch has 1 batch, so batch 2 does not exist", "resume with --batch-size 16, or"),
        (8, 64, "an epoch has 8 batches, so batch 2 would continue with other images", "--batch-size 16, or"),
        # the same batch size, a smaller training set: the data is what differs, not the batch size
        (
            16,
            32,
            "32 training images an epoch has 2 batches, so batch 2 does not exist",
            "resume with the training data it was saved with (64 training images, not 32), or",
        ),
        # both differ
        (
            8,
            24,
            "an epoch has 3 batches",
            "resume with --batch-size 16 and the training data it was saved with",
        ),
        # a training set smaller than the batch: the batch size was lowered to it, only the data differs
        (
            16,
            8,
            "with batch size 8 and 8 training images",
            "resume with the training data it was saved with (64",
        ),
    ],
)
def test_a_resume_whose_position_does_not_exist_is_refused(run_dir, batch_size, n, words, fix) -> None:
    data = (
        make_dataset("shapes", split="train", size=32, n=n),
        make_dataset("shapes", split="test", size=32, n=8),
    )
    tc = _tc(batch_size=batch_size, max_steps=12, time_budget_s=20.0)
    fail = _failure(list(train(idfy.load_preset("tiny"), tc, out_dir=run_dir, resume=True, data=data)))
    assert fail.message.startswith(
        f"{run_dir / 'last.pt'} was saved at batch 2 of an epoch of 4 batches (batch size 16); "
    )
    assert words in fail.message and fix in fail.message
    if batch_size == 16:
        assert "--batch-size" not in fail.message.split(": ")[-1]  # the hint never names the batch size given


@pytest.mark.timeout(300)
def test_a_resume_hint_from_a_file_without_its_training_set_size(run_dir) -> None:
    """Files written before last.pt stored its number of training images: the epoch's length still tells a
    smaller training set from another batch size."""
    _resave(run_dir / "last.pt", lambda r: r.pop("train_images"))
    data = (
        make_dataset("shapes", split="train", size=32, n=32),
        make_dataset("shapes", split="test", size=32, n=8),
    )
    tc = _tc(batch_size=16, max_steps=12)
    fail = _failure(list(train(idfy.load_preset("tiny"), tc, out_dir=run_dir, resume=True, data=data)))
    assert fail.message.endswith(
        "so batch 2 does not exist: resume with the training data it was saved with, or restart without --resume"
    )


@pytest.mark.timeout(300)
def test_the_budgets_end_a_resume_whatever_its_saved_position(run_dir, data64, monkeypatch) -> None:
    """Without the position check, a skip past the epoch's end must not spin: it starts the next epoch."""
    monkeypatch.setattr(_Run, "_check_position", lambda self, ckpt: None)
    tc = _tc(batch_size=32, max_steps=9)
    done = list(train(idfy.load_preset("tiny"), tc, out_dir=run_dir, resume=True, data=data64))[-1]
    assert isinstance(done, Done) and done.step == 9


def _refused_resume(capsys: pytest.CaptureFixture[str], first: list[str], then: list[str]) -> str:
    """Train with ``first``, resume with ``then`` + ``--resume``: the resume must be refused (exit 1, nothing
    resumed); returns what it printed."""
    assert main(first) == 0
    capsys.readouterr()
    code = main([*then, "--resume"])
    out = capsys.readouterr().out
    assert code == 1 and "resumed" not in out
    return out


@pytest.mark.timeout(300)
def test_resume_batch_hang_case_through_the_cli(tmp_path, capsys) -> None:
    """cases/resume-batch-hang: batch 6 of an 8-batch epoch, resumed with --batch-size 128."""
    common = ["train", "--preset", "tiny", "--data", "shapes", "--size", "32", "--n-train", "256", "--n-test",
              "32", "--no-bar", "--out", str(tmp_path)]  # fmt: skip
    out = _refused_resume(
        capsys,
        [*common, "--batch-size", "32", "--max-steps", "6", "--checkpoint-every", "6"],
        [*common, "--batch-size", "128", "--max-steps", "12", "--time", "20"],
    )
    assert (
        f"failed at step 0: {tmp_path / 'last.pt'} was saved at batch 6 of an epoch of 8 batches (batch size 32);"
        in out
    )
    assert "resume with --batch-size 32, or restart without --resume" in out


@pytest.mark.timeout(300)
def test_a_resume_with_another_n_train_names_the_training_set_not_the_batch_size(tmp_path, capsys) -> None:
    """The same --batch-size 32, but --n-train 128 instead of 256: the hint names --n-train 256."""
    common = ["train", "--preset", "tiny", "--data", "shapes", "--size", "32", "--n-test", "32", "--no-bar",
              "--batch-size", "32", "--out", str(tmp_path)]  # fmt: skip
    out = _refused_resume(
        capsys,
        [*common, "--n-train", "256", "--max-steps", "6", "--checkpoint-every", "6"],
        [*common, "--n-train", "128", "--max-steps", "12"],
    )
    assert (
        f"{tmp_path / 'last.pt'} was saved at batch 6 of an epoch of 8 batches (batch size 32); with batch "
        "size 32 and 128 training images an epoch has 4 batches, so batch 6 does not exist: resume with "
        "--n-train 256 (256 training images, not 128), or restart without --resume"
    ) in out


# --------------------------------------------------------------------------- structurally wrong last.pt
def _rewrite(path: Path, change) -> None:
    """Load last.pt as plain data, change it, write it back with torch.save (as a user's script would)."""
    raw = torch.load(path, weights_only=True)
    change(raw)
    torch.save(raw, path)


def _resave(path: Path, change) -> None:
    """Load, change and save through save_checkpoint: checksums valid, content wrong."""
    raw = torch.load(path, weights_only=True)
    for k in ("format", "version", "sha256"):
        raw.pop(k)
    change(raw)
    save_checkpoint(path, raw)


def _flip_middle(path: Path) -> None:
    b = bytearray(path.read_bytes())  # cases/train-2/flip.py
    for i in range(len(b) // 2, len(b) // 2 + 64):
        b[i] ^= 0xFF
    path.write_bytes(bytes(b))


def _other_optimizer_state(raw: dict) -> None:
    cfg = idfy.load_preset("tiny").set("input.size", [32, 32]).set("stem.width", 12)
    model = idfy.build_model(cfg)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.rand(2, 3, 32, 32)).sum().backward()
    opt.step()
    raw["optimizer"] = opt.state_dict()


def _wider_config(raw: dict) -> None:
    raw["model_config"] = raw["model_config"].replace("width: 8", "width: 12", 1)


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda p: _rewrite(p, lambda r: r.pop("rng")), "not a resumable idfy checkpoint (missing 'rng')"),
        (lambda p: _rewrite(p, _wider_config), "(damaged: checksum mismatch in the model config"),
        (lambda p: _resave(p, _wider_config), "(the weights do not match its model_config ("),
        (lambda p: _resave(p, _other_optimizer_state), "(its optimizer state belongs to another model)"),
        (lambda p: _resave(p, lambda r: r.update(step="6")), "('step' should be a whole number >= 0, not str"),
        (lambda p: _resave(p, lambda r: r.update(rng={"torch": 1})), "('rng' does not hold the generator"),
        (lambda p: _resave(p, lambda r: r["rng"].update(torch=torch.zeros(3, dtype=torch.uint8))),
         "(the saved random-generator states cannot be restored"),
        (lambda p: _resave(p, lambda r: r.update(optimizer=None)), "(it holds weights only, like best.pt"),
        (lambda p: _resave(p, lambda r: r.update(model_config="stem: [")), "(its model config is invalid: YAML"),
        (_flip_middle, "damaged: checksum mismatch"),
        (lambda p: p.write_bytes(p.read_bytes()[:1000]), "not a PyTorch checkpoint file"),
    ],
)  # fmt: skip
def test_a_wrong_or_damaged_last_pt_is_refused_in_one_line(run_dir, data64, damage, words) -> None:
    """cases/train-2 and train-3, and variants: nothing of the file is used, the run fails at step 0."""
    last = run_dir / "last.pt"
    damage(last)
    events = list(
        train(idfy.load_preset("tiny"), _tc(max_steps=12), out_dir=run_dir, resume=True, data=data64)
    )
    fail = _failure(events)
    assert len(events) == 1 and fail.step == 0
    assert fail.message.startswith(f"{last}: ") and words in fail.message, fail.message
    assert "restart" in fail.message


@pytest.mark.timeout(300)
def test_resume_with_another_optimizer_is_refused(run_dir, data64) -> None:
    tc = _tc(max_steps=12, optimizer="sgd")
    fail = _failure(list(train(idfy.load_preset("tiny"), tc, out_dir=run_dir, resume=True, data=data64)))
    assert "was trained with --optimizer muon; resume with --optimizer muon" in fail.message


# --------------------------------------------------------------------------- settings that cannot train
@pytest.mark.timeout(300)
def test_batchnorm_with_one_value_per_channel_is_refused_before_anything_is_written(tmp_path) -> None:
    """cases/bn-batch-one: one training image (the batch is lowered to 1), a 1×1 last-stage map at 28 px."""
    tc = TrainConfig(data=str(DATA / "bn-batch-one" / "boxes.csv"), size=28, max_steps=3, time_budget_s=None)
    events = list(train(idfy.load_preset("small_tuned"), tc, out_dir=tmp_path / "bn1"))
    fail = _failure(events)
    assert len(events) == 1 and not (tmp_path / "bn1").exists()
    assert fail.message.startswith(
        "a batch of 1 per process cannot train BatchNorm on the 1×1 map of stages."
    )
    assert "at 28 px" in fail.message and "--set block.norm=group" in fail.message
    assert fail.message.endswith("(the data has 1 training image)")


@pytest.mark.timeout(300)
def test_group_norm_or_a_batch_of_two_per_process_trains_the_same_design() -> None:
    cfg = idfy.load_preset("small_tuned").set("input.size", [28, 28]).replace(num_classes=7)
    model = idfy.build_model(cfg)
    cpu = torch.device("cpu")
    assert "a batch of 1 per process" in trainability_problem(model, 1, 3, (28, 28), cpu)
    assert trainability_problem(model, 2, 3, (28, 28), cpu) is None  # e.g. --batch-size 4 over 2 processes
    assert trainability_problem(idfy.build_model(cfg.set("block.norm", "group")), 1, 3, (28, 28), cpu) is None
    assert model.training  # the dry pass leaves the mode as it was


def test_maps_that_shrink_below_1x1_and_instance_norm_on_1x1_are_refused() -> None:
    cpu = torch.device("cpu")
    shrink = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3))
    msg = trainability_problem(shrink, 8, 3, (3, 3), cpu)
    assert msg is not None and msg.startswith(
        "the design cannot run on 3×3 inputs: a feature map shrinks below 1×1"
    )
    inorm = nn.Sequential(nn.Conv2d(3, 4, 3), nn.InstanceNorm2d(4))
    assert "instance normalization at 1 sees a 1×1 map" in trainability_problem(inorm, 8, 3, (3, 3), cpu)
    bn1d = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.BatchNorm1d(4))
    assert "a batch of 1 per process" in trainability_problem(bn1d, 1, 3, (2, 2), cpu)


# --------------------------------------------------------------------------- failed writes
@pytest.mark.timeout(300)
def test_disk_full_ends_the_run_in_one_line_and_resume_is_exact(tmp_path, data64, monkeypatch) -> None:
    """cases/train-1 without a tmpfs: the fsync of the second checkpoint fails with ENOSPC."""
    tc = _tc(max_steps=12, checkpoint_every=4)
    whole = list(train(idfy.load_preset("tiny"), tc, out_dir=tmp_path / "whole", data=data64))[-1]
    out = tmp_path / "full"
    real_fsync, saves = os.fsync, []

    def fsync(fd: int) -> None:
        if ".last.pt." in os.readlink(f"/proc/self/fd/{fd}"):  # the temporary file of a last.pt
            saves.append(fd)
            if len(saves) == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(idfy.train.files.os, "fsync", fsync)
    events = list(train(idfy.load_preset("tiny"), tc, out_dir=out, data=data64))
    monkeypatch.undo()
    fail = _failure(events)
    assert fail.step == 8
    assert fail.message == (
        f"no space left on device writing {out / 'last.pt'} (last good checkpoint: step 4, {out / 'last.pt'}); "
        "free space and rerun with --resume"
    )
    assert not list(out.glob(".*.tmp")) and torch.load(out / "last.pt", weights_only=True)["step"] == 4
    resumed = list(train(idfy.load_preset("tiny"), tc, out_dir=out, resume=True, data=data64))[-1]
    assert isinstance(resumed, Done) and resumed.step == 12
    a, b = whole.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.timeout(300)
def test_an_unwritable_run_folder_ends_in_one_line(tmp_path, data64, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    fail = _failure(list(train(idfy.load_preset("tiny"), _tc(), out_dir=blocker / "run", data=data64)))
    assert fail.message == (
        f"not a directory writing {blocker / 'run'} (no checkpoint written yet); fix that and start the run again"
    )

    def denied(*args, dir=None, **kw):
        raise PermissionError(errno.EACCES, "Permission denied", str(dir))

    monkeypatch.setattr(idfy.train.files.tempfile, "mkstemp", denied)
    out = tmp_path / "ro"
    fail = _failure(list(train(idfy.load_preset("tiny"), _tc(checkpoint_every=3), out_dir=out, data=data64)))
    assert fail.step == 0 and fail.message == (  # metrics.csv is the first file written atomically
        f"permission denied writing {out} (no checkpoint written yet); make the run folder writable "
        "(or choose another --out) and start the run again"
    )


@pytest.mark.timeout(300)
def test_temporaries_of_a_killed_run_are_removed_on_resume(run_dir, data64) -> None:
    stray = run_dir / ".last.pt.k1ll3d.tmp"
    stray.write_bytes(b"half a checkpoint")
    events = list(
        train(idfy.load_preset("tiny"), _tc(max_steps=8), out_dir=run_dir, resume=True, data=data64)
    )
    start = next(e for e in events if isinstance(e, Start))
    assert not stray.exists() and isinstance(events[-1], Done)
    assert f"removed 1 temporary file(s) an interrupted run left in {run_dir}" in start.notes


def test_cli_train_turns_an_unforeseen_error_into_one_line(tmp_path, capsys, monkeypatch) -> None:
    import idfy.commands.train as train_module

    def broken(*args, **kwargs):
        yield from ()
        raise RuntimeError("\x1b[1minternal detail\x1b[0m set weights_only=False")

    monkeypatch.setattr(train_module, "train", broken)
    assert main(["train", "--preset", "tiny", "--max-steps", "1", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"failed at step 0: unexpected RuntimeError inside idfy; the traceback is in {tmp_path / 'error.log'} "
        "(please report it)\n"
    )
    assert "internal detail" in (tmp_path / "error.log").read_text()


def test_capture_rng_is_plain_data() -> None:
    from idfy.train.digest import sha256_of

    assert len(sha256_of(capture_rng(torch.Generator().get_state()))) == 64


@pytest.mark.timeout(300)
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not built in")
def test_batchnorm_with_one_value_per_channel_in_each_process_is_refused_under_torchrun(tmp_path) -> None:
    """cases/bn-batch-one under torchrun: a global batch of 2 over 2 processes is 1 per process."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
        "--master-port", str(port), "-m", "idfy", "train", "--device", "cpu", "--preset", "small_tuned",
        "--data", "shapes", "--size", "28", "--batch-size", "2", "--n-train", "32", "--n-test", "8",
        "--max-steps", "2", "--no-bar", "--out", str(tmp_path / "run"),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(root)}
    r = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode != 0
    assert r.stdout.count("failed at step 0: a batch of 1 per process cannot train BatchNorm") == 1, r.stdout
    assert "Expected more than 1 value" not in r.stdout + r.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.timeout(300)
def test_a_folder_named_last_pt_is_no_checkpoint_to_resume(run_dir, data64) -> None:
    last = run_dir / "last.pt"
    last.unlink()
    last.mkdir()
    (last / "best.pt").write_bytes(b"")  # a run folder inside must not be taken for the checkpoint
    fail = _failure(list(train(idfy.load_preset("tiny"), _tc(), out_dir=run_dir, resume=True, data=data64)))
    assert (
        fail.message
        == f"{last} is a folder, not a checkpoint file: nothing to resume; start the run without --resume"
    )


def test_an_unreadable_input_file_is_named_as_read_not_written(tmp_path, monkeypatch) -> None:
    import idfy.train.setup as train_module

    def unreadable(tc):
        raise PermissionError(errno.EACCES, "Permission denied", "/data/boxes.csv")

    monkeypatch.setattr(train_module, "make_data", unreadable)
    fail = _failure(list(train(idfy.load_preset("tiny"), _tc(), out_dir=tmp_path)))
    assert fail.message == (
        "permission denied reading /data/boxes.csv (no checkpoint written yet); make that file readable and "
        "start the run again"
    )


# --------------------------------------------------------------------------- classes on resume
def _reordered(ds, classes: list[str]):
    """``ds`` with its class list in the order ``classes``, labels re-indexed so every image keeps its class."""
    lut = torch.tensor([classes.index(name) for name in ds.classes])
    return replace(ds, classes=classes, labels=lut[ds.labels])


@pytest.mark.timeout(300)
def test_a_resume_matches_the_data_classes_to_the_checkpoint_by_name(run_dir, data64) -> None:
    train_set, test_set = data64
    flipped = list(reversed(train_set.classes))
    data = (_reordered(train_set, flipped), _reordered(test_set, flipped))
    tc = _tc(max_steps=8)
    events = list(train(idfy.load_preset("tiny"), tc, out_dir=run_dir, resume=True, data=data))
    assert isinstance(events[-1], Done), events[-1]
    start = next(e for e in events if isinstance(e, Start))
    assert start.classes == list(train_set.classes)  # the checkpoint's order, not the data's
    assert any("name" in note for note in start.notes), start.notes


@pytest.mark.timeout(300)
def test_a_resume_on_data_with_other_class_names_is_refused_naming_both(run_dir, data64) -> None:
    train_set, test_set = data64
    renamed = [f"other{i}" for i in range(len(train_set.classes))]
    data = (replace(train_set, classes=renamed), replace(test_set, classes=renamed))
    fail = _failure(
        list(train(idfy.load_preset("tiny"), _tc(max_steps=8), out_dir=run_dir, resume=True, data=data))
    )
    assert "other0" in fail.message and train_set.classes[0] in fail.message
