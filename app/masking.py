"""Occlusion masks as pure numpy functions (1 = removed), seeded; shapes (M, T, V) bool.

Only joints of persons present in a frame are ever masked: a mask never marks absent data.
"""

from __future__ import annotations

import numpy as np


def _check_present(present: np.ndarray) -> np.ndarray:
    present = np.asarray(present, dtype=bool)
    if present.ndim != 2:
        raise ValueError(f"present must be (M, T) bool, got shape {present.shape}")
    return present


def _check_ratio(name: str, ratio: float) -> float:
    ratio = float(ratio)
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {ratio}")
    return ratio


def empty_mask(present: np.ndarray, num_joints: int) -> np.ndarray:
    """(M, T, V) all False."""
    m, t = _check_present(present).shape
    return np.zeros((m, t, num_joints), dtype=bool)


def pretrain_mask(present: np.ndarray, num_joints: int, frame_ratio: float, joint_ratio: float,
                  seed: int) -> np.ndarray:
    """The paper's pretraining mask: drop a share Mt of the frames (all joints, all persons), then in
    every kept frame mask an independent random share Mj of the joints of each present person."""
    present = _check_present(present)
    _check_ratio("frame ratio Mt", frame_ratio)
    _check_ratio("joint ratio Mj", joint_ratio)
    rng = np.random.default_rng(seed)
    m, t = present.shape
    out = np.zeros((m, t, num_joints), dtype=bool)
    n_drop = int(round(frame_ratio * t))
    dropped = rng.permutation(t)[:n_drop]
    out[:, dropped, :] = True
    n_joint = int(round(joint_ratio * num_joints))
    ranks = np.argsort(rng.random((m, t, num_joints)), axis=-1)  # (M, T, V) random permutation per frame
    out |= ranks < n_joint
    return out & present[:, :, None]


def missing_joint_mask(present: np.ndarray, num_joints: int, ratio: float, seed: int) -> np.ndarray:
    """The missing-joint protocol: exactly round(r * n) of the n (person, frame, joint) entries of
    present persons, drawn uniformly with the seed."""
    present = _check_present(present)
    _check_ratio("missing-joint ratio r", ratio)
    rng = np.random.default_rng(seed)
    eligible = np.broadcast_to(present[:, :, None], present.shape + (num_joints,))  # (M, T, V)
    flat = np.flatnonzero(eligible)
    k = int(round(ratio * len(flat)))
    out = np.zeros(eligible.size, dtype=bool)
    out[rng.choice(flat, size=k, replace=False)] = True
    return out.reshape(eligible.shape)


def part_mask(present: np.ndarray, num_joints: int, joints: list[int] | tuple[int, ...] | np.ndarray,
              frames: tuple[int, int] | None = None, persons: list[int] | None = None) -> np.ndarray:
    """Mask the given joints in frames [start, stop) (all frames if None) of the given persons (all if
    None), where present."""
    present = _check_present(present)
    m, t = present.shape
    joints = np.asarray(joints, dtype=np.int64)
    if joints.size and (joints.min() < 0 or joints.max() >= num_joints):
        raise ValueError(f"joint index outside 0..{num_joints - 1}: {joints.tolist()}")
    start, stop = (0, t) if frames is None else frames
    if not 0 <= start < stop <= t:
        raise ValueError(f"frame range [{start}, {stop}) outside the sequence's 0..{t}")
    persons = list(range(m)) if persons is None else persons
    out = np.zeros((m, t, num_joints), dtype=bool)
    for p in persons:
        if not 0 <= p < m:
            raise ValueError(f"person {p} outside 0..{m - 1}")
        out[p, start:stop][:, joints] = True
    return out & present[:, :, None]


def invert_mask(mask: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Swap removed and kept among present entries."""
    present = _check_present(present)
    return ~np.asarray(mask, bool) & present[:, :, None]


def mask_from_spec(spec: str, present: np.ndarray, num_joints: int, groups: dict[str, tuple[int, ...]],
                   seed: int = 0, frame_ratio: float = 0.5, joint_ratio: float = 0.4) -> np.ndarray:
    """Mask from a command-line word: a body part ("left-arm", "left arm", several joined by "+"),
    a ratio ("0.1" = missing-joint protocol), or "pretrain" (Mt/Mj). ValueError names what is valid."""
    text = spec.strip().lower()
    if text == "pretrain":
        return pretrain_mask(present, num_joints, frame_ratio, joint_ratio, seed)
    try:
        ratio = float(text)
    except ValueError:
        ratio = None
    if ratio is not None:
        return missing_joint_mask(present, num_joints, ratio, seed)
    names = {g.lower().replace(" ", "-"): g for g in groups}
    joints: list[int] = []
    for part in text.split("+"):
        key = part.strip().replace(" ", "-").replace("_", "-")
        if key not in names:
            valid = ", ".join(sorted(names)) or "none in this layout"
            raise ValueError(f"unknown mask {part!r}: use a ratio in [0, 1], 'pretrain' "
                             f"or a body part ({valid})")
        joints.extend(groups[names[key]])
    return part_mask(present, num_joints, sorted(set(joints)))
