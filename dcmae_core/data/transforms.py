"""Load-time transforms of one sample (SPEC §2.5): crop-resize along time, random rotation, standardisation.

Pure numpy functions; every random draw comes from an explicit `np.random.Generator`.
A sample is `(M, T, V, C)` float32; `present` `(M, T)` bool says which person has data in which frame.
Frames where a person is absent hold exactly 0 and stay 0 through every transform here.
"""

from __future__ import annotations

import numpy as np


def presence(data: np.ndarray) -> np.ndarray:
    """(M, T) bool: a person is present in a frame when any of its coordinates is non-zero."""
    if data.ndim != 4:
        raise ValueError(f"expected a sample of shape (M, T, V, C), got {data.shape}")
    return np.any(data != 0, axis=(2, 3))  # (M, T)


def crop_window(
    length: int,
    train: bool,
    rng: np.random.Generator | None = None,
    crop_min: float = 0.5,
    crop_max: float = 1.0,
    crop_min_frames: int = 64,
    test_crop: float = 0.95,
) -> tuple[int, int]:
    """The [start, stop) frame window kept before resizing.

    Train: p ~ U(crop_min, crop_max), keep max(p*L, crop_min_frames) frames (all L if shorter), random start.
    Test: a centred window of test_crop*L frames.
    """
    if length < 1:
        raise ValueError(f"cannot crop a sequence of {length} frames")
    if train:
        if rng is None:
            raise ValueError("a training crop needs a np.random.Generator")
        if not 0.0 < crop_min <= crop_max <= 1.0:
            raise ValueError(f"crop ratios must satisfy 0 < crop_min <= crop_max <= 1, got {crop_min}, {crop_max}")
        p = rng.uniform(crop_min, crop_max)
        keep = int(np.floor(p * length))
        keep = min(length, max(keep, crop_min_frames, 1))
        start = int(rng.integers(0, length - keep + 1))
    else:
        if not 0.0 < test_crop <= 1.0:
            raise ValueError(f"test_crop must lie in (0, 1], got {test_crop}")
        keep = max(1, min(length, int(np.floor(test_crop * length))))
        start = (length - keep) // 2
    return start, start + keep


