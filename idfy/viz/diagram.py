"""Graphviz diagrams of an idfy design, drawn from its config and the shapes / costs traced by :func:`analyze`.

>>> from idfy import load_preset
>>> from idfy.viz.diagram import diagram, render
>>> svg = render(diagram(load_preset("full")), "svg")

What is drawn (top to bottom):

* an ``image`` source node; the main stream starts there, and every re-injection point (S1) gets its own
  dashed orange edge from it, labelled with the resized shape and the resize mode ("3×112×112 bicubic");
* the main stream: stem, each stage as a cluster (downsampling, image CAT, residual blocks, sub-streams),
  the head injection, the head and the output;
* sub-streams (S2: Gaussian, dense GCNet / FC) as parallel branches merging at a CAT node (S3);
* at ``blocks`` / ``layers`` detail, every residual block with its shortcut and its ``+`` node;
* edges carry tensor shapes (C×H×W), nodes their parameters and MACs; colours follow the block kind and
  a legend cluster explains them, and the abbreviations the labels use (``aa``, ``sparse conv``, ``g4`` /
  ``d2``, ``RF``: :mod:`idfy.viz.terms`); in the SVG, hovering a conv node or an image edge shows its terms
  in full (Graphviz ``tooltip``).

``detail``: ``stages`` (compact: one node per stage part), ``blocks`` (one node per residual block) or
``layers`` (one node per layer of the stem, the residual branches and the head: conv, norm, activation, ...;
injections and sub-streams stay one node each).

Node names are stable and follow module names with ``/`` for ``.`` (``stages/1/blocks``, ``stages/1/gaussian``,
``stages/1/inject``, ``head``); tests and :func:`idfy.viz.diff.diagram_diff` rely on them.
"""

from __future__ import annotations

import graphviz

from idfy.analysis import Report
from idfy.config import ModelConfig
from idfy.viz.builder import build_graph
from idfy.viz.diff import config_diff, diagram_diff
from idfy.viz.dot import render, to_dot
from idfy.viz.graph import DETAILS

__all__ = ["DETAILS", "config_diff", "diagram", "diagram_diff", "render"]


def diagram(
    cfg: ModelConfig, detail: str = "stages", report: Report | None = None, *, selectable: bool = False
) -> graphviz.Digraph:
    """The design as a ``graphviz.Digraph`` (render it with :func:`render`).

    Args:
        detail: ``stages`` | ``blocks`` | ``layers``.
        report: an :func:`analyze` report of ``cfg`` to reuse (else one is made, cached).
        selectable: for a page where clicking a node picks it: the legend explains the picked node's glow.
    """
    return to_dot(build_graph(cfg, detail, report), selectable=selectable)
