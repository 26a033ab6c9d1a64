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


def relative_masked_mse(pred: torch.Tensor, target: torch.Tensor, removed: torch.Tensor, reference: torch.Tensor,
                        floor: float) -> torch.Tensor:
    """`masked_mse` with each removed entry weighted by 1 / (its reference error² + floor²), the weights
    normalised to mean 1 over the removed entries.

    reference (..., V, C): a fill the model is to improve on (linear interpolation). Every entry then counts by
    how much it is improved relative to the reference, not by its size: a 1-frame gap that interpolation fills
    within a centimetre weighs as much as a limb hidden for a second, so the model learns to leave interpolation
    alone where it is right. The weights carry no gradient. floor > 0 (standardised units) bounds them."""
    if reference.shape != target.shape:
        raise ValueError(f"relative_masked_mse: reference {tuple(reference.shape)} and target "
                         f"{tuple(target.shape)} do not match")
    if floor <= 0:
        raise ValueError(f"relative_masked_mse needs a positive floor, got {floor}")
    ref = (reference - target).detach().square().sum(dim=-1)  # (..., V)
    w = torch.where(removed, 1.0 / (ref + floor * floor), torch.zeros((), dtype=ref.dtype, device=ref.device))
    w = w / (w.sum() / removed.sum().clamp(min=1)).clamp(min=1e-12)  # mean 1 over removed entries
    sq = torch.where(removed[..., None], (pred - target).square(), torch.zeros((), dtype=pred.dtype,
                                                                                 device=pred.device))
    return (sq.sum(dim=-1) * w).sum() / (removed.sum() * pred.shape[-1]).clamp(min=1)


def classification_loss(logits: torch.Tensor, labels: torch.Tensor,
                        label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy of logits (N, K) against int64 labels (N,)."""
    return F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
