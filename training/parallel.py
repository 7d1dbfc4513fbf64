"""Where a run executes: the device, and this process's place in a torchrun job.

Data parallelism here is explicit: one all-reduce of the flattened gradients per optimizer
step and of the logged losses per step (see training/trainer.py for why not DDP).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.distributed as dist

from training.errors import TrainingError


@dataclass
class Parallel:
    """This process's place in a torchrun job (rank 0 of 1 when run alone)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group (torchrun jobs), so the processes exit cleanly."""
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()

    def mean_grads(self, params: Iterable[torch.nn.Parameter]) -> None:
        """Average gradients over processes with one all-reduce of their concatenation."""
        if self.world == 1:
            return
        grads = [p.grad for p in params if p.grad is not None]
        flat = self.mean(torch.cat([g.reshape(-1) for g in grads]))
        for g, part in zip(grads, flat.split([g.numel() for g in grads]), strict=True):
            g.copy_(part.view_as(g))

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """Average a tensor over processes (in place, returned for chaining)."""
        if self.world > 1:
            dist.all_reduce(values)
            values /= self.world
        return values


def init_parallel(device: torch.device) -> Parallel:
    """Join the torchrun process group if launched by torchrun, else run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Parallel()
    if device.type == "cuda":
        torch.cuda.set_device(device)  # NCCL needs each process on its own GPU
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Parallel(dist.get_rank(), dist.get_world_size())


def pick_device(name: str) -> torch.device:
    """`auto` is the local GPU when there is one; an explicit GPU that is absent is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError(f"device {name} requested but CUDA is not available; use --device cpu")
    if device.type == "cuda" and device.index is None:  # one GPU per torchrun process
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device
