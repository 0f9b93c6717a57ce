"""idfy's building blocks, one kind per file.

A dense sub-stream kind registers itself with :mod:`idfy.substreams` at the end of its file
(``global_context.py``, ``fc_context.py``, ``nonlocal_block.py``); the registry imports every module here.
Conv → norm → act is built in one place (:mod:`.conv_norm_act`); norms and activations come from
:mod:`.factory` (a name, an ``nn.Module`` class or a partial)."""

from idfy.layers.conv_norm_act import ConvNormAct, conv_norm_act
from idfy.layers.conv_unit import make_conv
from idfy.layers.factory import get_act_layer, get_norm_layer
from idfy.layers.fc_context import FCContext
from idfy.layers.fusion import SubstreamFusion
from idfy.layers.gaussian import GaussianFilterBank, GaussianStream, gaussian_kernel1d
from idfy.layers.ghost import GhostModule
from idfy.layers.global_context import GlobalContext
from idfy.layers.heads import Conv1x1Head, FlattenHead
from idfy.layers.injection import ImageInjection, resize_image
from idfy.layers.residual import ResidualBlock

__all__ = [
    "Conv1x1Head",
    "ConvNormAct",
    "FCContext",
    "FlattenHead",
    "GaussianFilterBank",
    "GaussianStream",
    "GhostModule",
    "GlobalContext",
    "ImageInjection",
    "ResidualBlock",
    "SubstreamFusion",
    "conv_norm_act",
    "gaussian_kernel1d",
    "get_act_layer",
    "get_norm_layer",
    "make_conv",
    "resize_image",
]
