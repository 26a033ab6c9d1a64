"""Reconstruction baselines to compare a model's fill against: zeros (what a sensor reports for a lost
joint) and linear interpolation of each joint in time between the frames where it is visible."""

from __future__ import annotations

import numpy as np


def interpolate_removed(data: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Fill the removed (M, T, V) entries of `data` (M, T, V, C) linearly in time from the same joint's
    visible frames (held constant before the first and after the last one). A joint removed in every frame
    has nothing to interpolate from and is set to 0, as a sensor reports it. Removed values are never read;
    every entry not removed is returned unchanged."""
    data = np.asarray(data)
    removed = np.asarray(removed, dtype=bool)
    if data.ndim != 4 or removed.shape != data.shape[:3]:
        raise ValueError(f"expected data (M, T, V, C) and removed (M, T, V); got {data.shape} and {removed.shape}")
    out = data.copy()
    frames = np.arange(data.shape[1])
    never = removed.all(axis=1)  # (M, V)
    out.transpose(0, 2, 1, 3)[never] = 0
    for m, v in zip(*np.nonzero(removed.any(axis=1) & ~never), strict=True):  # joints to fill
        miss = removed[m, :, v]
        for c in range(data.shape[3]):
            out[m, miss, v, c] = np.interp(frames[miss], frames[~miss], data[m, ~miss, v, c])
    return out
