"""An exponential moving average of a model's weights (train.ema), the copy that evaluation and checkpoints use.

A finetuning on a few hundred clips swings by points from one epoch to the next (docs/benchmarks.md); the
average over the last ~1 / (1 - decay) steps smooths that swing out. Parameters and floating buffers (BatchNorm's
running statistics) are averaged in place on their device, with no read back to the host; integer buffers
(BatchNorm's batch counter) are copied.
"""

from __future__ import annotations

import copy

import torch


class WeightAverage:
    """`module`: a frozen copy of the model whose weights follow w ← decay·w + (1 − decay)·w_model at each update."""

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"the weight-average decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        mine = self.module.state_dict()
        floats_avg, floats_new, copies = [], [], []
        for name, value in model.state_dict().items():
            target = mine[name]
            if target.is_floating_point():
                floats_avg.append(target)
                floats_new.append(value.detach())
            else:
                copies.append((target, value))
        if floats_avg:
            torch._foreach_lerp_(floats_avg, floats_new, 1.0 - self.decay)
        for target, value in copies:
            target.copy_(value)
