"""Data-parallel training across processes (``torchrun``): setup from the environment and small helpers.

Under ``torchrun --nproc-per-node N -m idfy train ...`` every process builds the same dataset and draws the
same global batch order (same seed); each rank then keeps its own slice of every global batch
(:func:`shard`), so a run with N processes sees exactly the batches of a one-process run. Gradients are
averaged by :class:`torch.nn.parallel.DistributedDataParallel`; only rank 0 prints and writes files.
Backend: NCCL on CUDA, Gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["DistInfo", "all_reduce_max", "all_reduce_sum", "cleanup", "init_from_env", "shard"]


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: ``rank`` of ``world_size`` processes; ``local_rank`` picks the GPU;
    ``owns_group``: this process group was created here (and is destroyed by :func:`cleanup`)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""
    owns_group: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world_size() -> int:
    """``WORLD_SIZE`` from the environment (1 when not launched by torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def init_from_env(device: torch.device) -> DistInfo:
    """Join the process group torchrun describes in the environment; a no-op (rank 0 of 1) otherwise.

    On CUDA each process takes GPU ``LOCAL_RANK``. Returns the :class:`DistInfo`.
    """
    world = env_world_size()
    if world <= 1:
        return DistInfo()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    backend = "nccl" if device.type == "cuda" else "gloo"
    owns = not dist.is_initialized()
    if owns:
        if device.type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
    else:
        backend = str(dist.get_backend())
    return DistInfo(rank=rank, world_size=world, local_rank=local_rank, backend=backend, owns_group=owns)


def cleanup(info: DistInfo) -> None:
    """Leave the process group when :func:`init_from_env` created it."""
    if info.enabled and info.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def shard(x: Tensor | None, info: DistInfo) -> Tensor | None:
    """This rank's contiguous slice of a global batch (B, ...) -> (about B / world_size, ...)."""
    if x is None or not info.enabled:
        return x
    return x.tensor_split(info.world_size)[info.rank]


def all_reduce_sum(t: Tensor, info: DistInfo) -> Tensor:
    """Sum ``t`` over ranks, in place (identity in a single process)."""
    if info.enabled:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def all_reduce_max(t: Tensor, info: DistInfo) -> Tensor:
    """Maximum of ``t`` over ranks, in place (identity in a single process)."""
    if info.enabled:
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t
