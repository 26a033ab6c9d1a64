"""Spatio-temporal masking (paper §1.1) and the missing-joint protocol, as pure functions.

Mask convention, written once for the whole model: a bool tensor where **True = removed** (masked,
dropped, missing) and False = visible. Every function takes an explicit `torch.Generator` (or None for
torch's default one); the random numbers are drawn on the generator's device and then moved, so a CPU
generator gives the same masks whether the model runs on CPU or CUDA.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def _rand(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device | str) -> torch.Tensor:
    """U[0, 1) float32 noise of `shape` from `generator`, on `device`."""
    if generator is None:
        return torch.rand(shape, device=device)
    return torch.rand(shape, generator=generator, device=generator.device).to(device)


def _randn(
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """N(0, 1) noise of `shape` from `generator`, on `device`."""
    if generator is None:
        return torch.randn(shape, device=device, dtype=dtype)
    return torch.randn(shape, generator=generator, device=generator.device, dtype=dtype).to(device)


def num_kept_frames(num_frames: int, frame_ratio: float, tuple_len: int) -> int:
    """Frames kept after dropping `frame_ratio` of them: a multiple of `tuple_len`, at least one tuple."""
    if num_frames % tuple_len:
        raise ValueError(f"num_frames={num_frames} is not a multiple of tuple_len={tuple_len}")
    if not 0.0 <= frame_ratio < 1.0:
        raise ValueError(f"frame ratio {frame_ratio} outside [0, 1)")
    tuples = round(num_frames * (1.0 - frame_ratio) / tuple_len)
    return max(1, min(tuples, num_frames // tuple_len)) * tuple_len


def frame_keep_indices(
    batch: int,
    num_frames: int,
    frame_ratio: float,
    tuple_len: int,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """(batch, T_keep) int64 indices of kept frames, each row ascending (time order), drawn at random."""
    keep = num_kept_frames(num_frames, frame_ratio, tuple_len)
    noise = _rand((batch, num_frames), generator, device)  # (B, T)
    idx = noise.argsort(dim=1)[:, :keep]  # (B, T_keep) random frames
    return idx.sort(dim=1).values  # (B, T_keep) in time order


def joint_mask(
    batch: int,
    num_frames: int,
    num_joints: int,
    joint_ratio: float,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """(batch, num_frames, V) bool, True = masked: round(V * ratio) joints in each frame, independently."""
    if not 0.0 <= joint_ratio < 1.0:
        raise ValueError(f"joint ratio {joint_ratio} outside [0, 1)")
    k = round(num_joints * joint_ratio)
    noise = _rand((batch, num_frames, num_joints), generator, device)  # (B, T, V)
    rank = noise.argsort(dim=2).argsort(dim=2)  # (B, T, V) rank of each joint within its frame
    return rank < k


@dataclass
class SpatioTemporalMask:
    """The pretraining mask of B sequences of T frames.

    keep: (B, T_keep) int64 kept frames in time order; joint_removed: (B, T_keep, V) bool masked joints of
    the kept frames; removed: (B, T, V) bool on the full grid (dropped frames are removed at every joint).
    """

    keep: torch.Tensor
    joint_removed: torch.Tensor
    removed: torch.Tensor


def spatiotemporal_mask(
    batch: int,
    num_frames: int,
    num_joints: int,
    frame_ratio: float,
    joint_ratio: float,
    tuple_len: int,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> SpatioTemporalMask:
    """Frame masking at ratio Mt, then joint masking at ratio Mj independently in every kept frame."""
    keep = frame_keep_indices(batch, num_frames, frame_ratio, tuple_len, generator, device)  # (B, Tk)
    jm = joint_mask(batch, keep.shape[1], num_joints, joint_ratio, generator, device)  # (B, Tk, V)
    removed = torch.ones(batch, num_frames, num_joints, dtype=torch.bool, device=device)  # (B, T, V)
    removed.scatter_(1, keep[:, :, None].expand(-1, -1, num_joints), jm)
    return SpatioTemporalMask(keep=keep, joint_removed=jm, removed=removed)


def missing_joint_mask(
    present: torch.Tensor, num_joints: int, ratio: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Missing-joint protocol (paper Table 4): remove round(ratio * K_n) of the K_n present (m, t, v) entries.

    present: (N, M, T) bool, which person has data in which frame. Returns (N, M, T, V) bool, True = removed;
    entries of absent persons or frames are never removed.
    """
    if present.dim() != 3 or present.dtype != torch.bool:
        raise ValueError(f"present must be an (N, M, T) bool tensor, got {tuple(present.shape)} {present.dtype}")
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"missing-joint ratio {ratio} outside [0, 1]")
    n, m, t = present.shape
    avail = present[..., None].expand(n, m, t, num_joints).reshape(n, -1)  # (N, M*T*V)
    noise = _rand(tuple(avail.shape), generator, present.device)  # (N, M*T*V)
    noise = noise.masked_fill(~avail, 2.0)  # absent entries sort last
    rank = noise.argsort(dim=1).argsort(dim=1)  # (N, M*T*V)
    k = torch.round(avail.sum(dim=1).double() * ratio).long()  # (N,) entries to remove per sample
    removed = (rank < k[:, None]) & avail  # (N, M*T*V)
    return removed.view(n, m, t, num_joints)  # (N, M, T, V)
