"""One parser from a device string to a torch device (analysis, training, prediction and the CLI)."""

from __future__ import annotations

import pytest
import torch

import idfy.train
from idfy.analysis import analyze
from idfy.device import device_name, resolve_device
from idfy.presets import load_preset


def test_auto_and_cpu_resolve_to_the_cpu_here() -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA machine resolves auto to CUDA")
    assert resolve_device("auto") == resolve_device(None) == resolve_device(" CPU ") == torch.device("cpu")
    assert device_name(torch.device("cpu")) == "cpu"


@pytest.mark.parametrize("name", ["bogus", "mps", "meta", "cuda:x"])
def test_unknown_devices_are_refused_in_one_line(name: str) -> None:
    with pytest.raises(ValueError, match="use auto, cpu, cuda or cuda:N") as err:
        resolve_device(name)
    assert "\n" not in str(err.value)


def test_cuda_on_a_machine_without_it_says_so() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA is not available on this machine; use cpu or auto"):
        resolve_device("cuda")


def test_training_and_analysis_share_the_parser() -> None:
    assert idfy.train.resolve_device is resolve_device
    assert analyze(load_preset("tiny"), device="cpu").device == "cpu"
