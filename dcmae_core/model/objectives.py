"""Training objectives as pure functions (paper eq. 4 and the finetuning cross-entropy)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def masked_mse(pred: torch.Tensor, target: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
    """MSE over the removed entries only (eq. 4, in standardised units).

    pred, target (..., V, C); removed (..., V) bool, True = masked (absent persons must be False).
    Mean over removed entries and channels; 0 (still differentiable) when nothing is removed.
    """
    if pred.shape != target.shape or pred.shape[:-1] != removed.shape:
        raise ValueError(f"masked_mse: pred {tuple(pred.shape)}, target {tuple(target.shape)} and removed "
                         f"{tuple(removed.shape)} do not match")
    w = removed.to(pred.dtype)[..., None]  # (..., V, 1)
    # Select rather than multiply, so non-finite values at visible entries cannot leak into the loss.
    sq = torch.where(removed[..., None], (pred - target).square(), torch.zeros((), dtype=pred.dtype,
                                                                                 device=pred.device))
    count = w.sum() * pred.shape[-1]
    return sq.sum() / count.clamp(min=1.0)


def classification_loss(logits: torch.Tensor, labels: torch.Tensor,
                        label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy of logits (N, K) against int64 labels (N,)."""
    return F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
