"""Pictures of idfy designs and runs, drawn by the library for the app, the CLI and the run folder.

* :mod:`idfy.viz.diagram`: the Graphviz diagram of a design (:func:`idfy.viz.diagram.diagram`, also
  ``idfy.diagram``), built by :mod:`~idfy.viz.builder` from :mod:`~idfy.viz.graph`'s nodes, written by
  :mod:`~idfy.viz.dot` and compared by :mod:`~idfy.viz.diff`; :mod:`~idfy.viz.terms` spells out the short
  terms it and the text summary print (legend lines, tooltips, the summary's footnote);
* :mod:`idfy.viz.curves`: a run's training curves from its metrics records (plotly JSON for the app, PNG for
  the run folder), with the plotly layout pieces in :mod:`~idfy.viz.figure`;
* :mod:`idfy.viz.samples`: the sample-predictions grid (PIL image, PNG bytes).

Nothing is imported here, so a picture module brings only what it needs (the curves do not load Graphviz
or the analysis). The function ``diagram`` is not re-exported either: ``idfy.viz.diagram`` names the module,
so the name keeps one meaning; use ``idfy.diagram(...)`` or ``from idfy.viz.diagram import diagram``.
"""
