"""The explorer in Chromium (Playwright): presets, controls, errors, shareable links, compare, screenshots.

Screenshots go to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from idfy import build_model, load_preset
from idfy.config import ModelConfig
from idfy.evidence import load_ablations, results_folder
from idfy.ui.tabs.predict.examples import examples

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("app")]

LOCAL = ("http://127.0.0.1", "data:", "blob:", "about:")
SHOTS = Path(__file__).resolve().parents[1] / "assets" / "screenshots"
#: Table cells (and their clipping descendants) whose text is wider than the box that shows it.
CUT_OFF_CELLS = """(sel) => { const out = [];
  for (const c of document.querySelectorAll(sel + ' td, ' + sel + ' th')) {
    if (!c.offsetParent) continue;
    for (const e of [c, ...c.querySelectorAll('*')]) {
      const o = getComputedStyle(e).overflowX;
      if ((e === c || o === 'hidden' || o === 'clip') && e.scrollWidth > e.clientWidth + 1) {
        out.push(c.textContent.trim().slice(0, 40)); break; } } }
  return out; }"""
#: Table text (cells and what they hold) drawn in a monospace font: "font" when none, else the offenders.
MONOSPACE_CELLS = """(sel) => { const out = [];
  for (const c of document.querySelectorAll(sel + ' td, ' + sel + ' th'))
    for (const e of [c, ...c.querySelectorAll('*')])
      if (e.offsetParent && e.tagName !== 'CODE' && /mono/i.test(getComputedStyle(e).fontFamily.split(',')[0])) {
        out.push(c.textContent.trim().slice(0, 30)); break; }
  return out; }"""
#: The page's own HTML tables (claims, per-stage comparison) wider than their box, which then scrolls sideways.
WIDE_TABLES = """(sel) => Array.from(document.querySelectorAll(sel + ' .idfy-table-wrap'))
  .filter(w => w.offsetParent && w.scrollWidth > w.clientWidth + 1).map(w => w.textContent.slice(0, 40))"""
#: Example tiles and captions of the Predict gallery that clip their content (or lie outside the gallery).
CLIPPED_EXAMPLES = """() => { const g = document.querySelector('#predict-examples'); const box = g.getBoundingClientRect();
  const wrap = g.querySelector('.grid-wrap'); const out = [];
  if (wrap && wrap.scrollHeight > wrap.clientHeight + 1) out.push('gallery scrolls: ' + wrap.scrollHeight + ' > ' + wrap.clientHeight);
  for (const e of g.querySelectorAll('.thumbnail-item, .caption-label')) {
    const r = e.getBoundingClientRect();
    if (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1) out.push('clipped: ' + e.textContent.trim());
    if (r.top < box.top - 1 || r.bottom > box.bottom + 1 || r.left < box.left - 1 || r.right > box.right + 1)
      out.push('outside the gallery: ' + e.textContent.trim()); }
  return out; }"""
#: Pairs of text boxes of a plot that overlap (chart titles, annotations, point labels).
OVERLAPPING_TEXT = """(sel) => { const r = Array.from(document.querySelectorAll(
      sel + ' .annotation-text, ' + sel + ' .gtitle, ' + sel + ' .textpoint text'))
    .map(e => e.getBoundingClientRect()).filter(b => b.width > 0);
  let n = 0; for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++)
    if (r[i].left < r[j].right && r[j].left < r[i].right && r[i].top < r[j].bottom && r[j].top < r[i].bottom) n++;
  return n; }"""


def _count(cfg: ModelConfig) -> str:
    return f"{sum(p.numel() for p in build_model(cfg).parameters()):,}"


def open_app(page: Any, url: str, query: str = "") -> None:
    """Open the page and wait until the load chain (results, diagram, address bar) has finished."""
    page.goto(url + query)
    page.wait_for_selector("[data-card=params]")
    page.wait_for_selector("#diagram svg")
    page.wait_for_function("() => location.search.includes('cfg=')")


def exact_params(page: Any) -> str:
    return page.locator(".idfy-card-params .idfy-card-sub").inner_text().split("·")[0].strip()


def wait_params(page: Any, expected: str) -> None:
    page.wait_for_function(
        "(x) => { const e = document.querySelector('.idfy-card-params .idfy-card-sub');"
        " return e && e.innerText.split('·')[0].trim() === x; }",
        arg=expected,
    )


def control(page: Any, key: str, kind: str = "input, textarea") -> Any:
    return page.locator(f"#c-{key.replace('.', '-')}").locator(kind).first


def open_accordion(page: Any, elem_id: str) -> None:
    acc = page.locator(f"#{elem_id}")
    button = acc.locator("button.label-wrap").first
    if "open" not in (button.get_attribute("class") or ""):
        button.click()


def pick_preset(page: Any, name: str) -> None:
    page.locator("#preset input").click()
    page.get_by_role("option", name=name, exact=True).click()


def table_text(page: Any) -> str:
    return page.locator("#stage-table").inner_text()


def test_first_render_is_local_and_shows_the_device(page: Any, app_url: str, artifacts: Path) -> None:
    open_app(page, app_url)
    assert exact_params(page) == _count(load_preset("seed_model2"))  # the default preset (S12)
    assert re.search(r"(cpu|cuda)", page.locator("#idfy-device").inner_text())
    page.wait_for_selector("#fig-stage .main-svg", state="attached")  # plotly, loaded from the app itself
    page.wait_for_timeout(300)
    outside = [u for u in page.idfy_requests if not u.startswith(LOCAL)]
    assert not outside, f"requests left 127.0.0.1: {outside}"
    page.screenshot(path=str(artifacts / "design.png"))
    page.screenshot(path=str(artifacts / "design_full.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1700})  # tall: cards, table, diagram and charts at once
    page.wait_for_timeout(400)
    page.screenshot(path=str(artifacts / "design_tall.png"))


def test_seed_model2_preset_shows_the_seed_shapes(page: Any, app_url: str) -> None:
    open_app(page, app_url, "?preset=tiny")
    before = page.url
    pick_preset(page, "seed_model2")
    wait_params(page, "4,848,437")
    text = table_text(page)
    for row in ("3×224×224 → 8×112×112", "8×112×112 → 16×56×56", "16×56×56 → 24×28×28"):
        assert row in text
    assert _count(load_preset("seed_model2")) == "4,848,437"
    page.wait_for_function("(u) => location.href !== u", arg=before)
    token = parse_qs(urlparse(page.url).query)["cfg"][0]
    assert ModelConfig.from_url(token) == load_preset("seed_model2")


def test_toggling_a_stage_injection_changes_params(page: Any, app_url: str) -> None:
    open_app(page, app_url, "?preset=seed_model2")
    wait_params(page, "4,848,437")
    open_accordion(page, "stage-2")
    control(page, "stages.1.inject").check()
    expected = _count(load_preset("seed_model2").set("stages.1.inject", True))
    wait_params(page, expected)  # the summary strip may come first (the fast path), the table after it
    deadline = time.monotonic() + 30
    while "3×112×112" not in table_text(page) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert "3×112×112" in table_text(page)  # S1b: the image resized to the stage's input


def test_invalid_combination_shows_why_and_keeps_the_numbers(
    page: Any, app_url: str, artifacts: Path
) -> None:
    open_app(page, app_url, "?preset=full")
    before = exact_params(page)
    groups = control(page, "stages.0.conv.groups")
    groups.fill("5")
    error = page.locator("#design-summary .idfy-error")
    error.wait_for()
    assert "groups=5" in error.inner_text() and "stage 1" in error.inner_text()
    assert exact_params(page) == before
    assert page.locator("#diagram svg").count() == 1
    page.screenshot(path=str(artifacts / "design_error.png"))
    groups.fill("2")
    error.wait_for(state="detached")
    wait_params(page, _count(load_preset("full").set("stages.0.conv.groups", 2)))


def test_a_shared_link_restores_every_control(page: Any, app_url: str) -> None:
    cfg = load_preset("seed_model2").set("stages.1.width", 20).set("head.widths", [128, 32])
    open_app(page, app_url, "?cfg=" + cfg.to_url())
    wait_params(page, _count(cfg))
    assert "16×56×56" not in table_text(page) and "20×56×56" in table_text(page)
    assert page.locator("#preset input").input_value() == "seed_model2"
    open_accordion(page, "stage-2")
    assert control(page, "stages.1.width").input_value() == "20"
    open_accordion(page, "acc-head")
    assert control(page, "head.widths").input_value() == "128, 32"


def test_every_change_is_written_to_the_address_bar(page: Any, app_url: str) -> None:
    open_app(page, app_url, "?preset=tiny")
    before = page.url
    page.locator("#c-stages-count input[type=number]").fill("2")
    page.locator("#c-stages-count input[type=number]").press("Enter")
    page.wait_for_function("(u) => location.href !== u", arg=before)
    token = parse_qs(urlparse(page.url).query)["cfg"][0]
    assert len(ModelConfig.from_url(token).stages) == 2
    page.locator("#stage-3").wait_for(state="hidden")
    open_accordion(page, "share-acc")
    assert page.locator("#share-link textarea, #share-link input").first.input_value().endswith(token)


def test_measure_latency(page: Any, app_url: str) -> None:
    open_app(page, app_url, "?preset=tiny")
    page.locator("#measure").click()
    page.wait_for_function(
        "() => /ms|µs/.test(document.querySelector('[data-card=latency]').innerText)", timeout=60_000
    )


def test_upload_yaml_loads_it_and_bad_files_explain(page: Any, app_url: str, tmp_path: Path) -> None:
    open_app(page, app_url)
    open_accordion(page, "share-acc")
    good = tmp_path / "mine.yaml"
    good.write_text(load_preset("small").set("stages.0.width", 40).to_yaml())
    page.locator("input[type=file][accept='.yaml, .yml']").set_input_files(str(good))
    wait_params(page, _count(load_preset("small").set("stages.0.width", 40)))
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [{width: 8, widht: 4}]\n")
    page.locator("input[type=file][accept='.yaml, .yml']").set_input_files(str(bad))
    page.locator("#design-summary .idfy-error").wait_for()
    assert "Did you mean 'width'" in page.locator("#design-summary").inner_text()


def test_diagram_zoom_buttons(page: Any, app_url: str) -> None:
    open_app(page, app_url, "?preset=seed_model2")
    width = "() => document.querySelector('#diagram svg').getBoundingClientRect().width"
    before = page.evaluate(width)
    page.locator("#diagram [data-zoom=in]").click()
    assert page.evaluate(width) > before * 1.2
    page.locator("#diagram [data-zoom=fit]").click()
    fits = "() => { const v = document.querySelector('.idfy-diagram-viewport'); return v.scrollHeight <= v.clientHeight + 2; }"
    assert page.evaluate(fits)


def test_compare_tab(page: Any, app_url: str, artifacts: Path) -> None:
    open_app(page, app_url)
    page.get_by_role("tab", name="Compare").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#compare-diagrams svg').length === 3", timeout=30_000
    )
    text = page.locator("#compare-table").inner_text()
    assert "seed_model2 (reference)" in text and "resnet18 · timm" in text
    assert "8×112×112 → 16×56×56 → 24×28×28" in text
    page.screenshot(path=str(artifacts / "compare.png"), full_page=True)


def test_compare_diagrams_zoom_and_pan_like_the_design_viewer(page: Any, app_url: str) -> None:
    """Buttons, Ctrl + wheel at the pointer, the + / − / 0 keys and drag to pan, per diagram of the grid."""
    open_app(page, app_url)
    page.get_by_role("tab", name="Compare").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#compare-diagrams svg').length === 3", timeout=60_000
    )
    cell = page.locator("#compare-diagrams .idfy-grid-cell").nth(1)
    box = cell.locator(".idfy-grid-svg")
    width = "(b) => b.querySelector('svg').getBoundingClientRect().width / b.clientWidth"
    assert abs(box.evaluate(width) - 1) < 0.05
    cell.locator("[data-gzoom=in]").click()
    assert box.evaluate(width) > 1.4 and box.evaluate("(b) => b.scrollWidth > b.clientWidth")
    box.focus()
    page.keyboard.press("-")
    assert abs(box.evaluate(width) - 1) < 0.05
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert box.evaluate(width) > 2.2
    left = box.evaluate("(b) => b.scrollLeft")
    r = box.bounding_box()
    assert r is not None
    page.mouse.move(r["x"] + r["width"] / 2, r["y"] + 100)
    page.mouse.down()
    page.mouse.move(r["x"] + r["width"] / 2 - 120, r["y"] + 100, steps=4)
    page.mouse.up()
    assert box.evaluate("(b) => b.scrollLeft") > left + 60  # dragged to the left: the view moves right
    before = box.evaluate(width)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    page.wait_for_timeout(100)
    assert box.evaluate(width) > before * 1.1
    page.keyboard.press("0")
    assert abs(box.evaluate(width) - 1) < 0.05 and box.evaluate("(b) => b.scrollLeft") == 0
    first = page.locator("#compare-diagrams .idfy-grid-cell").nth(0).locator(".idfy-grid-svg")
    assert abs(first.evaluate(width) - 1) < 0.05  # the other diagrams keep their zoom


def test_compare_messages_show_when_there_is_one(page: Any, app_url: str) -> None:
    """The error and "Saved" lines take no room while empty, yet show (and the save note stays) when set."""
    open_app(page, app_url)
    page.get_by_role("tab", name="Compare").click()
    page.wait_for_selector("#compare-diagrams svg", timeout=60_000)
    assert not page.locator("#compare-error").is_visible() and not page.locator("#save-message").is_visible()
    page.locator("#save-name input, #save-name textarea").first.fill("wide")
    page.locator("#save-design").click()
    page.wait_for_selector("#save-message .idfy-ok >> text=Saved “wide”")
    assert page.locator("#save-message").is_visible()
    page.locator("#compare-designs .remove-all").click()
    page.wait_for_selector("#compare-error .idfy-error >> text=choose at least two designs", timeout=60_000)
    assert page.locator("#compare-error").is_visible()
    assert page.locator("#save-message").is_visible()  # the save note stays until the next save


def test_screenshots_of_the_other_tabs(page: Any, app_url: str, artifacts: Path) -> None:
    open_app(page, app_url)
    for name in ("Train", "Predict", "Evidence"):
        tab = page.get_by_role("tab", name=name)
        if tab.count() == 0:
            continue
        tab.click()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts / f"{name.lower()}.png"), full_page=True)


def test_predict_examples_are_whole_at_every_width(page: Any, app_url: str) -> None:
    """Between the stacked (800 px) and the wide layout the gallery's column is narrowest: fewer per row there."""
    open_app(page, app_url)
    page.get_by_role("tab", name="Predict").click()
    page.locator("#predict-examples .thumbnail-item").first.wait_for()
    for width in (1920, 1440, 1280, 1100, 1001, 1000, 800, 600):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        assert page.evaluate(CLIPPED_EXAMPLES) == [], width


