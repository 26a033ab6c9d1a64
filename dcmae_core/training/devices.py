"""Where a run computes: the distributed context (torchrun sets RANK / WORLD_SIZE / LOCAL_RANK), the device, and
the number formats used on it (TF32, autocast)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from dcmae_core.config import TrainConfig


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device_pref: str) -> DistContext:
    """Join the process group torchrun describes (NCCL on GPUs, gloo on CPU); a no-op when run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_pref != "cpu"
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local)
    return DistContext(rank=rank, world_size=world, local_rank=local)


def resolve_device(pref: str, ctx: DistContext | None = None) -> torch.device:
    """'auto' = CUDA if present (this process's local GPU under torchrun), else CPU."""
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", ctx.local_rank if ctx else 0)
        return torch.device("cpu")
    dev = torch.device(pref)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {pref!r} asked for, but CUDA is not available on this machine")
    return dev


def enable_tf32(device: torch.device) -> None:
    """TF32 for the fp32 matmuls and convs left outside bf16 autocast on CUDA (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def autocast_dtype(train_cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    """bf16 (or fp16) autocast on CUDA; None = full precision (always on the CPU)."""
    if device.type != "cuda" or train_cfg.amp == "off":
        return None
    if train_cfg.amp == "fp16":
        return torch.float16
    if train_cfg.amp == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16
