"""The explorer's memory guard: the library's one memory model, :mod:`idfy.analysis.memory`.

Kept as the UI's import point; the model, the cap and the refusal live in the library.
"""

from __future__ import annotations

from idfy.analysis.memory import (
    MemoryEstimate,
    check_memory,
    check_numbers,
    check_report,
    estimate_memory,
    memory_cap_bytes,
)

__all__ = [
    "MemoryEstimate",
    "check_memory",
    "check_numbers",
    "check_report",
    "estimate_memory",
    "memory_cap_bytes",
]
