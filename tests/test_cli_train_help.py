"""``python -m idfy train --help`` names every option's default, read from :class:`TrainConfig` (a changed engine
default changes the help), and says what ``--no-augment`` leaves on."""

from __future__ import annotations

import argparse
import dataclasses
import re

import pytest

from idfy.commands import train as train_cmd
from idfy.train.config import TrainConfig

#: option -> the TrainConfig field whose default its help names
OPTIONS = {
    "--size": "size",
    "--time": "time_budget_s",
    "--batch-size": "batch_size",
    "--weight-decay": "weight_decay",
    "--warmup": "warmup",
    "--grad-clip": "grad_clip",
    "--seed": "seed",
    "--eval-every": "eval_every",
    "--sample-every": "sample_every",
    "--checkpoint-every": "checkpoint_every",
    "--log-every": "log_every",
    "--low-res-until": "low_res_until",
    "--schedule": "schedule",
    "--optimizer": "optimizer",
}


def _wide(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, max_help_position=60, width=1000)


def _help() -> dict[str, str]:
    """Each option's help, as ``--help`` prints it (one line each: a wide formatter)."""
    parser = argparse.ArgumentParser(prog="python -m idfy train", formatter_class=_wide)
    train_cmd.add_arguments(parser)
    lines = {}
    for line in parser.format_help().splitlines():
        m = re.match(r"\s+(--[\w-]+)(?: [A-Z_{},\w-]+)?\s{2,}(.*)", line)
        if m:
            lines[m[1]] = m[2]
    return lines


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def test_every_option_names_its_default_from_train_config() -> None:
    lines = _help()
    tc = TrainConfig()
    for option, name in OPTIONS.items():
        assert f"default {_shown(getattr(tc, name))}" in lines[option], (option, lines.get(option))
    assert "default: none" in lines["--epochs"] and "default: none" in lines["--max-steps"]
    assert (
        f"(default {tc.translate:g}: off)" in lines["--translate"] and "(default 0: off)" in lines["--erase"]
    )


def test_the_help_follows_a_changed_engine_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """No literal copies: the numbers come from TrainConfig when the help is built."""

    @dataclasses.dataclass(frozen=True)
    class Changed(TrainConfig):
        batch_size: int = 48
        epochs: int | None = 3
        weight_decay: float = 0.125
        warmup: int = 17
        grad_clip: float | None = None
        seed: int = 7
        eval_every: int = 40
        checkpoint_every: int = 90
        translate: float = 0.1

    monkeypatch.setattr(train_cmd, "TrainConfig", Changed)
    lines = _help()
    assert "default 48" in lines["--batch-size"] and "default 3" in lines["--epochs"]
    assert "default 0.125" in lines["--weight-decay"] and "default 17" in lines["--warmup"]
    assert "default 0: off" in lines["--grad-clip"] and "default 7" in lines["--seed"]
    assert "default 40" in lines["--eval-every"] and "default 90" in lines["--checkpoint-every"]
    assert "default 0.1)" in lines["--translate"]


def test_no_augment_turns_off_flips_only_as_its_help_says() -> None:
    line = _help()["--no-augment"]
    assert (
        "horizontal flips" in line and "--translate" in line and "--erase" in line and "stay as given" in line
    )
    parser = argparse.ArgumentParser()
    train_cmd.add_arguments(parser)
    tc = train_cmd._train_config(parser.parse_args(["--no-augment", "--translate", "0.1", "--erase", "0.5"]))
    assert (tc.augment, tc.translate, tc.erase) == (False, 0.1, 0.5)