def test_evidence_tab_shows_the_targets(page: Any, app_url: str, artifacts: Path) -> None:
    open_app(page, app_url)
    page.get_by_role("tab", name="Evidence").click()
    table = page.locator("#evidence-targets")
    table.wait_for(timeout=30_000)
    text = table.inner_text()
    assert "Fashion-MNIST ≥ 96.0 %" in text and "mobilenetv3_small_100" in text
    assert text.count("✓") + text.count("✗") == 4
    assert "(a) ≤ 0.3 M params" in text  # the letter the note above defines
    # every claim's verdict and takeaway at once, right under the targets (before the benchmark's details)
    claims = page.locator("#evidence-claims tbody tr")
    assert claims.count() == len(load_ablations(results_folder(SHOTS.parents[1])))
    for row in claims.all():
        verdict = row.locator("td").nth(0).inner_text().strip()
        assert verdict in ("significant", "no clear effect"), verdict
        assert row.locator("td").nth(1).inner_text().strip()
    top = "(s) => document.querySelector(s).getBoundingClientRect().top"
    assert page.evaluate(top, "#evidence-claims") < page.evaluate(top, "#evidence-models")
    page.screenshot(path=str(artifacts / "evidence_targets.png"), full_page=True)


@pytest.mark.parametrize("width", [1440, 800])
def test_other_tabs_cut_nothing_off_at_both_widths(page: Any, app_url: str, width: int) -> None:
    """Compare, Train, Predict and Evidence at 1440×900 and 800×900: the tab strip in page order, no table cell
    cut off or drawn monospace, no page wider than the window, no overlapping chart titles or point labels,
    Train's Start and status line in view, no empty room above Compare's table, every Predict example whole
    with its full caption; the screenshots go to ``assets/screenshots/``."""
    page.set_viewport_size({"width": width, "height": 900})
    open_app(page, app_url)
    tabs = page.locator("[role=tablist] [role=tab]").all_inner_texts()
    assert [t.strip() for t in tabs] == ["Design", "Compare", "Train", "Predict", "Evidence"]
    for name in ("Compare", "Train", "Predict", "Evidence"):
        page.get_by_role("tab", name=name).click()
        panel = f"#tab-{name.lower()}"
        page.locator(panel).wait_for(state="visible")
        if name == "Compare":  # the comparison runs when the tab opens
            page.wait_for_selector("#compare-diagrams svg", timeout=60_000)
        page.wait_for_function("() => !document.querySelector('.pending')", timeout=60_000)
        page.wait_for_timeout(500)  # plotly lays out its titles after the first paint
        page.evaluate("() => window.scrollTo({top: 0, behavior: 'instant'})")
        assert page.evaluate(CUT_OFF_CELLS, panel) == [], name
        assert page.evaluate(MONOSPACE_CELLS, panel) == [], name  # tables read like the rest of the page
        assert page.evaluate(WIDE_TABLES, panel) == [], name  # every claim's verdict in view, say
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), name
        assert page.evaluate(OVERLAPPING_TEXT, panel) == 0, name
        if name == "Train":
            for elem in ("#train-start", "#train-status"):
                box = page.locator(elem).bounding_box()
                assert box is not None and box["y"] + box["height"] <= 900, elem
        if name == "Compare":  # no empty room between the controls and the table (the empty message lines)
            gap = page.evaluate(
                "() => document.querySelector('#compare-table').getBoundingClientRect().top"
                " - document.querySelector('#save-bar').getBoundingClientRect().bottom"
            )
            assert gap <= 20, gap
        if name == "Predict":  # every example with its full caption, nothing clipped or scrolled away
            gallery = page.locator("#predict-examples")
            assert gallery.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1")
            assert page.evaluate(CLIPPED_EXAMPLES) == []
            captions = page.locator("#predict-examples .caption-label").all_inner_texts()
            assert [c.strip() for c in captions] == [e.caption for e in examples()]
        page.screenshot(path=str(SHOTS / f"{name.lower()}_{width}.png"))
        if name == "Predict":  # a picked example: its result card comes into view (stacked at 800 px)
            page.locator("#predict-examples img").first.click()
            page.wait_for_function(
                "() => { const r = document.querySelector('#predict-summary').getBoundingClientRect();"
                " return r.top >= 0 && r.top < innerHeight - 60; }"
            )
