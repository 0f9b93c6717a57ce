"""Which torch device a user's device string names (``auto``, ``cpu``, ``cuda``, ``cuda:N``)."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str = "auto") -> tuple[torch.device, str]:
    """``"auto"`` -> CUDA when available, else CPU. Returns the device and its label
    (``"cpu"`` or ``"cuda:0 (NVIDIA H100 80GB HBM3)"``).

    Raises:
        ValueError: an unknown device string, or CUDA asked for but not available.
    """
    text = (device or "auto").strip().lower()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(text)
    except RuntimeError:
        raise ValueError(f"device {device!r}: use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r}: CUDA is not available on this machine; use cpu or auto")
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        dev = torch.device("cuda", index)
        return dev, f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    if dev.type != "cpu":
        raise ValueError(f"device {device!r}: use auto, cpu, cuda or cuda:N")
    return dev, "cpu"
