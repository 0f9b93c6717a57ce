"""Compare tab helpers without a page: the log-axis ticks of its bar chart."""

from __future__ import annotations

import pytest

from idfy.ui.tabs.compare import log_ticks


def test_log_ticks_are_few_and_1_2_5() -> None:
    assert log_ticks([374e3, 4.85e6, 11.2e6]) == pytest.approx([2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7])
    assert log_ticks([1e3, 1e9]) == pytest.approx([1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9])  # powers only
    assert len(log_ticks([1.0, 1e15])) <= 8  # every other power when even powers are too many
    assert log_ticks([0.0, -1.0]) == []
