"""idfy.analysis.units: one number format (lower-case SI k, binary byte prefixes) for the CLI, diagram and app."""

from __future__ import annotations

import math

from idfy.analysis import human_bytes, human_count
from idfy.analysis.units import MISSING


def test_counts_use_si_prefixes_with_a_lower_case_k() -> None:
    assert human_count(12_345) == "12.3 k"
    assert human_count(4_848_437) == "4.85 M"
    assert human_count(1.82e9, "MACs") == "1.82 GMACs"
    assert human_count(812) == "812"
    assert human_count(None) == MISSING and human_count(math.nan) == MISSING


def test_bytes_use_binary_prefixes() -> None:
    assert human_bytes(1536) == "1.50 KiB"
    assert human_bytes(3.5e8) == "334 MiB"
    assert human_bytes(812) == "812 B"
    assert human_bytes(None) == MISSING
