"""Training on several processes or machines with PyTorch's own engine: torchrun + DDP.

    torchrun --nproc_per_node 2 -m mffcnn train ckplus48 PATH
    torchrun --nnodes 2 --node_rank 0 --rdzv_backend c10d --rdzv_endpoint HOST:29500 \
             --nproc_per_node 8 -m mffcnn cv ckplus48 PATH

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; we join its process group (gloo on CPU, NCCL on
GPU). Nothing here is home-made networking: only init_process_group, DDP and collectives.
Only rank 0 writes files or shows progress.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = Dist()


def from_env(device: torch.device | None = None) -> Dist:
    """Join torchrun's process group when launched by it; a single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device is not None and device.type == "cuda" else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
    # Each process gets its share of this machine's cores (torchrun would otherwise oversubscribe them).
    per_process = max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", world)))
    torch.set_num_threads(per_process)
    return Dist(rank=rank, world=world, local_rank=local_rank)


def is_main_process() -> bool:
    """Rank 0, or not under torchrun at all: the process that prints and writes."""
    return int(os.environ.get("RANK", "0")) == 0


def broadcast_object(obj, d: Dist):
    """Rank 0's value on every rank (e.g. the run folder it created)."""
    if not d.active:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_objects(obj, d: Dist) -> list:
    """Every rank's value, in rank order, on every rank."""
    if not d.active:
        return [obj]
    out = [None] * d.world
    dist.all_gather_object(out, obj)
    return out


def all_reduce_sum(t: torch.Tensor, d: Dist) -> torch.Tensor:
    if d.active:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def barrier(d: Dist) -> None:
    if d.active:
        dist.barrier()


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
