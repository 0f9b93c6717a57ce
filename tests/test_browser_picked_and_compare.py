"""In Chromium (Playwright): the Design tab's picked diagram node glows and keeps its "changed" outline, the
diagram's tooltips reach the page; Compare's side-by-side table shows every column whole at 800 and 1440 px
(and scrolls sideways, header included, when a design's name is too long to fit). Screenshots go to
``tests/artifacts/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from idfy.viz.graph import CHANGED, SELECTED

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("app")]

WIDE, NARROW = {"width": 1440, "height": 900}, {"width": 800, "height": 900}


def rgb(colour: str) -> str:
    """``#d62728`` as getComputedStyle writes it: ``rgb(214, 39, 40)``."""
    return "rgb({}, {}, {})".format(*(int(colour[i : i + 2], 16) for i in (1, 3, 5)))


def open_design(page: Any, url: str, query: str) -> None:
    page.goto(url + query)
    page.wait_for_selector("#diagram svg")
    page.wait_for_function(
        "() => location.search.includes('cfg=') && !document.documentElement.classList.contains('idfy-linking')"
    )


def node(page: Any, node_id: str) -> Any:
    return page.locator("#diagram g.node", has=page.locator("title", has_text=node_id)).first


#: The stroke, stroke width and filter of a node's shape (the path Graphviz draws for a rounded box).
SHAPE_STYLE = """(g) => { const s = getComputedStyle(g.querySelector('path, polygon, ellipse'));
  return {stroke: s.stroke, width: s.strokeWidth, filter: s.filter}; }"""


def test_a_picked_node_glows_and_keeps_its_changed_outline(page: Any, app_url: str, artifacts: Path) -> None:
    page.set_viewport_size(WIDE)
    open_design(page, app_url, "?preset=full")
    button = page.locator("#stage-3").locator("button.label-wrap").first
    if "open" not in (button.get_attribute("class") or ""):
        button.click()
    page.locator("#c-stages-2-width").locator("input").first.fill("104")  # stage 3's blocks change
    changed, same = node(page, "stages/2/blocks"), node(page, "stages/0/blocks")
    page.wait_for_function(
        "() => (document.querySelector('#diagram svg') || {}).textContent.includes('→ 104')", timeout=60_000
    )
    changed.wait_for(state="attached", timeout=60_000)
    red, blue = rgb(CHANGED), rgb(SELECTED)
    page.wait_for_function(  # the diagram against the preset: the changed node outlined red
        "(c) => { const t = Array.from(document.querySelectorAll('#diagram g.node title'))"
        ".find(t => t.textContent === 'stages/2/blocks');"
        " return t && getComputedStyle(t.parentNode.querySelector('path')).stroke === c; }",
        arg=red,
        timeout=60_000,
    )
    assert changed.evaluate(SHAPE_STYLE) == {"stroke": red, "width": "3px", "filter": "none"}
    unpicked_same = same.evaluate(SHAPE_STYLE)
    assert unpicked_same["filter"] == "none" and unpicked_same["stroke"] != red

    changed.dispatch_event("click")  # picked AND changed: the red outline stays, the blue glow comes
    page.locator("#diagram .idfy-inspector").wait_for()
    style = changed.evaluate(SHAPE_STYLE)
    assert style["stroke"] == red and style["width"] == "3px" and blue in style["filter"], style
    page.locator("#diagram").first.screenshot(path=str(artifacts / "design_picked_changed_node.png"))

    same.dispatch_event("click")  # picked, unchanged: its own outline and the glow; the other lets go
    picked = same.evaluate(SHAPE_STYLE)
    assert picked["stroke"] == unpicked_same["stroke"] and picked["width"] == unpicked_same["width"]
    assert blue in picked["filter"]
    assert changed.evaluate(SHAPE_STYLE) == {"stroke": red, "width": "3px", "filter": "none"}

    svg = page.locator("#diagram svg").first
    assert "glow: the node picked" in svg.text_content()  # the legend's key for the glow
    tips = page.evaluate(
        "() => Array.from(document.querySelectorAll('#diagram svg a'))"
        ".map(a => a.getAttribute('xlink:title') || a.getAttributeNS('http://www.w3.org/1999/xlink', 'title'))"
    )
    assert any(t and t.startswith("sparse conv: sparse connectivity") for t in tips)
    assert any(t and "aa: antialiased resize" in t for t in tips)
    # those <a> elements are no links: their labels are not underlined
    assert set(page.evaluate(UNDERLINES, "#diagram")) == {"none"}


