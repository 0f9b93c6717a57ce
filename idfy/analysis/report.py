"""The numbers of one analysed design: :class:`Report` and its per-stage :class:`StageRow`, the counting
:data:`CONVENTIONS` and the parameter / MAC :data:`PATHS` (main path, one per sub-stream slot, injection, head).

Shapes are (C, H, W) without the batch dimension; bytes are fp32. Source: seed items S10–S12 (what the
explorer shows for a design).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from idfy.analysis.tracing import ModuleStat
from idfy.substreams import SLOTS

__all__ = ["CONVENTIONS", "PATHS", "Report", "StageRow", "path_of"]

#: Parameter / MAC paths (``Report.params_by_path`` keys): every sub-stream slot of :mod:`idfy.substreams`
#: is one path (all dense kinds count under ``dense``).
PATHS = ("main", *SLOTS, "injection", "head")

CONVENTIONS: dict[str, str] = {
    "macs": "MACs: multiply-accumulates of convolutions, linear layers and matrix products; one fused "
    "multiply-add = 1 (fvcore's 'flop' convention). Normalisation, activations, pooling, interpolation, "
    "softmax and additions are not counted.",
    "flops": "FLOPs = 2 × MACs (torch.utils.flop_counter's convention).",
    "params": "params: elements of nn.Parameters (buffers such as BatchNorm running statistics and fixed "
    "Gaussian σ are excluded; they are in memory['weights']).",
    "shapes": "shapes are (C, H, W) without the batch dimension.",
    "receptive_field": "rf / jump: theoretical receptive field and stride of the main conv path in input "
    "pixels (dilation included; Gaussian sub-stream counted, image re-injection paths ignored; not clipped "
    "to the image). rf_global: a global operation (a dense sub-stream: GCNet attention, FC squeeze or "
    "non-local attention; global pooling or flatten+FC) lets every output see the whole image.",
    "activations": "act_bytes: bytes of the outputs of the leaf modules (conv, norm, act, pool, ...) at batch 1 "
    "in fp32; concatenations, residual sums and matrix products inside non-leaf modules are not included.",
    "memory": "memory (bytes, fp32): weights = parameters + buffers; grads = trainable parameters; optimizer = "
    "AdamW's two moments (2 × trainable parameters); activations = act_bytes × batch_size (approximates the "
    "tensors saved for backward); total = their sum. Framework workspace and allocator overhead excluded.",
    "latency": "latency: wall-clock ms of warm forward passes under torch.inference_mode (median and p90); "
    "per-stage times from forward hooks at batch 1.",
}


@dataclass
class StageRow:
    """One row of the per-stage table. Shapes are (C, H, W) without the batch dimension.

    ``inject_shape``: the re-injected image as resized for this part (None when nothing is injected).
    ``rf`` / ``jump``: receptive field and stride in input pixels after this part; ``rf_global`` see
    ``CONVENTIONS["receptive_field"]``. ``act_bytes``: leaf-module output bytes at batch 1, fp32.
    """

    name: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    inject_shape: tuple[int, ...] | None
    params: int
    macs: int
    rf: int
    jump: int
    act_bytes: int
    rf_global: bool = False


@dataclass
class Report:
    """Everything :func:`analyze` measured for one design. Treat as read-only: reports are cached and shared.

    Counts follow :data:`CONVENTIONS`; ``conventions`` repeats them so a JSON dump is self-describing.
    ``modules`` holds per-module stats (for diagrams and charts) and is left out of :meth:`to_dict` unless asked.
    """

    name: str
    fingerprint: str
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, ...]
    device: str
    params_total: int
    params_trainable: int
    params_by_stage: dict[str, int]
    params_by_path: dict[str, int]
    macs: int
    flops: int
    macs_by_stage: dict[str, int]
    macs_by_path: dict[str, int]
    stages: list[StageRow]
    memory: dict[str, int]
    batch_size: int
    latency: dict | None = None
    layers: list[dict] | None = None
    cross_check: dict | None = None
    conventions: dict[str, str] = field(default_factory=lambda: dict(CONVENTIONS))
    uncounted_ops: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    modules: dict[str, ModuleStat] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self, modules: bool = False) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists when dumped). ``modules=True`` adds the per-module stats."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "modules"}
        d["stages"] = [dataclasses.asdict(s) for s in self.stages]
        d["input_shape"] = list(self.input_shape)
        d["output_shape"] = list(self.output_shape)
        for row in d["stages"]:
            for key in ("in_shape", "out_shape", "inject_shape"):
                row[key] = list(row[key]) if row[key] is not None else None
        if modules:
            d["modules"] = {k: dataclasses.asdict(v) for k, v in self.modules.items()}
        return d

    def stage(self, name: str) -> StageRow:
        """The row called ``name`` (``"stages.1"``, ``"head"``, ...)."""
        for row in self.stages:
            if row.name == name:
                return row
        raise KeyError(f"no stage {name!r}; stages: {', '.join(r.name for r in self.stages)}")


def path_of(name: str) -> str:
    """Which path a module / parameter name belongs to: one of :data:`PATHS`.

    ``*.inject`` and ``head_inject`` -> injection; ``*.fusion.streams.gaussian`` -> gaussian;
    ``*.fusion.streams.dense`` -> dense; ``head`` -> head; everything else (stem conv, blocks, pools and the
    fusion's 1×1 projection) -> main.
    """
    parts = name.split(".")
    if parts[0] == "head_inject" or "inject" in parts:
        return "injection"
    if "streams" in parts:
        i = parts.index("streams")
        if i + 1 < len(parts) and parts[i + 1] in SLOTS:
            return parts[i + 1]
    if parts[0] == "head":
        return "head"
    return "main"
