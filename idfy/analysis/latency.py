"""Wall-clock inference latency of a model, bounded in total time.

Runs under ``torch.inference_mode`` after a warm-up call, synchronising CUDA around every timed call. The
number of repeats adapts to the time one call takes so the whole measurement stays inside ``budget_s``
(at least one timed call per setting). Three measurements:

* ``batch1``: the whole model at batch 1 (median and 90th percentile, ms);
* ``batchN``: the whole model at batch N (also per image);
* ``per_stage_ms``: median time of each top-level part (``stem``, ``stages.i``, ``head_inject``, ``head``)
  at batch 1, measured with forward hooks (on CUDA each hook synchronises, so these add up to a little more
  than ``batch1``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["measure_latency", "percentile"]


def _sync(device: torch.device) -> Callable[[], None]:
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile ``q`` in [0, 100] of a non-empty list."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _time_calls(
    fn: Callable[[], object], sync: Callable[[], None], budget_s: float, max_repeats: int
) -> list[float]:
    """Time ``fn`` repeatedly (seconds each): at least once, then while another call of the same length still
    fits in ``budget_s`` and fewer than ``max_repeats`` are done."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_repeats:
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start + times[-1] > budget_s:
            break
    return times


def _summary(times: list[float]) -> dict[str, float]:
    ms = [t * 1e3 for t in times]
    return {"median_ms": statistics.median(ms), "p90_ms": percentile(ms, 90), "runs": len(ms)}


def _per_stage(
    model: nn.Module, x: torch.Tensor, sync: Callable[[], None], budget_s: float
) -> dict[str, float]:
    parts = [(n, m) for n, m in model.named_children() if n in ("stem", "stages", "head_inject", "head")]
    named: list[tuple[str, nn.Module]] = []
    for n, m in parts:
        named += [(f"stages.{i}", s) for i, s in enumerate(m)] if n == "stages" else [(n, m)]
    samples: dict[str, list[float]] = {n: [] for n, _ in named}
    starts: dict[str, float] = {}
    handles = []
    for n, m in named:

        def pre(_m: nn.Module, _a: tuple, n: str = n) -> None:
            sync()
            starts[n] = time.perf_counter()

        def post(_m: nn.Module, _a: tuple, _o: object, n: str = n) -> None:
            sync()
            samples[n].append((time.perf_counter() - starts[n]) * 1e3)

        handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    try:
        _time_calls(lambda: model(x), sync, budget_s, 15)
    finally:
        for h in handles:
            h.remove()
    return {n: statistics.median(v) for n, v in samples.items() if v}


def _over_budget(
    out: dict, t_first: float, batch_n: int, device: torch.device, budget_s: float, start: float
) -> dict:
    """The result when another call after the warm-up would not fit the budget: the warm-up call is the only
    sample (``cold``: true)."""
    why = "after the warm-up call, another call of its length would not fit the time budget"
    out["batch1"] = {"median_ms": t_first * 1e3, "p90_ms": t_first * 1e3, "runs": 1, "cold": True}
    out["batchN"] = {"batch": batch_n, "skipped": why}
    out["per_stage_ms"] = {}
    out["per_stage_skipped"] = why
    out.update(device=str(device), threads=torch.get_num_threads(), budget_s=budget_s)
    out["elapsed_s"] = time.perf_counter() - start
    return out


# Over 60 lines only by its docstring (how the time budget is shared); the body is about 35 lines.
def measure_latency(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    device: torch.device,
    *,
    batch_n: int = 8,
    budget_s: float = 1.3,
) -> dict:
    """Latency of ``model`` (already on ``device``) for inputs of shape (C, H, W), within ``budget_s``.

    The first call (warm-up: allocator, oneDNN / cuDNN kernel selection for new shapes) is timed
    (``warmup_ms``) but not reported as latency. Each later phase gets a share of the time left: batch 1
    (40 %, at least one run), batch N (its warm-up plus runs, 60 % of the rest; skipped when two calls would
    not fit, ``batchN["skipped"]`` says why), per part (the remainder, at least one run). So the total stays
    within ``budget_s`` plus about one batch-1 call — or, when a second call of the warm-up's length would
    not fit, the warm-up call is the only sample (``batch1["cold"]`` is true) and nothing else runs.

    On a shared machine, torch's intra-op threads can make every call many times slower than on an idle one
    (threads wait for a core held by another process); ``threads`` records the setting used.

    Returns:
        ``{"batch1": {"median_ms", "p90_ms", "runs"}, "batchN": {"median_ms", "p90_ms", "runs", "batch",
        "per_image_ms"} | {"batch", "skipped"}, "per_stage_ms": {part: ms}, "warmup_ms", "device", "threads",
        "budget_s", "elapsed_s"}``.
    """
    start = time.perf_counter()
    deadline = start + budget_s

    def left() -> float:
        return max(0.0, deadline - time.perf_counter())

    sync = _sync(device)
    model.eval()
    out: dict = {}
    with torch.inference_mode():
        x1 = torch.rand(1, *input_shape, device=device)
        t_first = _time_calls(lambda: model(x1), sync, 0.0, 1)[0]
        out["warmup_ms"] = t_first * 1e3
        if left() < t_first:  # one more call would overrun: report the warm-up call itself, flagged
            return _over_budget(out, t_first, batch_n, device, budget_s, start)
        if t_first * 4 < left() * 0.1:
            _time_calls(lambda: model(x1), sync, left() * 0.05, 3)
        out["batch1"] = _summary(_time_calls(lambda: model(x1), sync, left() * 0.4, 200))
        one = out["batch1"]["median_ms"] / 1e3
        if batch_n > 1:
            est = one * batch_n * 0.8  # batching amortises a little
            share = left() * 0.6
            if 2 * est > share:
                out["batchN"] = {
                    "batch": batch_n,
                    "skipped": f"one batch-{batch_n} call (~{est * 1e3:.0f} ms est.) does not fit the time budget",
                }
            else:
                xn = torch.rand(batch_n, *input_shape, device=device)
                _time_calls(lambda: model(xn), sync, 0.0, 1)
                bn = _summary(_time_calls(lambda: model(xn), sync, max(0.0, share - est), 100))
                out["batchN"] = {**bn, "batch": batch_n, "per_image_ms": bn["median_ms"] / batch_n}
                del xn
        out["per_stage_ms"] = _per_stage(model, x1, sync, left())  # at least one run
    out["device"] = str(device)
    out["threads"] = torch.get_num_threads()
    out["budget_s"] = budget_s
    out["elapsed_s"] = time.perf_counter() - start
    return out
