"""The explorer's page: header, the tabs of :data:`TABS` (Design, Compare, Train, Predict, Evidence), the API.

Every tab is a module of :mod:`idfy.ui.tabs` with ``build(ctx: TabContext) -> None``; the page creates the shared
states and the :class:`~idfy.ui.context.TabContext`, then builds the tabs in order inside their ``gr.Tab``. A tab
that cannot be imported stops the build with a :class:`TabImportError` naming it (never a page with a tab missing).

``launch()`` serves it on 127.0.0.1 with no share link, no analytics, system fonts only (nothing is fetched
from a CDN), a 100 MB upload cap (checkpoints; images are capped again when decoded) and a queue of at most two concurrent analyses.
The first HTML response already carries the requested design's summary strip (:mod:`idfy.ui.early`).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import dataclasses
import html
import importlib
import logging
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import gradio as gr
import torch

from idfy.ui import api, early, fast_path
from idfy.ui.context import TabContext
from idfy.ui.jobs import REGISTRY
from idfy.ui.tabs.design import head_html

__all__ = ["TABS", "TabImportError", "build_app", "device_label", "launch", "launch_kwargs", "theme"]

log = logging.getLogger("idfy.ui")

#: The page's tabs in order: (label, module); each module exposes ``build(ctx: TabContext) -> None``. A tab's
#: ``id`` (for ``gr.Tabs(selected=...)``) is its label in lower case, its element id ``tab-<id>``.
TABS = (
    ("Design", "idfy.ui.tabs.design"),
    ("Compare", "idfy.ui.tabs.compare"),
    ("Train", "idfy.ui.tabs.train"),
    ("Predict", "idfy.ui.tabs.predict"),
    ("Evidence", "idfy.ui.tabs.evidence"),
)
STATIC = Path(__file__).with_name("static")
CSS_PATH = Path(__file__).with_name("theme.css")
#: Layout of the Design tab, keyboard focus and the other tabs' additions (after theme.css, so it wins).
DESIGN_CSS_PATH = STATIC / "design.css"
#: Page-wide rules of the Compare / Train / Predict / Evidence tabs (after design.css).
TABS_CSS_PATH = STATIC / "tabs.css"
MAX_FILE_SIZE = (
    "100mb"  # checkpoints (a seed_model2 one is ~19 MB); images are capped again by idfy.data.load_image
)
SYSTEM_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace")


class TabImportError(RuntimeError):
    """A tab's module could not be imported (the page is not built without it)."""


def device_label() -> str:
    """Where models are built: ``cuda · <device name>``, or ``cpu · N threads``."""
    if torch.cuda.is_available():
        return f"cuda · {torch.cuda.get_device_name(0)}"
    n = torch.get_num_threads()
    return f"cpu · {n} thread{'s' if n != 1 else ''}"


def theme() -> gr.themes.Base:
    """Soft theme with system fonts only (no Google Fonts request)."""
    return gr.themes.Soft(
        primary_hue="indigo", neutral_hue="slate", font=list(SYSTEM_FONTS), font_mono=list(MONO_FONTS)
    ).set(
        body_background_fill="#f6f7fb",
        block_radius="10px",
        block_label_background_fill="transparent",
        block_title_background_fill="transparent",
        block_label_text_color="*neutral_500",
        block_title_text_color="*neutral_600",
        block_title_text_weight="600",
        block_label_padding="0 0 2px 0",
        block_title_padding="0 0 2px 0",
        block_label_text_size="*text_sm",
        block_title_text_size="*text_sm",
        form_gap_width="0px",
        block_padding="8px 10px",
        layout_gap="10px",
        # WCAG AA contrast (4.5:1) for white text on indigo and for the grey helper texts (axe-core)
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        checkbox_label_background_fill_selected="*primary_600",
        block_info_text_color="*neutral_600",
        body_text_color_subdued="*neutral_600",
        input_placeholder_color="*neutral_500",
    )


def _header() -> str:
    return (
        '<div class="idfy-header"><div><div class="idfy-title">idfy <span>architecture explorer</span></div>'
        '<div class="idfy-subtitle">“I’m Different From You” CNN — change a design option and see what it costs: '
        "parameters, MACs, memory, shapes, receptive field and the diagram.</div></div>"
        f'<div class="idfy-device" id="idfy-device" title="device used for analysis and latency">'
        f"<span>device</span> {html.escape(device_label())}</div></div>"
    )


def import_tab(label: str, module: str) -> ModuleType:
    """The module of tab ``label``.

    Raises:
        TabImportError: the module is missing, fails to import or has no ``build`` (the message names the
            tab, the module and the cause; the traceback is chained).
    """
    try:
        mod = importlib.import_module(module)
    except Exception as e:
        raise TabImportError(
            f"the {label} tab ({module}) could not be imported: {type(e).__name__}: {e}"
        ) from e
    if not callable(getattr(mod, "build", None)):
        raise TabImportError(f"the {label} tab ({module}) has no build(ctx) function")
    return mod


