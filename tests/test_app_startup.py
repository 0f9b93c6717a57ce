"""``python app.py`` as ``make run`` starts it: its start-up output is idfy's own line with the address, and
never Gradio's advice to make a public link (``share=True``), which idfy does not offer."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port

from idfy.ui.app import startup_line

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def test_startup_prints_the_address_and_no_share_link_advice() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", IDFY_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240  # the app imports torch and Gradio: slow on a busy 2-core machine
        while not any(line.startswith("idfy explorer on") for line in lines):
            assert proc.poll() is None, "".join(lines)[-2000:]
            assert time.monotonic() < deadline, "".join(lines)[-2000:]
            time.sleep(0.2)
        with urllib.request.urlopen(url, timeout=60) as page:  # the line comes once the page is served
            assert page.status == 200
        time.sleep(1.0)  # anything printed right after the start
    finally:
        proc.terminate()
        proc.wait(30)
        reader.join(10)
    out = "".join(lines)
    assert startup_line(url) + "\n" in out
    assert startup_line(url) == f"idfy explorer on http://127.0.0.1:{port} (Ctrl+C stops it)"
    assert "share=True" not in out and "public link" not in out, out
    assert "Running on" not in out  # one address line, not Gradio's as well
