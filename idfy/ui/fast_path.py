"""The Design tab's fast path: ``POST /idfy/design`` answers a typed change with the summary strip in one
plain JSON round trip, without Gradio's queue (the page's script calls it on every control ``input``).

The Gradio event that fires on the same edit stays the source of truth: it sends the strip again, the
per-stage table, the design state, the link, the diagram and the charts. This route only lets the headline
numbers arrive first.

Request (``application/json``, at most :data:`MAX_BODY` bytes)::

    {"base": "v1....", "preset": "seed_model2", "values": {"stages.2.width": 104}, "diagram": null}

``base`` is the last valid design as the page's link carries it (a ``v1.`` string; a preset name or YAML
text also work, never a file: :func:`idfy.ui.state.config_from_text`), ``values`` the controls changed since
(keys of :data:`idfy.ui.controls.KEYS`). The design is the base's control values with those replaced,
through :func:`idfy.ui.controls.values_to_config` (hence ``ModelConfig.from_dict``) and the memory guard,
the same resolver and limits as every other entry.

With ``"diagram": "stages"`` (or ``blocks`` / ``layers``) the answer also carries the diagram component's
content (the page sends that request together with the numbers-only one, so the numbers never wait for
graphviz; the two share one analysis). As it sends a numbers-only answer, the route starts drawing that
design's diagram (at the detail last asked for), so a diagram request finds it under way or done
(:func:`prefetch_diagram`).

Answer: ``200 {"ok": true, "summary": html, "token": "v1...", "diagram"?: html}`` for a valid design,
``200 {"ok": false, "message": one line}`` for an invalid one (the Gradio event marks the control),
``4xx {"ok": false, "message": one line}`` for a request that cannot be read, and ``429`` when
:data:`MAX_CONCURRENT` analyses are already running.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Route

from idfy.config import ConfigError, ModelConfig
from idfy.ui.controls import KEYS, config_to_values, values_to_config
from idfy.ui.state import config_from_text
from idfy.ui.tabs.design.results import DIAGRAM_DETAILS, diagram_for, run_safely, summary_for

__all__ = ["MAX_BODY", "MAX_CONCURRENT", "PATH", "answer", "prefetch_diagram", "routes"]

log = logging.getLogger("idfy.ui")

PATH = "/idfy/design"
#: Largest request body (bytes): every control's value is under 4 kB of JSON.
MAX_BODY = 16_384
#: Largest ``base`` text (characters).
MAX_BASE = 8_192
#: Analyses this route runs at once (the page's numbers and diagram requests for one edit, plus a diagram still
#: being drawn for the edit before); more are answered 429 at once (never queued behind each other).
MAX_CONCURRENT = 3
_KEYS = frozenset(KEYS)
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
#: The diagram detail the page last asked for (what :func:`prefetch_diagram` draws); one drawing at a time.
#: (The lock keeps a burst of edits from queueing graphviz runs for designs already left behind.)
_details = ["stages"]
_drawing = threading.Lock()


class RequestError(ValueError):
    """A request this route cannot read; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _read(body: bytes) -> tuple[str, str | None, dict[str, Any], str | None]:
    """``(base, preset, values, diagram detail)`` from a request body, checked before any work.

    Raises:
        RequestError: not a JSON object of the documented shape, or an unknown control key.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("send a JSON object: {base, preset, values}") from None
    if not isinstance(data, dict):
        raise RequestError("send a JSON object: {base, preset, values}")
    base, preset, values = data.get("base", ""), data.get("preset"), data.get("values", {})
    detail = data.get("diagram")
    if detail is not None and detail not in DIAGRAM_DETAILS:
        raise RequestError(f"diagram: give one of {', '.join(DIAGRAM_DETAILS)} or null")
    if not isinstance(base, str) or len(base) > MAX_BASE:
        raise RequestError(f"base: give the design's v1. link text (at most {MAX_BASE} characters)")
    if preset is not None and not isinstance(preset, str):
        raise RequestError("preset: give a preset name or null")
    if not isinstance(values, dict):
        raise RequestError("values: give an object {control key: value}")
    unknown = [k for k in values if k not in _KEYS]
    if unknown:
        raise RequestError(f"values: unknown control {str(unknown[0])[:60]!r}")
    if any(not isinstance(v, (str, int, float, bool)) or len(str(v)) > 200 for v in values.values()):
        raise RequestError("values: each value is a number, true/false or text of at most 200 characters")
    return base, preset, values, detail


def answer(body: bytes) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, JSON answer)`` for a request body (see the module docstring). Never raises: an
    unexpected failure is logged with its traceback and answered with a short generic line."""
    status, data, _ = _answer(body)
    return status, data


def _answer(body: bytes) -> tuple[int, dict[str, Any], Callable[[], None] | None]:
    """:func:`answer` plus the work to start as the answer is sent (drawing the design's diagram), or None."""
    try:
        base_text, preset, values, detail = _read(body)
        base = config_from_text(base_text) if base_text else None
        merged = config_to_values(base or ModelConfig()) | values
        cfg = values_to_config(merged, base)
    except RequestError as e:
        return e.status, {"ok": False, "message": str(e)}, None
    except (ConfigError, ValueError) as e:
        return 200, {"ok": False, "message": str(e)}, None
    except Exception:
        log.exception("fast path: could not read the design")
        return 500, {"ok": False, "message": "internal error (the details are in the server log)"}, None

    def run() -> tuple[int, dict[str, Any], Callable[[], None] | None]:
        data = {"ok": True, **summary_for(cfg, preset, base)}
        if detail is None:
            return 200, data, lambda: prefetch_diagram(cfg, preset)
        _details[0] = detail
        data["diagram"] = diagram_for(cfg, detail, preset)[0]
        return 200, data, None

    return run_safely(run, lambda msg: (200, {"ok": False, "message": msg}, None))


def prefetch_diagram(cfg: ModelConfig, preset: str | None) -> None:
    """Draw ``cfg``'s diagram at the detail the page last asked for, as the numbers are sent: the page
    asks for it as soon as they arrive and then waits for this drawing instead of starting its own (the
    single flight of :func:`idfy.ui.tabs.design.results.diagram_for`). One at a time (skipped while one
    runs); never raises (the page's own request reports any error)."""
    if not _drawing.acquire(blocking=False):
        return
    try:
        diagram_for(cfg, _details[0], preset)
    except Exception:
        log.debug("fast path: drawing the diagram ahead failed", exc_info=True)
    finally:
        _drawing.release()


async def _body(request: Request) -> bytes:
    """The body, refused past :data:`MAX_BODY` bytes (by its header and while reading)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise RequestError(f"request too large (at most {MAX_BODY} bytes)", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise RequestError(f"request too large (at most {MAX_BODY} bytes)", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def _endpoint(request: Request) -> JSONResponse:
    try:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise RequestError("send the request as application/json", 415)
        body = await _body(request)
    except RequestError as e:
        return JSONResponse({"ok": False, "message": str(e)}, status_code=e.status)
    if not _slots.acquire(blocking=False):
        return JSONResponse({"ok": False, "message": "busy: try again in a moment"}, status_code=429)
    try:
        status, data, after = await run_in_threadpool(_answer, body)
    finally:
        _slots.release()
    if after is not None:  # a thread of its own: a background task would hold this keep-alive connection
        threading.Thread(target=after, name="idfy-diagram-ahead", daemon=True).start()
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def routes() -> list[BaseRoute]:
    """The route to give the page's FastAPI app (``launch(app_kwargs={"routes": routes()})``)."""
    return [Route(PATH, _endpoint, methods=["POST"])]
