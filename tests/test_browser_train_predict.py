"""The Train and Predict tabs in Chromium (Playwright) at 1440×900: Start above the fold on the demo, a short run
whose held-out points appear with the chance line and end in a verdict (its seconds from Start the same in the
headline and the numbers), its checkpoint predicting an example (and flagging an image from other data), then a
race handed over from the Compare tab, overlaid live and stopped; the idle status line and the augmentation caption
following the settings; every row of a 10-class run's metrics table and every stage caption of Predict in view.

Screenshots go to ``tests/artifacts/`` (git-ignored): ``train_idle.png``, ``train_done.png``, ``predict.png``,
``race_running.png``, ``race_stopped.png``, ``train_metrics.png``, ``predict_stages.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("app")]

ROOT = Path(__file__).resolve().parent.parent
STAR = ROOT / "assets" / "examples" / "shapes_star.png"
SNEAKER = ROOT / "assets" / "examples" / "fashion_sneaker.png"
#: Points of the first trace whose name starts with NAME in the Train tab's plot.
_POINTS = (
    "(name) => { const g = document.querySelector('#train-curves .js-plotly-plot');"
    " const t = g && g.data ? g.data.find(d => d.name.startsWith(name)) : null; return t ? t.x.length : 0; }"
)
#: Pairs of chart titles (plotly annotations) inside SEL whose boxes overlap.
_OVERLAPS = (
    "(sel) => { const r = Array.from(document.querySelectorAll(sel + ' .annotation-text, ' + sel + ' .gtitle'))"
    ".map(e => e.getBoundingClientRect()).filter(b => b.width > 0); let n = 0;"
    " for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++)"
    " if (r[i].left < r[j].right && r[j].left < r[i].right && r[i].top < r[j].bottom && r[j].top < r[i].bottom) n++;"
    " return n; }"
)
_RACE_LOSSES = (
    "() => { const g = document.querySelector('#train-curves .js-plotly-plot'); if (!g || !g.data) return [];"
    " return g.data.filter(d => d.name.endsWith(' · loss')).map(d => d.x.length); }"
)


@pytest.fixture
def small_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server runs in this process: smaller data sets make data preparation and evaluation quicker."""
    from idfy.ui.tabs import train as train_tab

    monkeypatch.setitem(train_tab.RUN_OVERRIDES, "n_train", 600)
    monkeypatch.setitem(train_tab.RUN_OVERRIDES, "n_test", 100)


def _open_tab(page: Any, app_url: str, name: str) -> None:
    page.goto(app_url)
    page.wait_for_selector("[data-card=params]")  # the page's load chain has run
    page.get_by_role("tab", name=name).click()


def _small_settings(page: Any, budget: str) -> None:
    page.locator("#train-dataset label", has_text="shapes").click()
    page.locator("#train-size input[type=number]").fill("32")
    page.locator("#train-size input[type=number]").press("Enter")
    page.locator("#train-budget input").fill(budget)
    page.locator("#train-budget input").press("Tab")


