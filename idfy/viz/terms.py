"""The short terms idfy's diagram and text summary print, spelled out in the field's standard words with their
sources: one table read by the diagram's legend and tooltips (:mod:`idfy.viz.dot`), the footnote under
``python -m idfy summary``'s table and the app's descriptions (:mod:`idfy.ui.glossary`).

Each entry is ``term -> (short, full)``: ``short`` fits a legend line, ``full`` is the tooltip / footnote
text with the source.
"""

from __future__ import annotations

import re

__all__ = ["TERMS", "full", "short", "terms_in"]

TERMS: dict[str, tuple[str, str]] = {
    "aa": (
        "aa: antialiased resize (the filter spans every pixel it shrinks)",
        "aa: antialiased resize. Shrinking the image, the interpolation filter is widened by the scale factor, "
        "so each output pixel is a weighted mean of every input pixel it covers instead of a sample of a few "
        "(which aliases: fine detail turns into false patterns). torch.nn.functional.interpolate(..., "
        "antialias=True), as PIL resizes; Parmar, Zhang & Zhu 2022, 'On Aliased Resizing and Surprising "
        "Subtleties in GAN Evaluation'. Not used by the area mode, which already averages.",
    ),
    "sparse conv": (
        "sparse conv: grouped + dilated conv (sparse connectivity, S1a)",
        "sparse conv: sparse connectivity, not a sparse-tensor convolution. A grouped convolution (each "
        "output channel sees only its group's input channels: Krizhevsky et al. 2012, Xie et al. 2017 "
        "'ResNeXt') that is also dilated (the kernel's taps d pixels apart: Yu & Koltun 2016) — the seed's "
        "sparse early connectivity (S1a).",
    ),
    "g d s": (
        "gN: N channel groups · dN: dilation N · sN: stride N",
        "gN: a grouped convolution with N channel groups; dN: dilation N, the kernel's taps N pixels apart "
        "(dilated / atrous convolution, Yu & Koltun 2016); sN: stride N (the output is N times smaller).",
    ),
    "RF": (
        "RF: receptive field in input pixels (Araujo et al. 2019)",
        "RF: theoretical receptive field, the side in input pixels of the square of the image that can "
        "affect one output position (Araujo, Norris & Sim 2019, 'Computing Receptive Fields of "
        "Convolutional Neural Networks'); not clipped to the image.",
    ),
    "+g": (
        "+g: a global operation (attention or FC sub-stream, the head) lets every output see the whole image",
        "+g (+ global): a global operation lies on the path up to here — a dense sub-stream that mixes every "
        "position (GCNet attention pooling, Cao et al. 2019; an FC squeeze; non-local attention, Wang et al. "
        "2018) or the head's global pooling / flatten + FC — so every output sees the whole image, whatever "
        "RF says.",
    ),
    "jump": (
        "jump: output stride in input pixels",
        "jump: the distance in input pixels between neighbouring output positions, i.e. the product of the "
        "strides so far (Araujo et al. 2019).",
    ),
    "act b=1": (
        "act b=1: activation memory for one image (batch 1, fp32)",
        "act b=1: activation memory, the bytes of the part's layer outputs (conv, norm, activation, pool, ...) "
        "for one image (batch 1, fp32); training keeps about this much per image for the backward pass.",
    ),
}

_GROUPS_DILATION_STRIDE = re.compile(r"\b[gds]\d+\b")


def short(term: str) -> str:
    """The legend line of ``term`` (a key of :data:`TERMS`). Raises KeyError for an unknown term."""
    return TERMS[term][0]


def full(term: str) -> str:
    """The tooltip / footnote text of ``term``, with its source. Raises KeyError for an unknown term."""
    return TERMS[term][1]


def terms_in(texts: list[str]) -> list[str]:
    """The :data:`TERMS` keys that diagram labels ``texts`` use, in the table's order: ``aa``, ``sparse conv``
    and ``RF`` as words, ``g d s`` for any ``g4`` / ``d2`` / ``s2`` token."""
    found = []
    for term in TERMS:
        if term == "g d s":
            pattern = _GROUPS_DILATION_STRIDE
        else:
            pattern = re.compile(rf"(?<![\w=+]){re.escape(term)}(?![\w=])")
        if any(pattern.search(t) for t in texts):
            found.append(term)
    return found