def resize_time(data: np.ndarray, present: np.ndarray, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Resample `(M, L, V, C)` to `(M, num_frames, V, C)` by linear interpolation along time.

    Between two present frames the value is interpolated; next to an absent frame the nearest frame is
    taken, so absent frames never blend zeros into coordinates. Returns (data, present) resized.
    """
    m, length = present.shape
    if data.shape[:2] != (m, length):
        raise ValueError(f"data {data.shape} and present {present.shape} disagree on (M, T)")
    if num_frames < 1:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    if length == 1:
        pos = np.zeros(num_frames)
    else:
        pos = np.linspace(0.0, length - 1, num_frames)  # (T',) source positions in frames
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, length - 1)
    w = (pos - i0).astype(np.float32)[None, :, None, None]  # (1, T', 1, 1)
    lin = (1.0 - w) * data[:, i0] + w * data[:, i1]  # (M, T', V, C)
    near = np.where(pos - i0 < 0.5, i0, i1)  # (T',)
    both = present[:, i0] & present[:, i1]  # (M, T')
    out = np.where(both[:, :, None, None], lin, data[:, near])  # (M, T', V, C)
    out_present = present[:, near]  # (M, T')
    out[~out_present] = 0.0
    return out.astype(np.float32, copy=False), out_present


def crop_resize(
    data: np.ndarray,
    num_frames: int,
    train: bool,
    rng: np.random.Generator | None = None,
    crop_min: float = 0.5,
    crop_max: float = 1.0,
    crop_min_frames: int = 64,
    test_crop: float = 0.95,
    present: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Crop a window (see `crop_window`) of `(M, L, V, C)` and resize it to `num_frames`.

    Returns (data (M, num_frames, V, C) float32, present (M, num_frames) bool).
    """
    if present is None:
        present = presence(data)
    start, stop = crop_window(data.shape[1], train, rng, crop_min, crop_max, crop_min_frames, test_crop)
    return resize_time(data[:, start:stop], present[:, start:stop], num_frames)


def native_window(
    data: np.ndarray,
    num_frames: int,
    train: bool,
    rng: np.random.Generator | None = None,
    present: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`num_frames` consecutive frames of `(M, L, V, C)` at the recording's own rate: a random window in
    training, the centred one in testing. A shorter clip holds its last frame (a person standing still), as
    `Predictor.reconstruct` pads its windows. Returns (data (M, num_frames, V, C) float32, present (M, num_frames))."""
    if present is None:
        present = presence(data)
    length = data.shape[1]
    if length < 1:
        raise ValueError(f"cannot take a window of a sequence of {length} frames")
    if length <= num_frames:
        start = 0
    elif train:
        if rng is None:
            raise ValueError("a training window needs a np.random.Generator")
        start = int(rng.integers(0, length - num_frames + 1))
    else:
        start = (length - num_frames) // 2
    idx = np.minimum(np.arange(start, start + num_frames), length - 1)  # (num_frames,)
    return np.ascontiguousarray(data[:, idx], dtype=np.float32), present[:, idx]


def rotation_matrix(angles: np.ndarray) -> np.ndarray:
    """(3, 3) rotation Rz @ Ry @ Rx for angles (ax, ay, az) in radians."""
    ax, ay, az = (float(a) for a in angles)
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def random_rotate(data: np.ndarray, max_angle: float, rng: np.random.Generator) -> np.ndarray:
    """Rotate the whole clip by one random rotation, angles U(-max_angle, max_angle) rad about x, y, z.

    C = 3: full 3D rotation; C = 2: the z angle in the image plane. Zeros (absent) stay zero.
    Returns a new float32 array of the same shape.
    """
    c = data.shape[-1]
    angles = rng.uniform(-max_angle, max_angle, size=3)
    if c == 3:
        rot = rotation_matrix(angles)
    elif c == 2:
        cz, sz = np.cos(angles[2]), np.sin(angles[2])
        rot = np.array([[cz, -sz], [sz, cz]])
    else:
        raise ValueError(f"rotation needs 2 or 3 coordinate channels, the data has C = {c}")
    return (data @ rot.T.astype(np.float32)).astype(np.float32, copy=False)  # (M, T, V, C)


def random_scale(data: np.ndarray, max_scale: float, rng: np.random.Generator) -> np.ndarray:
    """Scale each coordinate axis of the whole clip by its own factor U(1 - max_scale, 1 + max_scale): taller,
    shorter, broader bodies. Zeros (absent) stay zero. Returns a new float32 array of the same shape."""
    factors = rng.uniform(1.0 - max_scale, 1.0 + max_scale, size=data.shape[-1]).astype(np.float32)
    return (data * factors).astype(np.float32, copy=False)  # (M, T, V, C)


def facing_yaw(person: np.ndarray, pairs: tuple[tuple[int, int], ...]) -> float | None:
    """The turn about the vertical (y) axis, in radians, that makes one person (T, V, 3) face the camera: the
    mean of its right-minus-left vectors over `pairs` (hips, shoulders) and frames, in the ground plane, becomes
    +x. Only entries with both joints non-zero count (a hidden joint reads 0); None where none does."""
    lateral = np.zeros(3, dtype=np.float64)
    for left, right in pairs:
        a, b = person[:, left], person[:, right]  # (T, 3)
        both = a.any(-1) & b.any(-1)
        lateral += (b[both] - a[both]).sum(0)
    if np.hypot(lateral[0], lateral[2]) < 1e-6:
        return None
    return float(np.arctan2(lateral[2], lateral[0]))  # Ry(yaw) takes (x, z) onto (|(x, z)|, 0)


def face_front(data: np.ndarray, pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Turn the clip about the vertical (y) axis so that the first person faces the camera (`facing_yaw`).

    The camera's yaw is then the same for every recording (2s-AGCN's NTU pre-normalisation turns the shoulder
    line to x the same way); a cross-view test (NW-UCLA's view 3) no longer meets bodies turned as no training
    view showed them. With no usable pair, or with C != 3, the clip is returned unchanged. Zeros stay zero.
    data (M, T, V, C) -> new float32 array."""
    data = np.asarray(data, dtype=np.float32)
    if data.shape[-1] != 3 or not pairs:
        return data.copy()
    yaw = facing_yaw(data[0], pairs)
    if yaw is None:
        return data.copy()
    rot = rotation_matrix(np.array([0.0, yaw, 0.0])).astype(np.float32)
    return (data @ rot.T).astype(np.float32, copy=False)


def standardise(data: np.ndarray, present: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(x - mean) / std per channel; absent person-frames stay exactly 0. data (M, T, V, C)."""
    mean = np.asarray(mean, dtype=np.float32).reshape(-1)
    std = np.asarray(std, dtype=np.float32).reshape(-1)
    if mean.shape != (data.shape[-1],) or std.shape != (data.shape[-1],):
        raise ValueError(f"mean/std of shape {mean.shape}/{std.shape} do not match C = {data.shape[-1]}")
    if np.any(std <= 0):
        raise ValueError("std must be positive in every channel")
    out = (data - mean) / std  # (M, T, V, C)
    out[~present] = 0.0
    return out.astype(np.float32, copy=False)
