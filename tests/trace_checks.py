"""Shared assertion for tests that compare two traces of one design (meta vs real CPU, replayed vs fresh)."""

from __future__ import annotations

from typing import Any


def assert_same_module_counts(got: Any, want: Any) -> None:
    """``got`` and ``want`` (:class:`idfy.analysis.tracing.Trace`) agree on total FLOPs and, module by module,
    on output shape, MACs, activation bytes and params; the failing module is named."""
    assert got.flops == want.flops
    for name, stat in want.modules.items():
        other = got.modules[name]
        assert (other.out_shape, other.macs, other.act_bytes, other.params) == (
            stat.out_shape,
            stat.macs,
            stat.act_bytes,
            stat.params,
        ), name
