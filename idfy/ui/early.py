"""The page's first HTML response carries the requested design's summary strip (issue #13, items 5 and 10).

Gradio's front end needs 2–3 s on two cores to load its modules and mount the ~150 components before its own
strip exists; a shared link then waits for the load event's round trip as well. :class:`EarlyStrip`, an ASGI
middleware on the page route (``GET /``), puts the strip of the design the address names into the HTML
itself, so it is painted with the first frame:

* ``?cfg=v1...`` — :func:`idfy.ui.state.config_from_text` (the page load's own resolver: never a file);
* ``?preset=NAME`` — :func:`idfy.presets.preset_config` (bundled names only);
* nothing — :data:`~idfy.ui.tabs.design.results.DEFAULT_PRESET` (``seed_model2``).

A link that cannot be read gets the strip's one-line error instead (the page load shows the same line). The
strip is :func:`~idfy.ui.tabs.design.results.summary_for`'s (the page's own strip, without the table and YAML the
page load computes); the analysis is cached by fingerprint, so the page load that follows reuses it. ``static/early.js`` keeps the early strip over the spot where Gradio's strip
appears and removes it once that one is visible (``static/url.js`` removes it too, at the end of the load
chain); ``static/early.css`` styles it before Gradio's stylesheets arrive. Its params card carries
``elementtiming="idfy-early-params"``, so the browser records when it is painted (Element Timing API).

Limits: at most :data:`MAX_CONCURRENT` early strips are computed at once (a page request beyond that is
served without one), and the HTML waits at most :data:`WAIT_S` seconds for it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.middleware import Middleware

__all__ = ["MAX_CONCURRENT", "WAIT_S", "EarlyStrip", "early_strip", "inject", "middleware"]

log = logging.getLogger("idfy.ui")

STATIC = Path(__file__).with_name("static")
#: Stylesheets inlined into the first response, in the page's order (Gradio adds the same ones again when it
#: mounts, after these, so the page's own cascade is unchanged).
CSS_FILES = (Path(__file__).with_name("theme.css"), STATIC / "design.css", STATIC / "early.css")
#: Early strips computed at once; further page requests are served without one.
MAX_CONCURRENT = 2
#: Longest wait (seconds) of the HTML for its early strip; past it the page is sent without one.
WAIT_S = 2.0
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
_BODY_OPEN = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
#: Run in ``<head>``, before any of the body is parsed: a ``?cfg=`` / ``?preset=`` link hides Gradio's Design
#: tab (``idfy-linking``, design.css) until the linked design is on screen, so the default never shows first.
#: In the body it could come after the early strip had been painted (the parser yields between chunks).
LINKING_SCRIPT = (
    "<script>if (/[?&](cfg|preset)=/.test(window.location.search))"
    " document.documentElement.classList.add('idfy-linking');</script>"
)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


def early_strip(query: Mapping[str, str]) -> str:
    """The summary strip (HTML) of the design a page address names: ``query`` holds its parameters
    (``cfg``, ``preset``; neither means the default preset). Never raises: a link that cannot be read gives
    the strip with its one-line error, an unexpected failure a short generic line (logged with its
    traceback)."""
    from idfy.presets import list_presets, preset_config
    from idfy.ui.state import config_from_text
    from idfy.ui.tabs.design.results import DEFAULT_PRESET, invalid_results, run_safely, summary_for

    token, preset = query.get("cfg"), query.get("preset")

    def run() -> str:
        if token:
            cfg = config_from_text(token)
            name = cfg.name if cfg.name in list_presets() else None
        else:
            name = preset or DEFAULT_PRESET
            cfg = preset_config(name)
        return str(summary_for(cfg, name)["summary"])

    return str(run_safely(run, lambda msg: invalid_results(msg, None, None, None)["summary"]))


@functools.cache
def _assets() -> tuple[str, str]:
    """The early view's stylesheet text (:data:`CSS_FILES`) and script (``static/early.js``), read once."""
    return "\n".join(p.read_text() for p in CSS_FILES), (STATIC / "early.js").read_text()


def header_copy(header: str) -> str:
    """The page header's HTML without element ids (the early copy must not duplicate the real ones)."""
    return re.sub(r'\sid="[^"]*"', "", header)


def inject(page: bytes, strip: str, header: str = "") -> bytes:
    """``page`` (Gradio's index HTML) with the early view: the stylesheets of :data:`CSS_FILES` and
    :data:`LINKING_SCRIPT` before ``</head>``, and right after ``<body>`` the header copy, the strip and ``static/early.js``. A page without
    those tags is returned unchanged."""
    head_end = page.find(b"</head>")
    body = _BODY_OPEN.search(page)
    if head_end < 0 or body is None or body.start() < head_end:
        return page
    css, script = _assets()
    style = f'<style id="idfy-early-css">{css}</style>{LINKING_SCRIPT}'.encode()
    # Element Timing: the browser records when the early params card is painted (PerformanceElementTiming)
    strip = strip.replace('data-card="params"', 'data-card="params" elementtiming="idfy-early-params"', 1)
    view = (
        '<div id="idfy-early" class="idfy-early">'
        f'<div class="idfy-early-head">{header}</div><div class="idfy-early-tabs"></div>'
        f'<div class="idfy-early-summary">{strip}</div></div>'
        f"<script>{script}</script>"
    ).encode()
    return page[:head_end] + style + page[head_end : body.end()] + view + page[body.end() :]


class EarlyStrip:
    """ASGI middleware: ``GET /`` answers Gradio's page with the early view of :func:`inject` (the strip of
    :func:`early_strip` for the request's query). Every other request passes through untouched.

    ``header`` is the page header's HTML (shown until Gradio's own is mounted)."""

    def __init__(self, app: Callable[..., Any], header: str = "") -> None:
        self.app = app
        self.header = header_copy(header)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != "/":
            await self.app(scope, receive, send)
            return
        if not _slots.acquire(blocking=False):
            await self.app(scope, receive, send)  # busy: the page without an early strip
            return
        query = dict(QueryParams(scope.get("query_string", b"").decode("latin-1")))
        task = asyncio.ensure_future(run_in_threadpool(early_strip, query))
        task.add_done_callback(lambda _: _slots.release())
        start: Message | None = None
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if start is None and message["type"] == "http.response.start":
                start = message
                if not _injectable(message):
                    start = {}  # pass this response through as it is
                    await send(message)
                return
            if start == {} or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish(start, b"".join(chunks), task, send)

        await self.app(scope, receive, hold)

    async def _finish(self, start: Message, page: bytes, task: asyncio.Future[str], send: Send) -> None:
        try:
            strip = await asyncio.wait_for(asyncio.shield(task), WAIT_S)
            page = inject(page, strip, self.header)
        except asyncio.TimeoutError:
            log.info("early strip: not ready after %.1f s; page sent without it", WAIT_S)
        except Exception:
            log.exception("early strip failed; page sent without it")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(page)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": page})


def _injectable(start: Message) -> bool:
    """A plain (not encoded) HTML page with status 200."""
    headers = {k.lower(): v for k, v in start.get("headers", [])}
    return (
        start.get("status") == 200
        and headers.get(b"content-type", b"").startswith(b"text/html")
        and b"content-encoding" not in headers
    )


def middleware(header: str = "") -> list[Middleware]:
    """The middleware list to give the page's FastAPI app (``launch(app_kwargs={"middleware": ...})``)."""
    return [Middleware(EarlyStrip, header=header)]
