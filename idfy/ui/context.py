"""What every tab's ``build(ctx)`` receives: the page, its tab strip and the state the tabs share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

__all__ = ["TabContext"]


@dataclass
class TabContext:
    """The page-wide objects a tab may read or connect to.

    Attributes:
        demo: the page being built (for page-level events such as ``demo.load``).
        tabs: the tab strip (a tab can switch to another one, e.g. Compare's "Race these in Train").
        config_state: the current valid design as YAML text, written by the Design tab, read by the others.
        measured: ``{fingerprint: latency}`` measured in this browser session.
        saved: ``{name: yaml}`` designs saved for the Compare tab.
        shared: components one tab publishes for a later one, by key (``"compare.selection"``, ...);
            tabs are built in page order, so a tab reads only keys of the tabs before it.
        tab: the ``gr.Tab`` being built (for its ``select`` event); the page gives each tab a copy of the
            context with its own ``tab`` and the same ``shared`` dict.
    """

    demo: gr.Blocks
    tabs: gr.Tabs
    config_state: gr.State
    measured: gr.State
    saved: gr.State
    shared: dict[str, Any] = field(default_factory=dict)
    tab: gr.Tab | None = None
