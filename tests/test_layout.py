"""Public names keep one meaning after the analysis / viz / evidence packages were laid out by role."""

from __future__ import annotations

import subprocess
import sys

import idfy
from idfy import analysis

_FRESH = """
import inspect, idfy
before = idfy.diagram
import idfy.viz.diagram
after = idfy.diagram
print(inspect.isfunction(before), before is after, inspect.ismodule(idfy.viz.diagram))
"""


def test_idfy_diagram_stays_the_function_after_the_module_is_imported() -> None:
    out = subprocess.run([sys.executable, "-c", _FRESH], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "True"]


def test_analysis_package_keeps_its_public_names() -> None:
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None
    assert idfy.analyze is analysis.analyze and idfy.compare is analysis.compare
