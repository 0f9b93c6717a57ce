"""Machine, versions and date recorded beside every benchmark result."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        text = ""
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def machine_info() -> dict[str, Any]:
    """CPU model and cores (or the GPU), Python / torch / torchvision / timm versions, UTC date."""
    import torch
    import torchvision

    try:
        import timm

        timm_version = timm.__version__
    except ImportError:
        timm_version = None
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "machine": f"{cpu_model()}, {cores} cores" + (f", GPU {gpu}" if gpu else ", no GPU"),
        "device": "cuda" if gpu else "cpu",
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "timm": timm_version,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
