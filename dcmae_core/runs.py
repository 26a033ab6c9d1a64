"""Run folders: resolved config, command line, metrics.jsonl (+ optional stdout JSON lines), TensorBoard events.

Also the small pieces every loop shares: device choice, seeding, the per-iteration learning-rate schedule,
and the distributed context (torchrun sets RANK / WORLD_SIZE / LOCAL_RANK).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from dcmae_core.config import Config, OptimConfig, TrainConfig

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- device, seeds, distributed
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


_ALLOCATOR_TUNED = False


def keep_freed_memory() -> bool:
    """On Linux/glibc, keep memory that training frees for the next step instead of returning it to the OS.

    A CPU pretraining step allocates and frees gigabytes of activations; by default glibc unmaps large blocks
    and trims the heap, so every step page-faults all of it in again (seen as system time). Raising the trim
    threshold and the top pad and serving every block from the heap more than doubled the paper preset's
    CPU pretraining speed at batch 8 (docs/benchmarks.md); the price is a resident size that stays at the peak.
    Process-wide and idempotent; False where it does not apply (other C libraries, other systems)."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_max = -1, -2, -4
    ok = all(mallopt(param, value) == 1 for param, value in (
        (m_mmap_max, 0),  # no block gets its own mapping: all come from the heap and are reused
        (m_trim_threshold, 2**31 - 1),  # never give the heap's top back between steps
        (m_top_pad, 2**30),  # grow the heap in 1 GiB steps
    ))
    _ALLOCATOR_TUNED = ok
    return ok


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


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def step_generator(seed: int, step: int, rank: int = 0, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator for one iteration's masks and noise: a pure function of (seed, step, rank), so a resumed
    run draws exactly what an uninterrupted one would have drawn."""
    g = torch.Generator(device=device)
    g.manual_seed((seed * 1_000_003 + step * 7919 + rank * 104_729) % (2**63 - 1))
    return g


# ----------------------------------------------------------------------------- learning-rate schedule
def lr_at(step: int, total_steps: int, base_lr: float, optim_cfg: OptimConfig, steps_per_epoch: int) -> float:
    """Linear warm-up then cosine decay to min_lr, evaluated per iteration."""
    warmup = int(round(optim_cfg.warmup_epochs * steps_per_epoch))
    if warmup and step < warmup:
        return base_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    progress = min(max(progress, 0.0), 1.0)
    return optim_cfg.min_lr + (base_lr - optim_cfg.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_optimizer(params, optim_cfg: OptimConfig, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if optim_cfg.name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=optim_cfg.momentum, weight_decay=weight_decay)
    if optim_cfg.name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimiser {optim_cfg.name!r}")


# ----------------------------------------------------------------------------- run folder
class RunLogger:
    """Writes the run folder; only rank 0 writes. `emit` = metrics.jsonl (+ stdout with --jsonl) + TensorBoard."""

    def __init__(self, run_dir: str | Path, cfg: Config, ctx: DistContext, jsonl_stdout: bool = False,
                 resume: bool = False):
        self.run_dir = Path(run_dir)
        self.ctx = ctx
        self.jsonl_stdout = jsonl_stdout
        self._tb = None
        if not ctx.is_main:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(cfg.to_json() + "\n")
        with open(self.run_dir / "command.txt", "a") as fh:
            fh.write(" ".join([sys.executable, "-m", "dcmae_core.train", *sys.argv[1:]]) + "\n")
        if not resume:
            (self.run_dir / "metrics.jsonl").write_text("")
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.run_dir / "tb"))
        except ImportError:  # tensorboard is a declared dependency; keep training if it is broken
            log.warning("tensorboard is not importable; no event files will be written")

    def emit(self, record: dict[str, Any], step: int | None = None) -> None:
        if not self.ctx.is_main:
            return
        record = {"time": round(time.time(), 3), **record}
        line = json.dumps(record, default=float)
        with open(self.run_dir / "metrics.jsonl", "a") as fh:
            fh.write(line + "\n")
        if self.jsonl_stdout:
            print(line, flush=True)
        if self._tb is not None and step is not None:
            prefix = record.get("event", "metric")
            for key, value in record.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("time", "step"):
                    self._tb.add_scalar(f"{prefix}/{key}", value, step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
