"""Readers of a results folder: the model benchmark, the ablations and the long runs.

The folder is given by the caller (the app, the benchmarks and the tests pass the repository's
``benchmarks/results``, see :func:`results_folder`); the library never looks for it on its own. The files are
written by ``benchmarks/compare_models.py`` and ``python -m idfy ablate --out``. Layout inside the folder::

    models.json                      one row per model (idfy presets and timm baselines) and task
    ablations/<claim>/result.json    one ablation (see idfy.train.ablate.AblationResult.to_dict)
    tuning_<design>/result.json      a tuned design against its origin (same format)
    fashion_long_<design>.json       a long Fashion-MNIST run (benchmarks/fashion_long.py)

A missing folder (``None``) or file reads as "nothing committed": ``None`` or an empty list, never an error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["load_ablations", "load_long_runs", "load_model_results", "results_folder"]


def results_folder(repository: Path | str) -> Path | None:
    """``$IDFY_RESULTS`` when set, else ``<repository>/benchmarks/results``; None when that is not a folder
    (e.g. an installed wheel without the repository)."""
    env = os.environ.get("IDFY_RESULTS")
    root = Path(env) if env else Path(repository) / "benchmarks" / "results"
    return root if root.is_dir() else None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load_model_results(root: Path | None) -> dict[str, Any] | None:
    """The model benchmark (``models.json``) or None.

    When ``latency_cpu_b1.json`` (the interleaved latency run, ``benchmarks/latency_cpu.py``) is there, its
    batch-1 medians replace the ones measured during the training benchmark, and ``latency_source`` says so;
    each row's ``latency_b1_run`` names the run its batch-1 latency comes from (only numbers of one run compare).
    """
    data = _read(root / "models.json") if root else None
    latency = _read(root / "latency_cpu_b1.json") if root else None
    if data is not None and latency is not None:
        by_model = {r["model"]: r["median_ms"] for r in latency.get("rows", []) if "median_ms" in r}
        for row in data.get("rows", []):
            if row.get("model") in by_model:
                row["latency_b1_ms"] = by_model[row["model"]]
                row["latency_b1_run"] = "interleaved"
            else:
                row["latency_b1_run"] = "training benchmark"
        data["latency_source"] = (
            f"batch-1 latency: {latency.get('command', 'latency_cpu.py')} ({latency.get('date', '')})"
        )
    return data


def load_ablations(root: Path | None) -> list[dict[str, Any]]:
    """Every committed ablation, then every tuning run, each sorted by folder name.

    Each dict gains ``"claim"`` (the folder name).
    """
    if root is None:
        return []
    paths = sorted(root.glob("ablations/*/result.json")) + sorted(root.glob("tuning_*/result.json"))
    out = []
    for path in paths:
        data = _read(path)
        if data is not None and isinstance(data.get("rows"), list):
            out.append({**data, "claim": path.parent.name})
    return out


def load_long_runs(root: Path | None) -> list[dict[str, Any]]:
    """Every long Fashion-MNIST run (``fashion_long_*.json``) with a learning curve, sorted by file name."""
    if root is None:
        return []
    runs = (_read(p) for p in sorted(root.glob("fashion_long_*.json")))
    return [r for r in runs if r is not None and isinstance(r.get("curve"), list) and r.get("design")]
