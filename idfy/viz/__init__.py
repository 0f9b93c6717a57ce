"""Pictures of idfy designs and runs, drawn by the library for the app, the CLI and the run folder.

* :mod:`idfy.viz.diagram`: the Graphviz diagram of a design (:func:`idfy.viz.diagram.diagram`, also
  ``idfy.diagram``), built by :mod:`~idfy.viz.builder` from :mod:`~idfy.viz.graph`'s nodes, written by
  :mod:`~idfy.viz.dot` and compared by :mod:`~idfy.viz.diff`.

The function ``diagram`` is not re-exported here: ``idfy.viz.diagram`` names the module, so the name keeps one
meaning (issue item 9); use ``idfy.diagram(...)`` or ``from idfy.viz.diagram import diagram``.
"""

from __future__ import annotations

from idfy.viz.diff import config_diff, diagram_diff
from idfy.viz.dot import render
from idfy.viz.graph import DETAILS

__all__ = ["DETAILS", "config_diff", "diagram_diff", "render"]
