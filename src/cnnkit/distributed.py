"""Several processes under ``torchrun``: one process group, sharded batches, averaged metrics.

cnnkit uses PyTorch's own engine (``torch.distributed`` with DistributedDataParallel); this
module only answers who we are and moves the few numbers the training loop must agree on.
"""

from __future__ import annotations

import atexit
import gc
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

if dist.is_available():
    # Imported before any group exists: DistributedDataParallel imports it, and its first import
    # takes the current group.WORLD as a default argument value, keeping the group alive for good.
    import torch.distributed.nn  # noqa: F401

TIMEOUT_SECONDS = int(os.environ.get("CNNKIT_DISTRIBUTED_TIMEOUT", "300"))


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1

    @property
    def active(self) -> bool:
        """True when training runs on more than one process."""
        return self.size > 1

    @property
    def is_main(self) -> bool:
        """True on the process that prints and writes files (rank 0)."""
        return self.rank == 0


def world() -> World:
    """Read the process group set up by :func:`setup` (or torchrun's variables before that)."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    size = int(os.environ.get("WORLD_SIZE", "1"))
    return World(int(os.environ.get("RANK", "0")), size)


def setup(device: torch.device) -> World:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1): 'nccl' on CUDA, 'gloo'
    on CPU, with a timeout so a failed rank cannot make the others wait forever."""
    current = world()
    if not current.active or dist.is_initialized():
        return current
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend=backend, timeout=timedelta(seconds=TIMEOUT_SECONDS))
    atexit.register(_leave)
    return world()


def _leave() -> None:
    """Destroy the process group at exit, while Python is still whole, so its threads are joined.

    A gloo worker thread drops a finished collective's tensors a moment after the caller has
    moved on, and dropping a tensor made in Python takes the GIL. On a loaded machine that
    moment can fall into interpreter finalization, where a thread asking for the GIL is ended
    inside C++ and the process aborts ("terminate called without an active exception").
    Destroying the last reference to the group waits for its threads with the GIL released.
    Nothing else may hold the group: fit drops its DistributedDataParallel wrapper when it
    returns, ``gc.collect`` frees wrappers still caught in reference cycles, and
    ``torch.distributed.nn`` is imported above, before the group exists.
    """
    if dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def process_device(device: torch.device) -> torch.device:
    """On CUDA each process takes the GPU of its LOCAL_RANK."""
    if device.type == "cuda" and world().active:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def sum_across(values: torch.Tensor) -> torch.Tensor:
    """Element-wise sum of ``values`` over all processes (the values themselves when alone)."""
    if world().active:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def any_across(flag: bool, device: torch.device) -> bool:
    """True when ``flag`` is True on any process, so all stop training together."""
    if not world().active:
        return flag
    return bool(sum_across(torch.tensor([float(flag)], device=device)).item() > 0)


def broadcast_int(value: int, device: torch.device) -> int:
    """Rank 0's ``value`` on every process (e.g. the shuffling seed)."""
    if not world().active:
        return value
    tensor = torch.tensor([value], dtype=torch.int64, device=device)
    dist.broadcast(tensor, src=0)
    return int(tensor.item())


def gather_in_order(local: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """Concatenate each rank's contiguous chunk (``counts[r]`` rows) in rank order, on every rank."""
    if not world().active:
        return local
    largest = max(counts)
    padded = local.new_zeros((largest, *local.shape[1:]))
    padded[: local.shape[0]] = local
    chunks = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(chunks, padded)
    return torch.cat([chunk[:count] for chunk, count in zip(chunks, counts)])
