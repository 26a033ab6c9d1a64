"""Seeds: the whole process at start-up, and one generator per iteration that a resumed run replays exactly."""

from __future__ import annotations

import random

import numpy as np
import torch


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
