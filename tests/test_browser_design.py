"""The Design tab as a playground, in Chromium (Playwright): errors at the control, one-screen layout, links that
open right, names, deltas and reset, the diagram inspector, words, keyboard; screenshots of every tab at
1440×900 and 800×900 go to ``assets/screenshots/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from idfy import build_model, load_preset
from idfy.config import ModelConfig
from idfy.ui.glossary import CHOICES, describe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("app")]

SHOTS = Path(__file__).resolve().parents[1] / "assets" / "screenshots"
WIDE, NARROW = {"width": 1440, "height": 900}, {"width": 800, "height": 900}

#: Records every params value the page shows while the design is visible (for the "no flash" test).
SEEN_SCRIPT = """
window.__idfySeen = [];
const note = () => {
  const e = document.querySelector('.idfy-card-params .idfy-card-sub');
  if (!e || document.documentElement.classList.contains('idfy-linking')) return;
  const v = e.textContent.split('·')[0].trim();
  if (window.__idfySeen[window.__idfySeen.length - 1] !== v) window.__idfySeen.push(v);
};
const start = () => new MutationObserver(note).observe(document.documentElement,
  {subtree: true, childList: true, characterData: true, attributes: true});
if (document.documentElement) start(); else document.addEventListener('readystatechange', start, {once: true});
"""


def count(cfg: ModelConfig) -> str:
    return f"{sum(p.numel() for p in build_model(cfg).parameters()):,}"


def open_design(page: Any, url: str, query: str = "") -> None:
    """Open the page and wait until the load chain (numbers, address bar, diagram) has finished."""
    page.goto(url + query)
    page.wait_for_selector("[data-card=params]")
    page.wait_for_selector("#diagram svg")
    page.wait_for_function(
        "() => location.search.includes('cfg=') && !document.documentElement.classList.contains('idfy-linking')"
    )


def params(page: Any) -> str:
    return page.locator(".idfy-card-params .idfy-card-sub").inner_text().split("·")[0].strip()


def wait_params(page: Any, expected: str) -> None:
    page.wait_for_function(
        "(x) => { const e = document.querySelector('.idfy-card-params .idfy-card-sub');"
        " return e && e.innerText.split('·')[0].trim() === x; }",
        arg=expected,
    )


def control(page: Any, key: str) -> Any:
    return page.locator(f"#c-{key.replace('.', '-')}").locator("input, textarea").first


def open_accordion(page: Any, elem_id: str) -> None:
    button = page.locator(f"#{elem_id}").locator("button.label-wrap").first
    if "open" not in (button.get_attribute("class") or ""):
        button.click()


def pick(page: Any, key: str, option: str) -> None:
    control(page, key).click()
    page.get_by_role("option", name=option, exact=True).click()


def box(page: Any, selector: str) -> dict[str, float]:
    return page.locator(selector).first.bounding_box()


# --------------------------------------------------------------------------- 2: errors at the control
def test_an_invalid_edit_is_marked_at_its_control_and_the_results_go_stale(page: Any, app_url: str) -> None:
    page.set_viewport_size(WIDE)
    open_design(page, app_url, "?preset=full")
    before = params(page)
    groups = control(page, "stages.0.conv.groups")
    groups.fill("5")
    page.wait_for_selector("#c-stages-0-conv-groups.idfy-invalid")
    assert groups.get_attribute("aria-invalid") == "true"
    message = page.locator("#c-stages-0-conv-groups-message.idfy-field-error")
    assert "groups=5" in message.inner_text() and "stage 1 groups" in message.inner_text()
    outline = page.evaluate(
        "() => getComputedStyle(document.querySelector('#c-stages-0-conv-groups')).outlineStyle"
    )
    assert outline == "solid"
    assert page.locator("#design-summary .idfy-strip").get_attribute("data-stale") == "1"
    assert page.evaluate("() => document.body.classList.contains('idfy-stale')")
    assert float(page.evaluate("() => getComputedStyle(document.querySelector('#diagram')).opacity")) < 1
    assert params(page) == before  # the last valid design's numbers, marked stale
    page.screenshot(path=str(SHOTS / "design_error_1440.png"))
    # the offered fixes are tested ones: the first (stage 1 groups -> 4) makes the design valid
    fix = message.locator(".idfy-fix").first
    assert fix.inner_text() == "stage 1 groups → 4"
    fix.click()
    page.wait_for_function("() => !document.body.classList.contains('idfy-stale')")
    wait_params(page, count(load_preset("full").set("stages.0.conv.groups", 4)))
    assert groups.get_attribute("aria-invalid") is None
    assert page.locator(".idfy-field-error").count() == 0


def test_conv_kind_fills_valid_groups_and_hints_name_working_fixes(page: Any, app_url: str) -> None:
    open_design(page, app_url, "?preset=seed_model2")
    open_accordion(page, "stage-2")
    pick(page, "stages.1.conv.kind", "group")  # 8 -> 16 channels: groups = 2 works
    expected = load_preset("seed_model2").set("stages.1.conv.groups", 2).set("stages.1.conv.kind", "group")
    wait_params(page, count(expected))
    assert control(page, "stages.1.conv.groups").input_value() == "2"
    assert page.locator("#design-summary .idfy-strip").get_attribute("data-stale") == "0"
    # stage 1 takes the 3-channel image: no group count works, so the page says what does
    pick(page, "stages.0.conv.kind", "group")
    page.wait_for_selector("#design-summary .idfy-error")
    fixes = page.locator("#design-summary .idfy-fix").all_inner_texts()
    assert "stage 1 conv → regular" in fixes and not any("width" in f for f in fixes)
    page.locator("#design-summary .idfy-fix", has_text="stage 1 conv → regular").click()
    wait_params(page, count(expected))


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["1440", "800"])
def test_an_error_far_down_the_controls_shows_next_to_its_field(
    page: Any, app_url: str, size: dict[str, int]
) -> None:
    page.set_viewport_size(size)
    open_design(page, app_url, "?preset=full")
    open_accordion(page, "stage-3")
    field = page.locator("#c-stages-2-dense-reduction")  # a sub-stream option of the last stage
    field.wait_for(state="attached")  # the opened accordion's controls can come late on a loaded machine
    # scrolled until the field sits at the bottom edge of what the user sees (the column scrolls on its own
    # at 1440 px, the page at 800 px)
    page.evaluate(
        """(id) => { const f = document.getElementById(id).getBoundingClientRect();
          const col = document.getElementById('design-controls');
          if (col.scrollHeight > col.clientHeight + 1 && getComputedStyle(col).overflowY !== 'visible') {
            col.scrollTop += f.bottom - col.getBoundingClientRect().bottom + 4;
          } else { window.scrollBy(0, f.bottom - window.innerHeight + 4); } }""",
        "c-stages-2-dense-reduction",
    )
    control(page, "stages.2.dense.reduction").fill("0")
    message = page.locator(".idfy-field-error")
    message.wait_for()
    visible = """() => { const m = document.querySelector('.idfy-field-error').getBoundingClientRect();
      const top = document.querySelector('#design-summary').getBoundingClientRect().bottom;
      return m.top >= top - 1 && m.bottom <= window.innerHeight + 1; }"""
    page.wait_for_function(visible)
    gap = message.bounding_box()["y"] - (field.bounding_box()["y"] + field.bounding_box()["height"])
    assert -1 <= gap <= 100
    assert "stage 3 reduction" in message.inner_text()
    assert control(page, "stages.2.dense.reduction").get_attribute("aria-invalid") == "true"
    assert "stage 3 reduction" in page.locator("#design-summary .idfy-error").inner_text()  # and in the strip
    assert page.evaluate("() => document.body.classList.contains('idfy-stale')")
    # nothing scrolled under the pinned strip shows through it (Gradio lifts control labels to z-index 40)
    through = page.evaluate(
        """() => { const r = document.querySelector('#design-summary').getBoundingClientRect(), out = [];
          for (let x = r.left + 5; x < r.right; x += 25) for (let y = r.top + 3; y < r.bottom; y += 10) {
            const e = document.elementFromPoint(x, y);
            if (e && !e.closest('#design-summary')) out.push((e.id || e.className) + ' ' + e.textContent.slice(0, 20));
          } return out; }"""
    )
    assert through == []
    page.screenshot(path=str(SHOTS / f"design_error_far_{size['width']}.png"))
    control(page, "stages.2.dense.reduction").fill("8")
    page.wait_for_function("() => !document.body.classList.contains('idfy-stale')")
    wait_params(page, count(load_preset("full").set("stages.2.dense.reduction", 8)))
    assert message.count() == 0
    assert control(page, "stages.2.dense.reduction").get_attribute("aria-invalid") is None


# --------------------------------------------------------------------------- 1: one screen
def test_one_screen_at_1440_and_a_pinned_strip_at_800(page: Any, app_url: str) -> None:
    page.set_viewport_size(WIDE)
    open_design(page, app_url)
    strip, controls = box(page, "#design-summary"), box(page, "#design-controls")
    viewport = box(page, "#diagram .idfy-diagram-viewport")
    assert strip["y"] >= 0 and strip["y"] + strip["height"] < 300
    assert controls["y"] < 450 and controls["x"] < viewport["x"]  # controls left, diagram right
    assert viewport["y"] < 450 and viewport["y"] + viewport["height"] <= 900 + 1
    assert box(page, "#stage-table")["y"] > viewport["y"] + viewport["height"] - 1  # table below
    for y in (400, 100_000):  # down to the table, then to the very end: strip and controls stay
        page.evaluate("(y) => window.scrollTo(0, y)", y)
        page.wait_for_function(
            "() => document.querySelector('#design-summary').getBoundingClientRect().top <= 1"
        )
        assert box(page, "#design-controls")["y"] >= box(page, "#design-summary")["height"] - 2
    page.set_viewport_size(NARROW)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.locator("#stage-2").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#design-summary').getBoundingClientRect().top <= 1")
    assert box(page, "#design-summary")["height"] < 200


# --------------------------------------------------------------------------- 5: links open right
@pytest.mark.parametrize("kind", ["cfg", "preset"])
def test_a_link_shows_the_linked_design_first(browser: Any, app_url: str, kind: str) -> None:
    cfg = load_preset("tiny").set("stages.0.width", 20) if kind == "cfg" else load_preset("tiny")
    query = f"?cfg={cfg.to_url()}" if kind == "cfg" else "?preset=tiny"
    context = browser.new_context(viewport=WIDE)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.add_init_script(SEEN_SCRIPT)
        open_design(page, app_url, query)
        wait_params(page, count(cfg))
        assert page.evaluate("() => window.__idfySeen") == [count(cfg)]  # never the default first
    finally:
        context.close()


def test_the_default_is_seed_model2(page: Any, app_url: str) -> None:
    open_design(page, app_url)
    assert params(page) == count(load_preset("seed_model2")) == "4,848,437"
    assert page.locator("#preset input").first.input_value() == "seed_model2"


# --------------------------------------------------------------------------- 4: names and cells
def test_names_agree_and_no_table_cell_is_cut(page: Any, app_url: str) -> None:
    for size in (WIDE, NARROW):
        page.set_viewport_size(size)
        open_design(page, app_url, "?preset=full")
        diagram = page.locator("#diagram svg").first.text_content()
        assert "stage 1 ·" in diagram and "stages.0" not in diagram
        assert (
            page.locator("#stage-table tbody tr").nth(1).locator("th").inner_text().replace("\xa0", " ")
            == "stage 1"
        )
        cut = page.evaluate(
            "() => Array.from(document.querySelectorAll('#stage-table th, #stage-table td'))"
            ".filter(c => c.scrollWidth > c.clientWidth).map(c => c.textContent)"
        )
        assert cut == []
    page.set_viewport_size(WIDE)
    assert page.evaluate(
        "() => { const w = document.querySelector('#stage-table .idfy-table-wrap');"
        " return w.scrollWidth <= w.clientWidth; }"
    )


# --------------------------------------------------------------------------- 3: change feedback
def test_deltas_modified_mark_and_reset(page: Any, app_url: str) -> None:
    open_design(page, app_url, "?preset=seed_model2")
    open_accordion(page, "stage-2")
    control(page, "stages.1.inject").check()
    changed = load_preset("seed_model2").set("stages.1.inject", True)
    wait_params(page, count(changed))
    assert page.locator("[data-delta=params]").inner_text() == "+104 vs seed_model2"
    # the flash fades after 3.5 s by design (a loaded machine can take that long between two reads)
    assert page.locator("[data-flash=params]").text_content() == "+104"
    # the numbers come from the fast path; the preset state and the table from Gradio's event, which may land later
    page.wait_for_function("() => document.querySelector('#preset-state').innerText.includes('(modified)')")
    assert "(modified)" in page.locator("#preset-state").inner_text()
    page.wait_for_function("() => document.querySelector('#stage-table .idfy-changed') !== null")
    assert page.locator("#stage-table .idfy-changed").count() >= 1
    page.wait_for_function(
        "() => document.querySelector('#diagram .idfy-diagram-caption').textContent.includes('changed against')"
    )
    page.locator("#reset-preset").click()
    wait_params(page, "4,848,437")
    assert "(modified)" not in page.locator("#preset-state").inner_text()
    assert not page.locator("#reset-preset").is_visible()


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["1440", "800"])
def test_the_modified_mark_and_reset_fit_on_one_line(page: Any, app_url: str, size: dict[str, int]) -> None:
    page.set_viewport_size(size)
    open_design(page, app_url, "?preset=seed_model2")
    control(page, "input.scale").fill("2")
    control(page, "stages.0.width").fill("12")
    page.wait_for_function("() => document.querySelector('#preset-state').innerText.includes('2 changes')")
    mark, reset = box(page, "#preset-state .idfy-modified"), box(page, "#reset-preset")
    line = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('#preset-state')).lineHeight)"
    )
    assert mark["height"] <= line + 2  # "(modified) · 2 changes" on one line
    assert (
        abs((mark["y"] + mark["height"] / 2) - (reset["y"] + reset["height"] / 2)) < 8
    )  # the reset beside it
    assert (
        reset["x"] + reset["width"]
        <= box(page, "#design-controls")["x"] + box(page, "#design-controls")["width"]
    )
    page.locator("#reset-preset").click()
    wait_params(page, "4,848,437")


# --------------------------------------------------------------------------- 4: inspector
def test_clicking_a_diagram_node_shows_its_details(page: Any, app_url: str) -> None:
    open_design(page, app_url, "?preset=seed_model2")
    node = page.locator("#diagram g.node", has=page.locator("title", has_text="stages/1/blocks")).first
    assert node.get_attribute("aria-label") == "details of stage 2 blocks"  # stage 2, as the table says
    node.click()
    panel = page.locator("#diagram .idfy-inspector")
    panel.wait_for()
    text = panel.inner_text()
    assert "stages.1.blocks" in text and "16×56×56" in text and "stage 2 width = 16" in text
    # a "set by" field jumps to its control: its accordion opens, it scrolls into view and takes the focus
    panel.locator(".idfy-goto", has_text="block order").click()
    page.wait_for_function("() => document.activeElement.closest('#c-block-order') !== null")
    field = box(page, "#c-block-order")
    assert field["y"] >= box(page, "#design-summary")["height"] - 2 and field["y"] + field["height"] <= 1000
    node.press("Escape")
    panel.wait_for(state="hidden")


def test_the_output_node_has_its_shapes_params_and_macs(page: Any, app_url: str) -> None:
    open_design(page, app_url, "?preset=tiny")
    page.locator("#diagram g.node", has=page.locator("title", has_text="output")).first.click()
    panel = page.locator("#diagram .idfy-inspector")
    panel.wait_for()
    text = panel.inner_text()
    assert "head.fc" in text and "B × 14: 4 box values (x1, y1, x2, y2) + 10 class logits" in text
    assert "1,358" in text and count(load_preset("tiny")) in text  # the layer's params, the model's total
    assert "task = localize" in text
    page.locator("[data-zoom=fit]").click()  # the whole diagram: the legend under the output, clear of edges
    page.locator("#diagram").first.screenshot(path=str(SHOTS / "design_output_node_1440.png"))


def test_node_details_sit_beside_the_clicked_node_never_over_it(page: Any, app_url: str) -> None:
    page.set_viewport_size(WIDE)
    open_design(page, app_url, "?preset=full")
    page.locator("[data-zoom=in]").click()  # a wider diagram: its right-hand nodes sit where the panel opens
    page.locator("[data-zoom=in]").click()
    picked = page.locator("#diagram g.node", has=page.locator("title", has_text="head")).first
    picked.click()
    panel = page.locator("#diagram .idfy-inspector")
    panel.wait_for()
    page.wait_for_timeout(100)  # the panel's frame: refit and scroll
    node, side, view = (
        picked.bounding_box(),
        panel.bounding_box(),
        box(page, "#diagram .idfy-diagram-viewport"),
    )
    overlap = min(node["x"] + node["width"], side["x"] + side["width"]) - max(node["x"], side["x"])
    assert overlap <= 0 or node["y"] + node["height"] <= side["y"]  # beside or above, never under the panel
    assert view["x"] - 1 <= node["x"] and node["x"] + node["width"] <= view["x"] + view["width"] + 1
    assert view["y"] - 1 <= node["y"] and node["y"] + node["height"] <= view["y"] + view["height"] + 1


# --------------------------------------------------------------------------- 10: speed (the fast path)
def test_a_typed_width_updates_the_numbers_without_gradios_queue(page: Any, app_url: str) -> None:
    open_design(page, app_url, "?preset=full")
    open_accordion(page, "stage-3")
    page.route("**/queue/join*", lambda route: route.abort())  # Gradio's event cannot answer
    changed = load_preset("full").set("stages.2.width", 104)
    control(page, "stages.2.width").fill("104")
    wait_params(page, count(changed))  # the JSON fast path alone put it there
    assert page.locator("#design-summary .idfy-strip").get_attribute("data-stale") == "0"
    page.wait_for_function(  # and the diagram of the same design, right after
        "() => (document.querySelector('#diagram svg') || {}).textContent.includes('→ 104')"
    )
    node = page.locator("#diagram g.node", has=page.locator("title", has_text="stages/2/blocks")).first
    # the inspector works on the diagram the fast path put there; with Gradio's queue blocked its pending mask
    # can lie over the diagram, so the click is dispatched to the node rather than aimed at the screen
    node.wait_for(state="attached", timeout=60_000)  # a loaded CI machine: the SVG's nodes can come late
    node.dispatch_event("click")
    page.wait_for_function(
        "() => ((document.querySelector('#diagram .idfy-inspector') || {}).innerText || '').includes('104')",
        timeout=60_000,
    )
    page.unroute("**/queue/join*")


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["800", "1440"])
def test_nothing_is_cut_off(page: Any, app_url: str, size: dict[str, int]) -> None:
    page.set_viewport_size(size)
    open_design(page, app_url, "?preset=full")
    for acc in ("stage-2", "acc-block", "acc-inject", "acc-head"):
        open_accordion(page, acc)
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    cut = page.evaluate(
        """() => Array.from(document.querySelectorAll('#tab-design *')).filter((e) => {
          if (e.offsetParent === null || e.closest('.idfy-diagram-viewport, .idfy-offscreen, .sr-only, svg')) {
            return false;  // hidden, the scrolling diagram, or text for screen readers only
          }
          if (e.matches('textarea') || e.textContent.trim() === '') return false;  // editors scroll by design
          const s = getComputedStyle(e);
          const clips = ['hidden', 'clip'].includes(s.overflowX) || s.textOverflow === 'ellipsis';
          return clips && e.scrollWidth > e.clientWidth + 1;
        }).map((e) => (e.id || e.className || e.tagName) + ': ' + e.textContent.slice(0, 40))"""
    )
    assert cut == []


# --------------------------------------------------------------------------- 6: words
def test_controls_explain_themselves(page: Any, app_url: str) -> None:
    open_design(page, app_url)
    open_accordion(page, "acc-block")
    page.locator("#c-block-order").hover()
    help_text = page.locator("#design-help .idfy-help")
    page.wait_for_function(
        "(t) => document.querySelector('#design-help .idfy-help').textContent.startsWith(t)",
        arg=describe("block.order"),
    )
    assert CHOICES["block.order"]["original"] in help_text.inner_text()
    page.locator("#design-help summary").click()
    assert "S8" in page.locator("#design-help").inner_text()


# --------------------------------------------------------------------------- 9: keyboard
def test_keyboard_focus_tabs_and_dropdowns(page: Any, app_url: str) -> None:
    open_design(page, app_url)
    scale = control(page, "input.scale")
    scale.focus()
    style = scale.evaluate("e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }")
    assert style[0] == "solid" and float(style[1].rstrip("px")) >= 2
    # keyboard focus on a dropdown does not open its list; Enter does
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.closest('[id^=c-]').id") == "c-input-channels"
    assert page.locator("ul.option-list").count() == 0
    page.keyboard.press("Enter")
    page.locator("ul.option-list").wait_for()
    page.keyboard.press("Escape")
    # arrow keys move between tabs
    page.locator("[role=tab]:visible", has_text="Design").first.focus()  # Gradio keeps a hidden copy
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('[role=tab][aria-selected=true]').textContent.trim() === 'Compare'"
    )
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Compare"


# --------------------------------------------------------------------------- screenshots
def test_screenshots_of_the_design_tab_at_both_widths(page: Any, app_url: str) -> None:
    # the other tabs' screenshots are written by tests/test_browser_app.py, which checks their layout
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in (WIDE, NARROW):
        page.set_viewport_size(size)
        open_design(page, app_url)
        page.wait_for_selector("#fig-stage .main-svg", state="attached")
        page.screenshot(path=str(SHOTS / f"design_{size['width']}.png"))
    shutil.copy(SHOTS / "design_1440.png", SHOTS / "design.png")  # the README's picture
