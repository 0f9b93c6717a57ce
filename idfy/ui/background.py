"""Run an iterator (a training run's events) in its own thread, so that it does not pause while the page updates.

Gradio advances a generator handler one item at a time and sends each yielded update to the page before it asks
for the next; a run driven from inside the handler therefore stood still while every page update was prepared and
sent (curves, sample images, status): about a quarter of the demo's steps in its minute on a 2-core CPU
(``benchmarks/results/app_demo.md``). :func:`in_background` moves the iteration to a thread of its own and hands
its items over through a queue, in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

__all__ = ["in_background"]

T = TypeVar("T")

#: Seconds :func:`in_background` waits, when closed early, for its thread to finish (the run ends at its next step
#: once its stop event is set, then evaluates and saves).
JOIN_S = 120.0


def in_background(items: Iterator[T], name: str = "idfy-background") -> Iterator[T]:
    """Yield what ``items`` yields, in order, while a daemon thread advances ``items`` as fast as it can.

    An exception raised by ``items`` is raised here, at its place in the order. Closing this generator early
    (the page went away) lets the thread finish the item it is on, closes ``items`` in that thread (a generator
    can only be closed by the thread running it) and waits up to :data:`JOIN_S` s for it, so that whatever
    ``items`` writes is finished before the caller cleans up. Stopping ``items`` itself is the caller's job
    (the run's stop event).
    """
    handoff: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
    quit_ = threading.Event()
    end = object()

    def pump() -> None:
        try:
            for item in items:
                handoff.put((True, item))
                if quit_.is_set():
                    break
            handoff.put((True, end))
        except BaseException as e:  # handed to the consumer, raised there
            handoff.put((False, e))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=pump, name=name, daemon=True)
    thread.start()
    try:
        while True:
            ok, item = handoff.get()
            if not ok:
                raise item  # type: ignore[misc]
            if item is end:
                return
            yield item  # type: ignore[misc]
    finally:
        quit_.set()
        thread.join(JOIN_S)
