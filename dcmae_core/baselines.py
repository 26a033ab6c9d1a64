"""Reconstruction baselines to compare a model's fill against: zeros (what a sensor reports for a lost
joint) and linear interpolation of each joint in time between the frames where it is visible."""

from __future__ import annotations

import math

import numpy as np
import torch


def visible_neighbours(removed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each (..., T, V) entry, the last visible frame <= t (or -1) and the first visible frame >= t (or T)."""
    t_len = removed.shape[-2]
    t = torch.arange(t_len, device=removed.device).view(t_len, 1)  # (T, 1), broadcast over (..., T, V)
    visible = ~removed
    prev = torch.where(visible, t, -1).cummax(dim=-2).values  # (..., T, V)
    nxt = torch.where(visible, t, t_len).flip(-2).cummin(dim=-2).values.flip(-2)  # (..., T, V)
    return prev, nxt


def _interpolate(x: torch.Tensor, prev: torch.Tensor, nxt: torch.Tensor, fill: torch.Tensor | float) -> torch.Tensor:
    """Linear interpolation between the neighbours `prev` / `nxt` of every entry (see `interpolate_time`)."""
    t_len = x.shape[-3]
    t = torch.arange(t_len, device=x.device).view(t_len, 1)
    has_prev, has_next = prev >= 0, nxt < t_len
    p, q = prev.clamp(min=0), nxt.clamp(max=t_len - 1)
    xp = torch.gather(x, -3, p[..., None].expand_as(x))  # (..., T, V, C) value at the previous visible frame
    xq = torch.gather(x, -3, q[..., None].expand_as(x))
    w = ((t - p) / (q - p).clamp(min=1)).to(x.dtype)[..., None]  # (..., T, V, 1) weight of the next one
    y = torch.where((has_prev & has_next)[..., None], xp + (xq - xp) * w, torch.where(has_prev[..., None], xp, xq))
    return torch.where((has_prev | has_next)[..., None], y, torch.as_tensor(fill, dtype=x.dtype, device=x.device))


def _check(x: torch.Tensor, removed: torch.Tensor) -> None:
    if removed.shape != x.shape[:-1] or removed.dtype != torch.bool or x.dim() < 3:
        raise ValueError(
            f"expected x (..., T, V, C) and removed (..., T, V) bool; got {tuple(x.shape)} and "
            f"{tuple(removed.shape)} {removed.dtype}"
        )


def interpolate_time(x: torch.Tensor, removed: torch.Tensor, fill: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Fill the removed (..., T, V) entries of x (..., T, V, C) linearly in time from the same joint's visible
    frames, held constant before the first and after the last one; `fill` ((C,) or a scalar) where a joint is
    visible in no frame. Removed values are never read; other entries are returned unchanged. Batched: the
    leading axes are any (N, M), and the map is affine, so it commutes with per-channel standardisation."""
    _check(x, removed)
    prev, nxt = visible_neighbours(removed)
    return torch.where(removed[..., None], _interpolate(x, prev, nxt, fill), x)


def parent_offsets(
    x: torch.Tensor, removed: torch.Tensor, parents: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each joint placed at its parent plus its offset from the parent, interpolated in time between the frames
    where both are visible (held before the first and after the last): (..., T, V, C) positions and the (..., T, V)
    bool entries where that placement applies (removed, parent visible in that frame, the two seen together in
    some frame). Removed values of x are never read where it applies."""
    _check(x, removed)
    if len(parents) != x.shape[-2]:
        raise ValueError(f"{len(parents)} parents for {x.shape[-2]} joints")
    par = torch.tensor([max(p, 0) for p in parents], device=x.device)
    has_parent = torch.tensor([p >= 0 for p in parents], device=x.device)
    parent_removed = removed[..., par]
    pair_removed = removed | parent_removed  # the offset is known only where both are visible
    seen = (~pair_removed).any(dim=-2, keepdim=True)  # (..., 1, V)
    applies = removed & ~parent_removed & has_parent & seen
    return x[..., par, :] + interpolate_time(x - x[..., par, :], pair_removed), applies


def interpolate_from_parent(x: torch.Tensor, removed: torch.Tensor, parents: tuple[int, ...]) -> torch.Tensor:
    """`interpolate_time`, except that a removed joint whose parent joint is visible in that frame keeps its
    offset from the parent (`parent_offsets`): a hidden wrist follows the visible elbow (and a turning or walking
    body) instead of a straight line through space. Entries with a removed parent, or a joint never seen with its
    parent, take plain interpolation. On real recordings it is 9-22 % closer than plain interpolation for random
    missing joints and 2-9 % for a limb hidden 0.5-2 s (docs/benchmarks.md). Affine per channel, like
    `interpolate_time`."""
    placed, applies = parent_offsets(x, removed, parents)
    return torch.where(applies[..., None], placed, interpolate_time(x, removed))


PRIOR_FEATURES = 3  # channels interp_prior adds after the C interpolated coordinates
GAP_SCALE = 30.0  # frames: a gap's distance to the nearest visible frame is given in units of ~1 s at 30 Hz
GAP_CAP = 4.0  # ... and capped there (beyond it interpolation knows as little as nothing)


def interp_prior(x: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
    """What interpolation knows about each entry, as the decoder's prior: (..., T, V, C + 3) =
    [interpolated coordinates (0 = the data's mean where the joint is never visible), visible on both sides,
    visible on one side only, distance to the nearest visible frame / GAP_SCALE capped at GAP_CAP].
    Removed values of x are never read."""
    _check(x, removed)
    t_len = x.shape[-3]
    prev, nxt = visible_neighbours(removed)
    values = _interpolate(x, prev, nxt, 0.0)  # (..., T, V, C)
    has_prev, has_next = prev >= 0, nxt < t_len
    t = torch.arange(t_len, device=x.device).view(t_len, 1)
    far = torch.full_like(prev, math.ceil(GAP_CAP * GAP_SCALE))  # never visible: as far as the cap
    dist = torch.minimum(torch.where(has_prev, t - prev, far), torch.where(has_next, nxt - t, far))
    gap = (dist.to(x.dtype) / GAP_SCALE).clamp(max=GAP_CAP)  # (..., T, V)
    both = (has_prev & has_next).to(x.dtype)
    one = (has_prev ^ has_next).to(x.dtype)
    return torch.cat([values, both[..., None], one[..., None], gap[..., None]], dim=-1)


def interpolate_removed(data: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """`interpolate_time` on numpy arrays: data (M, T, V, C), removed (M, T, V); a joint removed in every frame
    has nothing to interpolate from and is set to 0, as a sensor reports it."""
    data = np.asarray(data)
    removed = np.asarray(removed, dtype=bool)
    if data.ndim != 4 or removed.shape != data.shape[:3]:
        raise ValueError(f"expected data (M, T, V, C) and removed (M, T, V); got {data.shape} and {removed.shape}")
    out = interpolate_time(torch.from_numpy(np.ascontiguousarray(data)), torch.from_numpy(removed))
    return out.numpy()
