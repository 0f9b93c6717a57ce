"""Plain-words descriptions of every design control and choice (one table the page, tooltips and tests read).

Each description says what the option does and where it comes from: a seed item of the design brief (S1–S13,
see :data:`SEED_ITEMS`) or a paper (He et al. 2016 for the residual-unit orders, Cao et al. 2019 for GCNet,
Han et al. 2020 for GhostNet, Yu & Koltun 2016 for dilated convolutions, Parmar et al. 2022 for antialiased
resizing). The diagram's and the text summary's abbreviations are spelled out in :mod:`idfy.viz.terms`.
"""

from __future__ import annotations

__all__ = ["CHOICES", "FIELDS", "SEED_ITEMS", "choice_text", "describe"]

#: The seed's design items as the page names them (shown wherever an S-code appears).
SEED_ITEMS: dict[str, str] = {
    "S1": "re-inject the original image into the network (early, every stage, before the head)",
    "S2": "sub-streams beside the main stream: a Gaussian one and a dense (global) one",
    "S3": "merge streams by concatenating channels (CAT)",
    "S4": "non-local features: GhostNet blocks, GCNet global context, FC layers",
    "S5": "average pooling instead of max pooling for downsampling",
    "S6": "end the network with a stack of 1×1 convolutions",
    "S7": "mix regular, dilated and group convolutions",
    "S8": "residual unit with its conv / BN / ReLU order rearranged",
    "S9": "input pixel scale (e.g. 0–10 instead of 0–255)",
    "S10": "seed Model 1: two stride-1 residual blocks and four FC layers",
    "S11": "1×1 convolutions to change the channel count",
    "S12": "seed Model 2: three stride-2 residual blocks, 224→112→56→28",
    "S13": "output: one box (x1, y1, x2, y2) and one label per image",
}

#: One line per control, keyed by the control key with the stage index removed (``stages.*.width``).
FIELDS: dict[str, str] = {
    "input.channels": "Colour channels of the input image: 1 for grey, 3 for RGB.",
    "input.height": "Input image height in pixels (the seed's Model 2 uses 224).",
    "input.width": "Input image width in pixels (the seed's Model 2 uses 224).",
    "input.scale": "Pixels are scaled to 0…scale before the first layer; the seed suggests 10 instead of 255 (S9).",
    "stem.enabled": "A single convolution before the first stage that sets the starting width.",
    "stem.width": "Output channels of the stem convolution.",
    "stem.kernel": "Kernel size of the stem convolution (k×k).",
    "stem.stride": "Stride 2 halves the image size in the stem; 1 keeps it.",
    "stem.conv.kind": "Which convolution the stem uses (regular, dilated, group, sparse = grouped + dilated, or ghost; S7).",
    "stem.conv.groups": "Channel groups of the stem convolution; must divide its input and output channels.",
    "stem.conv.dilation": "Gap between kernel taps of the stem convolution (1 = none).",
    "stem.conv.ghost_ratio": "GhostNet ratio: 1 in this many output channels comes from a full convolution.",
    "stages.count": "Number of stages; each stage is a run of residual units at one width.",
    "stages.*.width": "Output channels of this stage's residual units.",
    "stages.*.depth": "Residual units (blocks) stacked in this stage.",
    "stages.*.stride": "Stride 2 halves height and width at the start of the stage (S12); 1 keeps them (S10).",
    "stages.*.down": "How the stage halves the map: average pooling (S5), max pooling, or a stride-2 conv.",
    "stages.*.conv.kind": "Which 3×3 convolution the residual units use (S7); sparse = grouped + dilated, not a sparse-tensor conv.",
    "stages.*.conv.groups": "Channel groups; must divide the stage's input and output channels.",
    "stages.*.conv.dilation": "Gap between kernel taps (dilated / atrous conv): wider view, same weights.",
    "stages.*.conv.ghost_ratio": "GhostNet ratio: 1 in this many output channels comes from a full convolution.",
    "stages.*.inject": "Concatenate the original image, resized to this stage's size, to its input (S1b, S1e).",
    "stages.*.gaussian.enabled": "Add a Gaussian-filtered sub-stream beside the residual units (S2a).",
    "stages.*.gaussian.sigmas": "Blur strengths σ in pixels of the Gaussian sub-stream, e.g. '1, 2'.",
    "stages.*.gaussian.learnable": "Let training adjust σ (otherwise the filters are fixed).",
    "stages.*.gaussian.dog": "Use differences of Gaussians (band-pass edges) instead of plain blurs.",
    "stages.*.dense.kind": "A global sub-stream beside the main one: GCNet context (gc), an FC squeeze (fc), a non-local block (nonlocal) or any registered kind (S2b, S4).",
    "stages.*.dense.reduction": "Bottleneck factor of the dense sub-stream (channels ÷ reduction).",
    "stages.*.fuse_project": "After concatenating the sub-streams (S3), a 1×1 conv brings the width back.",
    "block.order": "Order of conv, BN, ReLU and the addition inside each residual unit (S8; He et al. 2016).",
    "block.order_text": "The unit's steps in order, joined by '-': conv, bn, relu and one add.",
    "block.kernel": "Kernel size of the residual units' convolutions (k×k).",
    "block.norm": "Normalisation layer in the units: batch norm, group norm or none.",
    "block.act": "Activation function in the units.",
    "inject.stem": "Concatenate the original image after the stem too (S1a).",
    "inject.head": "Concatenate the original image before the head (S1c).",
    "inject.mode": "How the image is resized for injection; the seed asks for bicubic (S1d).",
    "inject.antialias": "Antialiased resize ('aa' in the diagram): shrinking, each pixel averages all it covers instead of sampling a few, so no aliasing (as PIL; Parmar et al. 2022).",
    "inject.project": "Map the injected image through a 1×1 conv instead of adding its raw channels.",
    "head.kind": "Flatten + FC layers (seed Models 1 and 2) or a stack of 1×1 convs then pooling (S6).",
    "head.widths": "Hidden layer widths of the head, e.g. '128, 64' (the outputs are added after them).",
    "head.dropout": "Dropout rate before each hidden head layer (0 = off).",
    "task": "Localize: a box (x1, y1, x2, y2) and a label per image (S13); classify: the label only.",
    "num_classes": "Number of object classes the label chooses from.",
}