@pytest.mark.usefixtures("small_demo")
def test_start_above_the_fold_then_held_out_points_chance_and_verdict(
    page: Any, app_url: str, artifacts: Path
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.set_default_timeout(180_000)  # the 2 cores are shared with other test runs
    _open_tab(page, app_url, "Train")
    page.wait_for_selector("#train-status [data-state=idle]")
    assert "Press Start to train demo on fashion-canvas" in page.locator("#train-status").inner_text()
    box = page.locator("#train-start").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900  # visible without scrolling
    page.screenshot(path=str(artifacts / "train_idle.png"))

    _small_settings(page, "10")
    page.locator("#train-start").click()
    page.wait_for_selector("#train-curves .main-svg .scatterlayer .trace", state="attached")
    page.wait_for_function(
        f"() => ({_POINTS})('chance: loc. accuracy') > 0"
    )  # the chance line from the start
    page.wait_for_function(f"() => ({_POINTS})('loc. accuracy') >= 3")  # held-out points during the run
    page.wait_for_selector("#train-verdict")  # the run ended with a verdict
    verdict = page.locator("#train-verdict")
    assert verdict.get_attribute("data-beat") in ("yes", "no")
    assert "chance" in verdict.inner_text() and "for a constant answer" in verdict.inner_text()
    assert page.evaluate(f"({_POINTS})('loc. accuracy')") >= 5
    # one clock: the headline's seconds are the "since Start" number; the final evaluation is shown apart
    status = page.locator("#train-status").inner_text()
    said = re.search(r"(\d+\.\d) s after Start", status)
    chip = re.search(r"since Start\s+(\d+\.\d) s / 10 s budget", status)
    assert said and chip and said[1] == chip[1], status
    assert re.search(r"final evaluation\s+\d+\.\d s after that", status), status
    page.wait_for_selector("#train-checkpoint a")  # downloadable
    page.wait_for_function("() => !document.querySelector('#train-start').disabled")
    page.screenshot(path=str(artifacts / "train_done.png"), full_page=True)

    # Predict with this page's checkpoint; an image from other data is flagged
    page.get_by_role("tab", name="Predict").click()
    page.locator("#predict-image input[type=file]").set_input_files(str(STAR))
    page.wait_for_selector("#predict-tuple")
    assert "latest from Train" in page.locator("#predict-summary").inner_text()
    assert "does not look like" not in page.locator("#predict-summary").inner_text()
    page.locator("#predict-image button[aria-label='Clear']").click()
    page.locator("#predict-image input[type=file]").set_input_files(str(SNEAKER))
    page.wait_for_selector("#predict-summary >> text=does not look like the shapes images")
    page.wait_for_timeout(300)  # let the images paint
    page.screenshot(path=str(artifacts / "predict.png"), full_page=True)


@pytest.mark.usefixtures("small_demo")
def test_race_from_compare_overlaid_then_stop_keeps_every_checkpoint(
    page: Any, app_url: str, artifacts: Path
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.set_default_timeout(180_000)
    _open_tab(page, app_url, "Compare")
    page.locator("#compare-designs .remove-all").click()
    for name in ("tiny", "tiny_tuned"):
        field = page.locator("#compare-designs input")
        field.click()
        field.fill(name)
        page.wait_for_timeout(200)
        field.press("Enter")
    page.keyboard.press("Escape")
    page.locator("#compare-race").click()

    # the Train tab, filled: tiny against tiny_tuned
    page.wait_for_selector("#train-race-start", state="visible")
    assert not page.locator("#train-start").is_visible()
    assert "tiny_tuned" in page.locator("#train-race-with").inner_text()
    _small_settings(page, "120")
    page.locator("#train-race-start").click()
    page.wait_for_function(
        f"() => {{ const n = ({_RACE_LOSSES})(); return n.length === 2 && Math.min(...n) >= 2; }}"
    )
    assert page.locator("#train-status [data-race='1']").count() == 1
    assert page.evaluate(_OVERLAPS, "#train-curves") == 0  # the two panels' titles side by side, apart
    page.screenshot(path=str(artifacts / "race_running.png"), full_page=True)

    page.locator("#train-stop").click()
    page.wait_for_selector("#train-status [data-state=stopped]", timeout=240_000)
    assert page.locator("#race-verdicts li").count() == 2
    table = page.locator("#train-race-table").inner_text()
    assert "Δ vs first" in table and "reference" in table and "chance (constant answer)" in table
    page.wait_for_selector("#train-race-files a >> nth=1")  # both checkpoints kept
    page.screenshot(path=str(artifacts / "race_stopped.png"), full_page=True)


def test_predict_without_a_checkpoint_says_what_to_do(page: Any, app_url: str) -> None:
    _open_tab(page, app_url, "Predict")
    page.locator("#predict-examples .thumbnail-item").nth(1).click()  # pick an example
    page.wait_for_selector("#predict-summary [data-state=info] >> text=train a model in the Train tab first")


#: The idle status line's words.
_IDLE = "#train-status [data-state=idle]"


def test_the_idle_status_and_the_augmentation_caption_follow_the_settings(page: Any, app_url: str) -> None:
    """Picking a design to race against turns the idle line into the race's (every design, the data, each design's
    budget, in turns); ticking a box changes what the augmentation caption says is applied."""
    page.set_viewport_size({"width": 1440, "height": 900})
    _open_tab(page, app_url, "Train")
    page.wait_for_selector(_IDLE)
    augment = page.locator("#train-augment")
    assert "applied: random horizontal flips · off: shift, erase" in augment.inner_text()
    page.locator("#train-augment label", has_text="erase").click()
    page.wait_for_function(
        "() => document.querySelector('#train-augment').innerText.includes('random erasing (p = 0.25 per image)')"
    )
    assert "off: shift" in augment.inner_text()

    field = page.locator("#train-race-with input")
    field.click()
    field.fill("tiny_tuned")
    page.wait_for_timeout(200)
    field.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_selector("#train-race-start", state="visible")
    page.locator("#train-budget input").fill("20")
    page.locator("#train-budget input").press("Tab")
    page.wait_for_selector(f"{_IDLE} >> text=about 40 s (2 × 20 s)")
    status = page.locator("#train-status").inner_text()
    assert "Press Start race to race demo and tiny_tuned on fashion-canvas" in status, status
    assert "each of the 2 designs gets 20 s of training on its own clock" in status and "in turns" in status
    assert "Press Start to train" not in status
    assert "budget per design (seconds)" in page.locator("#train-budget").inner_text()

    page.locator("#train-race-with .remove-all").click()
    page.wait_for_selector(f"{_IDLE} >> text=Press Start to train demo on fashion-canvas for 20 s.")


#: Cells of the final metrics table that a scroll box inside it hides (or cuts), and its scroll boxes that scroll.
_HIDDEN_ROWS = """() => {
  const t = document.querySelector('#train-metrics');
  const scrolling = [...t.querySelectorAll('*')].filter(e => /auto|scroll/.test(getComputedStyle(e).overflowY)
    && e.scrollHeight > e.clientHeight + 1).length;
  const box = (e) => { let p = e.parentElement; while (p && p !== t && getComputedStyle(p).overflowY === 'visible')
    p = p.parentElement; return p; };
  const cells = [...t.querySelectorAll('[role=gridcell]')].filter(c => c.innerText.trim());
  const hidden = cells.filter(c => { const r = c.getBoundingClientRect(); const b = box(c).getBoundingClientRect();
    return r.top < b.top - 1 || r.bottom > b.bottom + 1; }).map(c => c.innerText.trim());
  return {scrolling, hidden, names: cells.map(td => td.innerText.trim())};
}"""
#: Captions of the stage views cut off: wider or taller than their box, or outside their tile.
_CUT_CAPTIONS = """() => [...document.querySelectorAll('#predict-stages .caption-label')].map(e => {
  const r = e.getBoundingClientRect(); const tile = e.closest('.thumbnail-item').getBoundingClientRect();
  return {text: e.innerText, cut: e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight
    || r.left < tile.left - 1 || r.right > tile.right + 1 || r.bottom > tile.bottom + 1};
})"""


@pytest.mark.usefixtures("small_demo")
def test_every_metrics_row_and_every_stage_caption_shows_at_1440x900(
    page: Any, app_url: str, artifacts: Path
) -> None:
    """A short fashion-canvas run: its final table (all + 10 classes) shows every row without a scroll inside the
    table, and in Predict every caption under "what each stage sees" is whole."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.set_default_timeout(180_000)
    _open_tab(page, app_url, "Train")
    page.locator("#train-size input[type=number]").fill("32")
    page.locator("#train-size input[type=number]").press("Enter")
    page.locator("#train-controls label", has_text="steps").first.click()
    page.wait_for_function("() => document.querySelector('#train-budget').innerText.includes('steps')")
    page.locator("#train-budget input").fill("5")
    page.locator("#train-budget input").press("Tab")
    page.locator("#train-start").click()
    page.wait_for_selector("#train-verdict")
    page.wait_for_selector("#train-metrics [role=gridcell] >> text=Ankle boot")
    page.wait_for_timeout(300)  # let the table lay out
    table = page.evaluate(_HIDDEN_ROWS)
    names = table["names"]
    assert names.count("all") == 1 and "T-shirt/top" in names and "Ankle boot" in names, names
    assert table["scrolling"] == 0 and table["hidden"] == [], table
    page.locator("#train-metrics").screenshot(path=str(artifacts / "train_metrics.png"))

    page.get_by_role("tab", name="Predict").click()
    page.locator("#predict-examples .thumbnail-item").nth(0).click()  # predicted with the run's checkpoint
    page.wait_for_selector("#predict-stages .caption-label")
    page.wait_for_timeout(300)  # let the pictures paint
    captions = page.evaluate(_CUT_CAPTIONS)
    assert any(c["text"].startswith("stage 3") for c in captions), captions
    assert [c["text"] for c in captions if c["cut"]] == [], captions
    page.locator("#predict-stages").screenshot(path=str(artifacts / "predict_stages.png"))