#: The text decoration of every <a> (a Graphviz tooltip) in the diagrams under ``sel``.
UNDERLINES = """(sel) => Array.from(document.querySelectorAll(sel + ' svg a'))
  .map(a => getComputedStyle(a).textDecorationLine)"""


def open_compare(page: Any, url: str, designs: int = 3) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Compare").click()
    page.wait_for_function(
        "(n) => document.querySelectorAll('#compare-diagrams svg').length === n", arg=designs, timeout=60_000
    )
    page.wait_for_function("() => !document.querySelector('#tab-compare .pending')", timeout=60_000)
    page.wait_for_timeout(300)  # the table measures its columns after the first paint


#: What a person cannot read in the side-by-side table: text cut by a cell, a word broken across lines
#: (a no-break space keeps "(+240 %)" one word), a column outside the table's box, rows in an inner scroll box.
TABLE_PROBLEMS = """() => { const t = document.querySelector('#compare-table'); const out = [];
  const vp = t.querySelector('.virtual-table-viewport'); const box = vp.getBoundingClientRect();
  const cells = Array.from(t.querySelectorAll('.header-cell, .body-cell')).filter(c => !c.closest('.sizing-body'));
  for (const c of cells) for (const e of [c, ...c.querySelectorAll('*')]) {
    const s = getComputedStyle(e), hidden = ['hidden', 'clip'].includes(s.overflowX) || e.tagName === 'SPAN';
    if (hidden && e.scrollWidth > e.clientWidth + 1) { out.push('cut: ' + c.textContent.trim()); break; } }
  for (const c of t.querySelectorAll('.body-cell')) {
    const w = document.createTreeWalker(c, NodeFilter.SHOW_TEXT); let n;
    while ((n = w.nextNode())) { const re = /[^ \\t\\n]+/g; let m;
      while ((m = re.exec(n.textContent))) { const r = document.createRange();
        r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set(Array.from(r.getClientRects()).map(q => Math.round(q.top)));
        if (tops.size > 1) out.push('broken word: ' + m[0]); } } }
  const heads = Array.from(t.querySelectorAll('thead th'));
  const last = heads[heads.length - 1].getBoundingClientRect();
  if (last.right > box.right + 1 || last.left < box.left - 1) out.push('last column outside the table');
  if (vp.scrollHeight > vp.clientHeight + 1) out.push('rows in an inner scroll box');
  return out; }"""


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["800", "1440"])
def test_the_compare_table_shows_every_column_whole(
    page: Any, app_url: str, artifacts: Path, size: dict[str, int]
) -> None:
    page.set_viewport_size(size)
    open_compare(page, app_url)
    table = page.locator("#compare-table")
    table.scroll_into_view_if_needed()
    table.screenshot(path=str(artifacts / f"compare_table_{size['width']}.png"))
    text = table.inner_text()
    assert "mobilenetv3_small_100 · timm" in text and "stage outputs" in text
    assert page.evaluate(TABLE_PROBLEMS) == []
    assert set(page.evaluate(UNDERLINES, "#compare-diagrams")) == {"none"}  # their tooltips' <a>, too


def test_a_name_too_wide_for_800_px_scrolls_the_table_sideways(
    page: Any, app_url: str, artifacts: Path
) -> None:
    page.set_viewport_size(NARROW)
    open_compare(page, app_url)
    name = "W" * 40  # the longest name a design may be saved under, with no place to wrap
    page.locator("#save-name").locator("textarea, input").first.fill(name)
    page.locator("#save-design").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#compare-diagrams svg').length === 4", timeout=60_000
    )
    page.wait_for_timeout(300)
    vp = page.locator("#compare-table .virtual-table-viewport").first
    vp.scroll_into_view_if_needed()
    assert vp.evaluate("(v) => v.scrollWidth > v.clientWidth + 1")  # wider than its box ...
    assert vp.evaluate("(v) => getComputedStyle(v).overflowX") in ("auto", "scroll")  # ... so it scrolls
    vp.evaluate("(v) => { v.scrollLeft = v.scrollWidth; }")
    page.wait_for_timeout(100)
    box = vp.bounding_box()
    last = page.locator("#compare-table thead th").last.bounding_box()
    assert box["x"] - 1 <= last["x"] and last["x"] + last["width"] <= box["x"] + box["width"] + 1
    assert box["y"] - 1 <= last["y"] < box["y"] + box["height"]  # the header came along
    page.locator("#compare-table").screenshot(path=str(artifacts / "compare_table_800_scrolled.png"))
    assert name in page.locator("#compare-table").inner_text()
