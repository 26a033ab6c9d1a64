"""Training objectives as pure functions (paper eq. 4; the finetuning cross-entropy is engine.classification_loss)."""

from __future__ import annotations

import torch


def masked_mse(pred: torch.Tensor, target: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
    """MSE over the removed entries only (eq. 4, in standardised units).

    pred, target (..., V, C); removed (..., V) bool, True = masked (absent persons must be False).
    Mean over removed entries and channels; 0 (still differentiable) when nothing is removed.
    """
    if pred.shape != target.shape or pred.shape[:-1] != removed.shape:
        raise ValueError(
            f"masked_mse: pred {tuple(pred.shape)}, target {tuple(target.shape)} and removed "
            f"{tuple(removed.shape)} do not match"
        )
    w = removed.to(pred.dtype)[..., None]  # (..., V, 1)
    # Select rather than multiply, so non-finite values at visible entries cannot leak into the loss.
    sq = torch.where(
        removed[..., None], (pred - target).square(), torch.zeros((), dtype=pred.dtype, device=pred.device)
    )
    count = w.sum() * pred.shape[-1]
    return sq.sum() / count.clamp(min=1.0)


def relative_masked_mse(
    pred: torch.Tensor, target: torch.Tensor, removed: torch.Tensor, reference: torch.Tensor, floor: float
) -> torch.Tensor:
    """Squared error relative to a reference fill, over the removed entries: the mean of
    |pred - target|² / (|reference - target|² + floor²), divided by C (so a fill equal to the reference scores
    at most 1 / C per channel, like `masked_mse` of unit errors).

    reference (..., V, C): the fill the model is to improve on (linear interpolation). Every entry counts by how
    much it is improved relative to the reference, not by its size: a 1-frame gap that interpolation fills within
    a centimetre weighs as much as a limb hidden for a second, so the model learns to leave interpolation alone
    where it is right and to correct it where it is not. No per-batch normalisation: a batch of long gaps and a
    batch of short ones are on the same scale. The weights carry no gradient; floor > 0 (standardised units)
    bounds them."""
    if reference.shape != target.shape or pred.shape != target.shape or pred.shape[:-1] != removed.shape:
        raise ValueError(
            f"relative_masked_mse: pred {tuple(pred.shape)}, target {tuple(target.shape)}, reference "
            f"{tuple(reference.shape)} and removed {tuple(removed.shape)} do not match"
        )
    if floor <= 0:
        raise ValueError(f"relative_masked_mse needs a positive floor, got {floor}")
    ref = (reference - target).detach().square().sum(dim=-1)  # (..., V)
    sq = torch.where(
        removed[..., None], (pred - target).square(), torch.zeros((), dtype=pred.dtype, device=pred.device)
    )
    ratio = sq.sum(dim=-1) / (ref + floor * floor)  # (..., V), 0 where not removed
    return ratio.sum() / (removed.sum() * pred.shape[-1]).clamp(min=1)
