"""idfy.ui.background.in_background: a run's events advance in their own thread, in order, errors and early
closing handled."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from idfy.ui.background import in_background


def test_items_arrive_in_order_and_the_source_runs_in_another_thread() -> None:
    threads: list[str] = []

    def source() -> Iterator[int]:
        for i in range(50):
            threads.append(threading.current_thread().name)
            yield i

    assert list(in_background(source(), name="idfy-test")) == list(range(50))
    assert set(threads) == {"idfy-test"}


def test_the_source_keeps_going_while_the_consumer_is_busy() -> None:
    """The point of it: Gradio holds the handler between two page updates; the run must not wait for it."""
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(20):
            produced.append(i)
            yield i

    it = in_background(source())
    assert next(it) == 0
    time.sleep(0.3)  # the page update being prepared and sent
    assert len(produced) == 20  # everything was produced meanwhile
    assert list(it) == list(range(1, 20))


def test_an_error_of_the_source_is_raised_at_its_place() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise ValueError("data refused")

    it = in_background(source())
    assert next(it) == 1
    with pytest.raises(ValueError, match="data refused"):
        next(it)


def test_closing_early_closes_the_source_in_its_thread_and_waits_for_it() -> None:
    stop = threading.Event()
    log: list[str] = []

    def source() -> Iterator[int]:
        try:
            i = 0
            while not stop.is_set():  # like the engine: runs until its stop event, then finishes its work
                yield i
                i += 1
                time.sleep(0.01)
            time.sleep(0.2)  # the final evaluation and checkpoint
            log.append("finished")
            yield -1
        finally:
            log.append(f"closed in {threading.current_thread().name}")

    it = in_background(source(), name="idfy-run")
    assert next(it) == 0
    stop.set()
    it.close()  # returns once the source has finished and been closed
    assert log == ["finished", "closed in idfy-run"]
