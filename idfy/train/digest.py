"""A SHA-256 of nested plain data (dicts, lists, str, numbers, None, tensors) that survives a save / load round trip.

Hashing the bytes ``torch.save`` wrote would tie the checksum to one serialization; hashing the values instead
gives the same digest for a checkpoint field before it is written and after ``torch.load(weights_only=True)``
read it back, on any device. Every value is fed with a one-byte type tag and its length, so two different
structures never feed the same byte stream. Tensors are hashed by dtype, shape and their raw bytes (CPU,
contiguous), which catches any flipped bit in the weights.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch

__all__ = ["sha256_of"]


def sha256_of(value: Any) -> str:
    """The hex SHA-256 of ``value``.

    Args:
        value: dict / list / tuple (same tag: a tuple may come back as a list) of str, bytes, bool, int, float,
            None and tensors, nested to any depth; dict order counts.

    Raises:
        TypeError: a value of another type (it would not load with ``weights_only=True`` either).
    """
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()


def _feed(h: Any, v: Any) -> None:
    if v is None:
        h.update(b"N")
    elif isinstance(v, bool):
        h.update(b"B1" if v else b"B0")
    elif isinstance(v, int):
        _tagged(h, b"I", str(v).encode())
    elif isinstance(v, float):
        _tagged(h, b"F", v.hex().encode())
    elif isinstance(v, str):
        _tagged(h, b"S", v.encode("utf-8", "surrogatepass"))
    elif isinstance(v, bytes | bytearray):
        _tagged(h, b"Y", bytes(v))
    elif isinstance(v, torch.Tensor):
        t = v.detach().cpu().contiguous().reshape(-1)
        _tagged(h, b"T", f"{t.dtype}|{tuple(v.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(v, dict):
        _tagged(h, b"D", str(len(v)).encode())
        for k, item in v.items():
            _feed(h, k)
            _feed(h, item)
    elif isinstance(v, list | tuple):
        _tagged(h, b"L", str(len(v)).encode())
        for item in v:
            _feed(h, item)
    else:
        raise TypeError(f"cannot checksum a {type(v).__name__}; checkpoints hold plain data and tensors only")


def _tagged(h: Any, tag: bytes, data: bytes) -> None:
    h.update(tag + str(len(data)).encode() + b":" + data)
