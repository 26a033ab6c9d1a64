"""The optimiser and its per-iteration learning rate (linear warm-up, then cosine decay)."""

from __future__ import annotations

import math

import torch

from dcmae_core.config import OptimConfig


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
