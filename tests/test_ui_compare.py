"""Compare tab helpers without a page: the log-axis ticks of its bar chart, the changes in plain words."""

from __future__ import annotations

import pytest

from idfy import load_preset
from idfy.ui.tabs.compare import _diff_note, _unsplit_percent, log_ticks, on_compare


def test_log_ticks_are_few_and_1_2_5() -> None:
    assert log_ticks([374e3, 4.85e6, 11.2e6]) == pytest.approx([2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7])
    assert log_ticks([1e3, 1e9]) == pytest.approx([1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9])  # powers only
    assert len(log_ticks([1.0, 1e15])) <= 8  # every other power when even powers are too many
    assert log_ticks([0.0, -1.0]) == []


def test_changes_are_written_in_plain_words_with_their_params() -> None:
    seed = load_preset("seed_model2")
    assert _diff_note(seed, seed.set("stages.1.inject", True)) == "stage 2 inject: off → on (+104 params)"
    note = _diff_note(seed, load_preset("small"))
    assert "input scale: 1.0 → 10.0" in note and "stage 1 conv kind: regular → group" in note
    assert "stages." not in note and "conv.kind" not in note and "{" not in note
    assert _diff_note(seed, seed) == "same options as the first design"


def test_table_percentages_keep_their_sign_on_the_line() -> None:
    """A narrow column wraps "227 M (+240 %)" between the count and its change, never inside the change."""
    current = load_preset("tiny").to_yaml()
    table = on_compare(["seed_model2", "small"], True, {}, current)["table"]["value"]
    cells = [cell for row in table for cell in row[1:5]]
    assert any("\u00a0%)" in cell for cell in cells)
    assert not any(" %)" in cell for cell in cells)
    assert [row[0] for row in table][:2] == ["seed_model2 (reference)", "small"]  # names as they were
    assert _unsplit_percent(5) == 5 and _unsplit_percent("4.85 M (=)") == "4.85 M (=)"
