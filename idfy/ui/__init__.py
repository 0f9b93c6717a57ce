"""The idfy explorer: a thin Gradio layer over :mod:`idfy` (one module per tab, no model logic here).

``build_app()`` returns the ``gr.Blocks``; ``launch(host, port)`` serves it locally (no share link,
no analytics, no CDN fonts). Importing this package sets ``GRADIO_ANALYTICS_ENABLED=False`` before
Gradio itself is imported.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

__all__ = ["build_app", "launch"]


def build_app() -> Any:
    """Build the explorer as a ``gr.Blocks`` (see :func:`idfy.ui.app.build_app`)."""
    from idfy.ui.app import build_app as _build

    return _build()


def launch(host: str = "127.0.0.1", port: int = 7860, *, block: bool = True, quiet: bool = False) -> Any:
    """Serve the explorer; returns ``(demo, local_url)`` (see :func:`idfy.ui.app.launch`)."""
    from idfy.ui.app import launch as _launch

    return _launch(host, port, block=block, quiet=quiet)
