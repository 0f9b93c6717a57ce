"""Theoretical receptive field and jump of every stage, computed analytically from a :class:`ModelConfig`.

Recurrence (Araujo et al., "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019):
for a layer of kernel ``k``, stride ``s`` and dilation ``d``, ``rf += (k - 1) * d * jump`` then ``jump *= s``;
``rf`` and ``jump`` are in input pixels, starting at ``rf = 1``, ``jump = 1``.

Which layers count: the stem conv, each stage's 2×2 pool, both 3×3 convs of every residual block (the branch
is the longest path; the 1×1 shortcut is shorter), a ghost module's cheap depthwise 3×3 after its primary conv,
and the Gaussian sub-stream (separable kernel of radius ``ceil(3σ)``, a parallel branch: the stage keeps the
larger field). Paths from the re-injected image (a resize) are shorter and ignored.

``global_`` becomes true from the first operation that mixes every position — a dense sub-stream whose kind
says so (``DenseKind.global_`` in :mod:`idfy.substreams`: GCNet attention pooling, FC squeeze, non-local
attention) — and always at the head (global pooling or flatten + FC): from there every
output sees the whole image, whatever ``rf`` says. ``rf`` is not clipped to the image size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from idfy.config import ConvSpec, ModelConfig
from idfy.conv_kinds import conv_kind
from idfy.plan import LayerStep
from idfy.substreams import dense_kind

__all__ = ["FieldStep", "receptive_fields"]


@dataclass(frozen=True)
class FieldStep:
    """Receptive field after one model part: ``rf`` and ``jump`` in input pixels, ``global_`` see module doc."""

    rf: int
    jump: int
    global_: bool = False

    def conv(self, kernel: int, stride: int = 1, dilation: int = 1) -> FieldStep:
        """The field after a conv / pool of this kernel, stride and dilation."""
        return FieldStep(self.rf + (kernel - 1) * dilation * self.jump, self.jump * stride, self.global_)

    def conv_spec(self, spec: ConvSpec, kernel: int, stride: int) -> FieldStep:
        """The field after ``make_conv(spec, kernel_size=kernel, stride=stride)`` (ghost: + cheap 3×3)."""
        d = spec.eff_dilation if kernel > 1 else 1
        out = self.conv(kernel, stride, d)
        then = conv_kind(spec.kind).then_kernel
        return out.conv(then) if then else out

    def step(self, layer: LayerStep) -> FieldStep:
        """The field after one planned layer (and the conv that follows inside it, e.g. ghost's cheap 3×3)."""
        out = self.conv(layer.kernel, layer.stride, layer.dilation)
        return out.conv(layer.then_kernel) if layer.then_kernel else out


def receptive_fields(cfg: ModelConfig) -> dict[str, FieldStep]:
    """Field after each part: keys ``stem`` (if any), ``stages.{i}``, ``head_inject`` (if any), ``head``.

    The layers and their kernel / stride / dilation come from the stage plan (:func:`idfy.plan.model_plan`)."""
    out: dict[str, FieldStep] = {}
    f = FieldStep(1, 1)
    plan = cfg.plan()
    if cfg.stem is not None:
        for step in plan.stem_layers:
            f = f.step(step)
        out["stem"] = f
    for st, sp in zip(cfg.stages, plan.stages):
        for step in sp.layers:
            f = f.step(step)
        if st.gaussian.enabled:
            radius = max(max(1, math.ceil(3.0 * s)) for s in st.gaussian.sigmas)
            g = f.conv(2 * radius + 1)
            f = FieldStep(max(f.rf, g.rf), f.jump, f.global_)
        if st.dense.kind != "none" and dense_kind(st.dense.kind).global_:
            f = FieldStep(f.rf, f.jump, True)
        out[sp.name] = f
    if cfg.inject.head:
        out["head_inject"] = f
    out["head"] = FieldStep(f.rf, f.jump, True)
    return out