#: One line per choice of a dropdown or radio, keyed by the control key pattern and the choice.
CHOICES: dict[str, dict[str, str]] = {
    "conv.kind": {
        "regular": "plain 3×3 convolution",
        "dilated": "3×3 with gaps between taps: a wider view for the same weights (Yu & Koltun 2016)",
        "group": "channels split into groups convolved separately: fewer weights (S1a, S7)",
        "sparse": "grouped + dilated at once (sparse connectivity, not a sparse-tensor conv): the seed's S1a",
        "ghost": "half the channels from a cheap depthwise conv of the other half (GhostNet, Han et al. 2020)",
    },
    "down": {
        "avgpool": "2×2 average pooling (the seed's choice, S5)",
        "maxpool": "2×2 max pooling",
        "conv": "the first conv of the stage takes stride 2",
    },
    "dense.kind": {
        "none": "no dense sub-stream",
        "gc": "GCNet global context: attention pooling by matrix multiplication (Cao et al. 2019, S4)",
        "fc": "squeeze to a vector, FC layers, broadcast back (S4)",
    },
    "block.order": {
        "original": "(a) original: conv-BN-ReLU-conv-BN, add, ReLU (He et al. 2015)",
        "bn_after_add": "(b) BN after addition (He et al. 2016)",
        "relu_before_add": "(c) ReLU before addition (He et al. 2016)",
        "relu_preact": "(d) ReLU-only pre-activation: ReLU before each conv, BN after (He et al. 2016)",
        "preact": "(e) full pre-activation: BN and ReLU before each conv (He et al. 2016; S8)",
        "custom": "your own order, written in the steps field",
    },
    "block.norm": {"batch": "batch norm", "group": "group norm (batch-size independent)", "none": "no norm"},
    "block.act": {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU (swish)", "leaky_relu": "leaky ReLU"},
    "inject.mode": {
        "bicubic": "bicubic: a 4×4 neighbourhood per pixel (S1d)",
        "bilinear": "bilinear: a 2×2 neighbourhood",
        "area": "area: average of the covered pixels",
    },
    "head.kind": {
        "flatten": "flatten the last map, then FC layers (S10, S12)",
        "conv1x1": "1×1 conv stack, then global average pooling (S6, S11)",
    },
    "task": {"localize": "box + label (S13)", "classify": "label only"},
}


def _pattern(key: str) -> str:
    parts = key.split(".")
    if len(parts) > 2 and parts[0] == "stages" and parts[1].isdigit():
        return ".".join(["stages", "*", *parts[2:]])
    return key


def describe(key: str) -> str:
    """The one-line description of control ``key`` (``stages.2.width`` reads ``stages.*.width``); ``""`` if
    the control has none."""
    return FIELDS.get(_pattern(key), "")


def _registered_choice(pattern: str, choice: str) -> str:
    """A registered conv or dense sub-stream kind's own summary (a new kind describes itself)."""
    from idfy.conv_kinds import conv_kinds
    from idfy.substreams import dense_kinds

    if pattern.endswith("dense.kind"):
        return next((k.summary for k in dense_kinds() if k.name == choice), "")
    if pattern.endswith("conv.kind"):
        return next((k.summary for k in conv_kinds() if k.name == choice), "")
    return ""


def choice_text(key: str, choice: object) -> str:
    """The one-line description of ``choice`` for control ``key`` (``""`` when there is none)."""
    pattern = _pattern(key)
    registered = _registered_choice(pattern, str(choice))
    if registered:
        return registered
    for suffix, table in CHOICES.items():
        if pattern == suffix or pattern.endswith("." + suffix):
            return table.get(str(choice), "")
    return ""
