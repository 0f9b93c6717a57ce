"""Which torch device a person's device string names (``auto``, ``cpu``, ``cuda``, ``cuda:N``): the one parser
used by analysis, training, prediction and the CLI."""

from __future__ import annotations

import torch

__all__ = ["device_name", "resolve_device"]


def resolve_device(name: str | None = "auto") -> torch.device:
    """``"auto"`` (or empty) -> CUDA when available, else CPU; ``"cuda"`` -> the current CUDA device.

    Returns:
        a ``torch.device`` with its index set for CUDA (``cuda:0``), so labels and checks agree.

    Raises:
        ValueError: an unknown device string (one line naming the accepted ones), or CUDA asked for on a
            machine without it.
    """
    text = (name or "auto").strip().lower()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(text)
    except RuntimeError:
        raise ValueError(f"device {name!r}: use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r}: CUDA is not available on this machine; use cpu or auto")
        return torch.device("cuda", dev.index if dev.index is not None else torch.cuda.current_device())
    if dev.type != "cpu":
        raise ValueError(f"device {name!r}: use auto, cpu, cuda or cuda:N")
    return dev


def device_name(dev: torch.device) -> str:
    """``"cpu"`` or ``"cuda:0 (NVIDIA H100 80GB HBM3)"``: the device as reports and the app show it."""
    if dev.type == "cuda":
        return f"cuda:{dev.index} ({torch.cuda.get_device_name(dev.index)})"
    return dev.type
