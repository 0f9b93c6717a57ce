"""axe-core in Chromium on every tab: no serious or critical accessibility violations.

axe-core's script is not committed: ``make axe`` installs a pinned copy from the npm registry into the
git-ignored ``tests/.axe/`` (``make test`` and CI do it first); without it this test is skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("app")]

AXE = Path(__file__).resolve().parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
TABS = ("Design", "Compare", "Train", "Predict", "Evidence")

#: True once ``selector`` exists and neither it nor an ancestor is faded (Gradio fades a block while it updates).
OPAQUE = """(s) => { let e = document.querySelector(s); if (!e) return false;
  for (; e; e = e.parentElement) if (getComputedStyle(e).opacity !== '1') return false; return true; }"""

#: Runs axe on the visible page; returns the serious and critical violations with a few offending nodes.
RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def test_no_serious_or_critical_violations_on_any_tab(page: Any, app_url: str) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `make axe`")
    page.goto(app_url)
    page.wait_for_selector("#diagram svg")
    page.wait_for_function("() => location.search.includes('cfg=')")
    page.add_script_tag(path=str(AXE))
    found: dict[str, list[dict[str, Any]]] = {}
    for name in TABS:
        tab = page.get_by_role("tab", name=name)
        if tab.count() == 0:
            continue
        tab.click()
        page.locator(f"#tab-{name.lower()}").wait_for(state="visible")
        if name == "Compare":  # let the comparison finish (a pending block is drawn faded)
            page.wait_for_selector("#compare-diagrams svg", timeout=60_000)
            page.wait_for_function(OPAQUE, arg="#compare-stages table", timeout=60_000)
        page.wait_for_function("() => !document.querySelector('.pending')", timeout=60_000)
        page.wait_for_function(  # the page script gives Gradio's empty placeholders a role (debounced)
            "() => !document.querySelector('.empty[aria-label]:not([role]), .unpadded_box[aria-label]:not([role])')"
        )
        violations = page.evaluate(RUN_AXE)
        if violations:
            found[name] = violations
    assert not found, found
