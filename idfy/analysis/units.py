"""Numbers for people: counts (params, MACs, FLOPs) with SI prefixes and bytes with binary prefixes.

One format for the CLI, the diagram and the app: three significant digits, a lower-case ``k`` for
thousands (SI), ``KiB`` / ``MiB`` / ``GiB`` / ``TiB`` for bytes (IEC), ``—`` for a missing value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["MISSING", "human_bytes", "human_count", "shape_text"]

#: What a missing number (``None``, NaN) reads as.
MISSING = "—"

_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
_IEC = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def _three_digits(v: float) -> str:
    """``4.848`` -> ``4.85``, ``48.48`` -> ``48.5``, ``484.8`` -> ``485``."""
    return f"{v:.{2 if abs(v) < 10 else 1 if abs(v) < 100 else 0}f}"


def human_count(n: float | None, unit: str = "") -> str:
    """A count with an SI prefix: ``12345`` -> ``12.3 k``, ``4848437`` -> ``4.85 M``, ``(1.8e9, "MACs")`` ->
    ``1.80 GMACs``. Below 1000 the number stays exact (``812``). ``None`` / NaN -> :data:`MISSING`."""
    if n is None or (isinstance(n, float) and not math.isfinite(n)):
        return MISSING
    n = float(n)
    for div, prefix in _SI:
        if abs(n) >= div:
            return f"{_three_digits(n / div)} {prefix}{unit}".rstrip()
    return f"{n:,.0f} {unit}".rstrip() if n == int(n) else f"{n:.3g} {unit}".rstrip()


def human_bytes(n: float | None) -> str:
    """Bytes with a binary prefix: ``1536`` -> ``1.50 KiB``, ``3.5e8`` -> ``334 MiB``; below 1 KiB exact
    (``812 B``). ``None`` -> :data:`MISSING`."""
    if n is None:
        return MISSING
    n = float(n)
    for div, prefix in _IEC:
        if abs(n) >= div:
            return f"{_three_digits(n / div)} {prefix}"
    return f"{n:.0f} B"


def shape_text(shape: Sequence[int] | None, missing: str = MISSING) -> str:
    """A tensor shape as ``C×H×W`` (``(3, 224, 224)`` -> ``3×224×224``); ``missing`` for ``None`` or ``()``."""
    if not shape:
        return missing
    return "×".join(str(int(s)) for s in shape)
