"""The Design tab's words: the one-line descriptions the page shows for a control, the S-code legend, and the
``<head>`` additions (those descriptions as data and the page script)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from idfy.ui.controls import KEYS, SPECS
from idfy.ui.glossary import SEED_ITEMS, choice_text, describe
from idfy.ui.tabs.design.results import _elem_id

#: The page's scripts, styles and templates.
STATIC = Path(__file__).resolve().parents[2] / "static"


def static_text(name: str) -> str:
    """A file of ``idfy/ui/static/``; for scripts, the leading ``//`` comment lines are dropped (Gradio wraps
    a ``js=`` step in an expression)."""
    text = (STATIC / name).read_text()
    if name.endswith(".js"):
        lines = text.splitlines()
        while lines and lines[0].startswith("//"):
            lines.pop(0)
        text = "\n".join(lines)
    return text.strip()


def help_data() -> dict[str, Any]:
    """The descriptions the page shows for the control in focus or under the pointer: ``fields`` (element id
    -> one line) and ``choices`` (element id -> {choice: one line}), from :mod:`idfy.ui.glossary`."""
    fields = {_elem_id(k): describe(k) for k in KEYS if describe(k)}
    choices: dict[str, dict[str, str]] = {}
    for s in SPECS:
        texts = {str(c): choice_text(s.key, c) for c in s.choices}
        texts = {c: t for c, t in texts.items() if t}
        if texts:
            choices[_elem_id(s.key)] = texts
    fields["preset"] = "A bundled design to start from; every change is measured against it."
    return {"fields": fields, "choices": choices}


def head_html() -> str:
    """``<head>`` additions: the descriptions as data, the page script and the fast path's script
    (``static/page.js``, ``static/fast.js``)."""
    data = json.dumps(help_data(), ensure_ascii=False).replace("</", "<\\/")
    scripts = "".join(f"\n<script>{(STATIC / name).read_text()}</script>" for name in ("page.js", "fast.js"))
    return f"<script>window.IDFY_HELP = {data};</script>{scripts}"


def seed_legend() -> str:
    """The S1–S13 legend (a closed ``<details>``) shown under the controls' help line."""
    items = "".join(
        f"<li><b>{html.escape(code)}</b> {html.escape(text)}</li>" for code, text in SEED_ITEMS.items()
    )
    return (
        '<details class="idfy-seed-legend"><summary>What do S1–S13 mean?</summary>'
        f"<p>Labels such as “(S8)” name the seed's design items:</p><ul>{items}</ul></details>"
    )
