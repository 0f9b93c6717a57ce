"""The page's first HTML response carries the requested design's summary strip (:mod:`idfy.ui.early`): a shared
link shows its own numbers from the first frame, before Gradio's front end has mounted, a damaged link shows
its one-line error, and the early strip gives way to Gradio's own without a second copy left behind.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

from idfy import build_model, load_preset
from idfy.config import ModelConfig

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("app")]

WIDE = {"width": 1440, "height": 900}

#: Records every params value (and error line) visible on the page, from the first frame on.
SEEN_SCRIPT = """
window.__idfyFirst = [];
const note = () => {
  const shown = Array.from(document.querySelectorAll('.idfy-card-params .idfy-card-sub, .idfy-error-body'))
    .filter((e) => e.checkVisibility({visibilityProperty: true}));
  const v = shown.length ? shown[0].textContent.split('·')[0].trim() : null;
  const seen = window.__idfyFirst;
  if (v !== null && seen[seen.length - 1] !== v) seen.push(v);
};
new MutationObserver(note).observe(document, {subtree: true, childList: true, characterData: true,
  attributes: true});
"""


def count(cfg: ModelConfig) -> str:
    return f"{sum(p.numel() for p in build_model(cfg).parameters()):,}"


def early_summary(url: str) -> str:
    """The early strip's HTML in the page ``url`` answers (fetched without a browser)."""
    with urllib.request.urlopen(url, timeout=30) as r:
        page = r.read().decode()
    return page.split('class="idfy-early-summary">', 1)[1].split("<script>", 1)[0]


def open_page(browser: Any, url: str, *, block_gradio: bool = False, block_load: bool = False) -> Any:
    """A fresh page at ``url``; ``block_gradio`` keeps Gradio's front end from loading at all, ``block_load``
    holds the page-load event (the linked design's round trip) so the early strip stays up."""
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.add_init_script(SEEN_SCRIPT)
    if block_gradio:
        page.route("**/assets/index-*.js", lambda route: route.abort())
    if block_load:
        page.route("**/queue/join*", lambda route: None)  # never answered: the load chain waits
    page.goto(url, wait_until="commit")
    return page


def early_params(page: Any) -> str:
    return page.locator("#idfy-early .idfy-card-params .idfy-card-sub").inner_text().split("·")[0].strip()


def test_the_first_response_carries_the_linked_designs_strip(app_url: str) -> None:
    tiny = load_preset("tiny")
    linked = tiny.set("stages.0.width", 20)
    assert f">{count(tiny)}<" in early_summary(app_url + "?preset=tiny")
    assert f">{count(linked)}<" in early_summary(app_url + f"?cfg={linked.to_url()}")
    assert f">{count(load_preset('seed_model2'))}<" in early_summary(app_url)  # no link: seed_model2


@pytest.mark.parametrize("query", ["?preset=../presets/tiny.yaml", "?cfg=/etc/passwd", "?cfg=v1.damaged"])
def test_a_bad_link_gets_one_line_and_names_no_file(app_url: str, query: str) -> None:
    early = early_summary(app_url + query)
    assert 'class="idfy-error-body"' in early and "data-card" not in early
    assert "Traceback" not in early and "root:" not in early  # no file was read


@pytest.mark.parametrize("kind", ["preset", "cfg"])
def test_the_linked_design_shows_before_gradio_loads(browser: Any, app_url: str, kind: str) -> None:
    cfg = load_preset("tiny") if kind == "preset" else load_preset("tiny").set("stages.0.width", 20)
    query = "?preset=tiny" if kind == "preset" else f"?cfg={cfg.to_url()}"
    page = open_page(browser, app_url + query, block_gradio=True)
    try:
        page.wait_for_selector("#idfy-early [data-card=params]", state="visible")
        assert early_params(page) == count(cfg)
        # Gradio's Design tab stays hidden (a link being opened): the class is set in <head>, before the strip
        # is parsed (set after it, a loaded machine once painted the strip first), and only Gradio lifts it
        assert page.evaluate("() => document.documentElement.classList.contains('idfy-linking')")
        assert page.evaluate("() => window.__idfyFirst") == [count(cfg)]
    finally:
        page.context.close()


@pytest.mark.parametrize("kind", ["preset", "cfg"])
def test_every_strip_shown_is_the_linked_design(browser: Any, app_url: str, kind: str) -> None:
    cfg = load_preset("tiny") if kind == "preset" else load_preset("tiny").set("stages.0.width", 20)
    query = "?preset=tiny" if kind == "preset" else f"?cfg={cfg.to_url()}"
    page = open_page(browser, app_url + query)
    try:
        page.wait_for_function(
            "() => location.search.includes('cfg=v1.') && !document.getElementById('idfy-early')"
            " && !document.documentElement.classList.contains('idfy-linking')"
        )
        page.wait_for_selector("#design-summary [data-card=params]", state="visible")
        assert page.evaluate("() => window.__idfyFirst") == [count(cfg)]  # from the first frame to the end
        assert page.locator("[data-card=params]").count() == 1  # the early copy is gone
    finally:
        page.context.close()


def test_a_bad_link_shows_its_error_first(browser: Any, app_url: str) -> None:
    page = open_page(browser, app_url + "?cfg=v1.damaged", block_gradio=True)
    try:
        page.wait_for_selector("#idfy-early .idfy-error-body", state="visible")
        line = page.locator("#idfy-early .idfy-error-body").inner_text()
        assert "\n" not in line.strip() and "damaged" in line and "Traceback" not in line
        assert page.locator("[data-card=params]").count() == 0
    finally:
        page.context.close()


def test_the_early_strip_sits_on_the_spot_of_gradios(browser: Any, app_url: str) -> None:
    page = open_page(browser, app_url + "?preset=tiny", block_load=True)
    try:
        page.wait_for_selector("#idfy-early.idfy-early-mounted")
        page.wait_for_timeout(200)  # one more frame after the last layout change
        early, real = page.evaluate(
            "() => ['#idfy-early .idfy-strip', '#design-summary .idfy-strip']"
            ".map((s) => { const r = document.querySelector(s).getBoundingClientRect();"
            " return [r.x, r.y, r.width]; })"
        )
        assert early == pytest.approx(real, abs=1.5)
        assert early_params(page) == count(load_preset("tiny"))
        page.get_by_role("tab", name="Compare").click()  # never drawn over another tab
        page.wait_for_selector("#idfy-early", state="hidden")
        page.get_by_role("tab", name="Design").click()
        page.wait_for_selector("#idfy-early [data-card=params]", state="visible")
    finally:
        page.context.close()


def test_the_default_page_keeps_one_strip(browser: Any, app_url: str) -> None:
    page = open_page(browser, app_url)
    try:
        page.wait_for_selector("#design-summary [data-card=params]", state="visible")
        page.wait_for_function("() => !document.getElementById('idfy-early')")
        assert page.evaluate("() => window.__idfyFirst") == [count(load_preset("seed_model2"))]
    finally:
        page.context.close()