def _stop_session_jobs(request: gr.Request) -> None:
    """A closed page stops its training job, so its slot is freed for the next person."""
    if request.session_hash:
        REGISTRY.stop(request.session_hash)


def build_app() -> gr.Blocks:
    """The whole explorer as a ``gr.Blocks`` (queue configured; launch with :func:`launch_kwargs`).

    Raises:
        TabImportError: a tab of :data:`TABS` cannot be imported.
    """
    modules = [(label, import_tab(label, module)) for label, module in TABS]  # all or nothing, before any UI
    with gr.Blocks(title="idfy · architecture explorer", delete_cache=(3600, 3600)) as demo:
        gr.HTML(_header(), padding=False, elem_id="idfy-header")
        # the states outside gr.Tabs: a child of the tab strip that is not a tab shifts the browser's tab order
        # (the first tab was drawn again in the fourth place)
        states = {
            "config_state": gr.State(""),  # the current valid design as YAML (written by the Design tab)
            "measured": gr.State({}),  # {fingerprint: latency} measured in this session
            "saved": gr.State({}),  # {name: yaml} saved in the Compare tab
        }
        with gr.Tabs(elem_id="tabs") as tabs:
            ctx = TabContext(demo=demo, tabs=tabs, **states)
            for label, mod in modules:
                key = label.lower()
                with gr.Tab(label, id=key, elem_id=f"tab-{key}") as tab:
                    mod.build(dataclasses.replace(ctx, tab=tab))  # same shared dict, this tab
        api.register()
        demo.unload(_stop_session_jobs)
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo


def launch_kwargs(host: str = "127.0.0.1", port: int | None = 7860) -> dict[str, Any]:
    """Keyword arguments for ``gr.Blocks.launch`` (theme, CSS and limits live there in Gradio 6)."""
    return {
        "server_name": host,
        "server_port": port,
        "share": False,
        "show_error": True,  # every handler turns failures into short, clean messages
        "max_file_size": MAX_FILE_SIZE,
        "theme": theme(),
        "css_paths": [CSS_PATH, DESIGN_CSS_PATH, TABS_CSS_PATH],
        "head": head_html(),
        # the Design tab's JSON fast path; the requested design's strip in the first HTML response
        "app_kwargs": {"routes": fast_path.routes(), "middleware": early.middleware(_header())},
        "footer_links": ["api"],
        "ssr_mode": False,
        "mcp_server": False,
        "pwa": False,
        "enable_monitoring": False,
        "favicon_path": None,
    }


def app_threads(cores: int | None = None, env: Mapping[str, str] | None = None) -> int | None:
    """Torch CPU threads for the app's work (training above all): one core fewer than the machine has, at least
    one, so that the page, its browser and the server keep a core; None when ``OMP_NUM_THREADS`` is set (the
    person's choice stands) or ``IDFY_THREADS`` gives the number.

    Why: the app binds 127.0.0.1, so its browser runs on the same machine. On 2 cores the demo's two OpenMP
    threads then wait on each other whenever the browser takes a core: 480-740 steps in the minute against 741
    with one thread (``benchmarks/results/app_demo.md``).

    Raises:
        ValueError: ``IDFY_THREADS`` is not a whole number >= 1.
    """
    env = os.environ if env is None else env
    if env.get("IDFY_THREADS"):
        raw = env["IDFY_THREADS"]
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"IDFY_THREADS={raw!r}: give a whole number of threads, 1 or more")
        return int(raw)
    if env.get("OMP_NUM_THREADS"):
        return None
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores - 1)


def _prepare_demo_data() -> None:
    """The Train tab's default run's data, prepared in the background while the page loads
    (:mod:`idfy.ui.tabs.train.prepared`)."""
    from idfy.ui.tabs.train.prepared import prepare_ahead
    from idfy.ui.tabs.train.settings import TrainSettings, make_configs

    prepare_ahead(make_configs(TrainSettings())[1])


def launch(
    host: str = "127.0.0.1", port: int = 7860, *, block: bool = True, quiet: bool = False
) -> tuple[gr.Blocks, str]:
    """Build and serve the explorer; returns ``(demo, local_url)`` (after the server stops when ``block``).
    Sets torch's CPU threads to :func:`app_threads` first. Unless ``quiet``, prints one line with the address
    (:func:`startup_line`); Gradio's own start-up lines are never printed: they advise ``share=True``, a
    public link, which idfy does not make (it works offline and binds 127.0.0.1 by default)."""
    threads = app_threads()
    if threads is not None and not torch.cuda.is_available():
        torch.set_num_threads(threads)
    demo = build_app()
    _prepare_demo_data()
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **launch_kwargs(host, port))
    if not quiet:
        print(startup_line(url), flush=True)
    if block:
        demo.block_thread()
    return demo, url


def startup_line(url: str) -> str:
    """``"idfy explorer on http://127.0.0.1:7860 (Ctrl+C stops it)"``: the line printed once the server
    listens, ``url`` being Gradio's local URL."""
    return f"idfy explorer on {url.rstrip('/')} (Ctrl+C stops it)"
