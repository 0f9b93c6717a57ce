"""The Train and Predict tabs in Chromium (Playwright): a live run whose curves grow, Stop, then the same page's
checkpoint predicting an uploaded example (overlay, 5-tuple, stage views) and a bad upload's message.

Screenshots go to ``tests/artifacts/`` (git-ignored): ``train.png`` (running), ``train_stopped.png``,
``predict.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("app")]

ROOT = Path(__file__).resolve().parent.parent
STAR = ROOT / "assets" / "examples" / "shapes_star.png"
_POINTS = "() => { const g = document.querySelector('#train-curves .js-plotly-plot'); return g && g.data ? g.data[0].x.length : 0; }"


def _open_tab(page: Any, app_url: str, name: str) -> None:
    page.goto(app_url)
    page.wait_for_selector("[data-card=params]")  # the page's load chain has run
    page.get_by_role("tab", name=name).click()


def test_train_live_then_stop_then_predict(
    page: Any, app_url: str, artifacts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from idfy.ui import train_tab

    # the server runs in this process: a smaller demo set makes the data and the final evaluation quicker
    monkeypatch.setattr(train_tab, "N_TRAIN", 1000)
    monkeypatch.setattr(train_tab, "N_TEST", 200)
    page.set_default_timeout(90_000)  # the 2 cores are shared with other test runs
    _open_tab(page, app_url, "Train")
    page.wait_for_selector("#train-status [data-state=idle]")
    page.locator("#train-start").click()

    # live: the loss curve appears (plotly svg) and grows, the samples grid shows up
    page.wait_for_selector("#train-curves .main-svg .scatterlayer .trace", state="attached")
    page.wait_for_selector("#train-samples img")
    first = page.evaluate(_POINTS)
    page.wait_for_function(f"() => ({_POINTS})() > {first}")
    assert page.locator("#train-start").is_disabled()
    status = page.locator("#train-status").inner_text()
    assert re.search(r"step\s+\d+", status) and "images/s" in status and "lr" in status
    page.screenshot(path=str(artifacts / "train.png"), full_page=True)

    # Stop: the run ends cleanly and keeps its checkpoint
    page.locator("#train-stop").click()
    page.wait_for_selector("#train-status [data-state=stopped]")
    assert "stopped at step" in page.locator("#train-status").inner_text()
    page.wait_for_selector("#train-checkpoint a")  # downloadable
    assert ".pt" in page.locator("#train-checkpoint").inner_text()
    page.wait_for_selector("#train-metrics >> text=crescent")
    page.wait_for_function("() => !document.querySelector('#train-start').disabled")
    page.screenshot(path=str(artifacts / "train_stopped.png"), full_page=True)

    # Predict with this page's checkpoint: upload an example
    page.get_by_role("tab", name="Predict").click()
    page.locator("#predict-image input[type=file]").set_input_files(str(STAR))
    page.wait_for_selector("#predict-tuple")
    tuple_text = page.locator("#predict-tuple").inner_text()
    assert "pixels (128×128)" in tuple_text and "normalized" in tuple_text
    assert "latest from Train" in page.locator("#predict-summary").inner_text()
    page.wait_for_selector("#predict-overlay img")
    page.wait_for_selector("#predict-stages .thumbnail-item >> nth=5")
    assert "injected" in page.locator("#predict-stages").inner_text()
    page.wait_for_timeout(300)  # let the images paint
    page.screenshot(path=str(artifacts / "predict.png"), full_page=True)

    # a file that only pretends to be an image
    bad = tmp_path / "holiday.png"
    bad.write_text("this is not a picture")
    page.locator("#predict-image button[aria-label='Clear']").click()
    page.locator("#predict-image input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("#predict-summary [data-state=err]")
    assert "holiday.png: not an image" in page.locator("#predict-summary").inner_text()


def test_predict_without_a_checkpoint_says_what_to_do(page: Any, app_url: str) -> None:
    _open_tab(page, app_url, "Predict")
    page.locator("#predict-examples .thumbnail-item").nth(1).click()  # pick an example
    page.wait_for_selector("#predict-summary [data-state=info] >> text=train a model in the Train tab first")
