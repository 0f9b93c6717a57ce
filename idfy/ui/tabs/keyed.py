"""Handlers that speak by name: a handler returns (or yields) ``{name: value}`` for what changed, and
:func:`keyed` turns the names into the components Gradio expects (``{component: value}``).

Names keep handlers testable without a page (tests look values up by key, never by position), and an output
left out of the dict keeps its value on the page.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["Components", "keyed"]

#: A tab's components by name (the names its handlers use).
Components = Mapping[str, Any]


def _to_components(out: Mapping[str, Any], components: Components) -> dict[Any, Any]:
    unknown = [k for k in out if k not in components]
    if unknown:  # a programming error in the tab, not a user's
        raise KeyError(f"handler output {unknown} has no component (known: {sorted(components)})")
    return {components[k]: v for k, v in out.items()}


def keyed(fn: Callable[..., Any], components: Components) -> Callable[..., Any]:
    """``fn`` (returning or yielding ``{name: value}``) as a Gradio handler returning ``{component: value}``.

    The wrapper keeps ``fn``'s signature (Gradio fills ``gr.Request`` / ``gr.SelectData`` parameters from it),
    its ``__module__`` and ``__name__``; a generator stays a generator (streamed outputs).

    Raises:
        KeyError: when called, an output name that is not in ``components``.
    """
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args: Any, **kwargs: Any) -> Iterator[dict[Any, Any]]:
            for out in fn(*args, **kwargs):
                yield _to_components(out, components)

        return stream

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> dict[Any, Any]:
        return _to_components(fn(*args, **kwargs), components)

    return call
