"""Shared fixtures: the explorer served once per test session, and Debian's Chromium driven by Playwright.

Tests that use the app carry ``@pytest.mark.xdist_group("app")`` so that ``pytest -n 2 --dist loadgroup``
runs them on one worker (one server, one browser).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench_scripts import load_benchmark

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
_BROWSER = load_benchmark("_browser")  # Debian's Chromium, its headless flags, a free port: one copy for both
CHROMIUM = _BROWSER.CHROMIUM
CHROMIUM_ARGS = [*_BROWSER.CHROMIUM_ARGS, "--disable-default-apps", "--no-first-run"]
free_port = _BROWSER.free_port


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Two OpenMP threads on a busy 2-core machine spin and crawl; one is faster and deterministic."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """The explorer on a free port of 127.0.0.1 (a background server thread), its URL ending in ``/``."""
    from idfy.ui.app import launch

    demo, url = launch("127.0.0.1", free_port(), block=False, quiet=True)
    try:
        yield url if url.endswith("/") else url + "/"
    finally:
        demo.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``tests/artifacts/`` (git-ignored) for screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium (Debian's; skipped when it is not installed)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    pw = sync_api.sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh page (1440×1000); ``page.idfy_requests`` lists every URL it requested."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.idfy_requests = requests
    try:
        yield pg
    finally:
        context.close()
