"""Manual occlusion masks as pure numpy functions (1 = removed); shapes (M, T, V) bool.

Only joints of persons present in a frame are ever masked: a mask never marks absent data. Random masks
(the pretraining mask, missing joints, named occlusion patterns) are not made here: they are the core's
(`app.core_bridge.occlusion` / `mask_spec`), so that a seed in the app is the same seed in the CLI.
"""

from __future__ import annotations

import numpy as np


def _check_present(present: np.ndarray) -> np.ndarray:
    present = np.asarray(present, dtype=bool)
    if present.ndim != 2:
        raise ValueError(f"present must be (M, T) bool, got shape {present.shape}")
    return present


def part_mask(
    present: np.ndarray,
    num_joints: int,
    joints: list[int] | tuple[int, ...] | np.ndarray,
    frames: tuple[int, int] | None = None,
    persons: list[int] | None = None,
) -> np.ndarray:
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


def body_part_mask(spec: str, present: np.ndarray, num_joints: int, groups: dict[str, tuple[int, ...]]) -> np.ndarray:
    """Mask of body parts named on a command line ("left-arm", "left arm", several joined by "+") in every
    frame of every person. ValueError names what is valid."""
    names = {g.lower().replace(" ", "-"): g for g in groups}
    joints: list[int] = []
    for part in spec.strip().lower().split("+"):
        key = part.strip().replace(" ", "-").replace("_", "-")
        if key not in names:
            valid = ", ".join(sorted(names)) or "none in this layout"
            raise ValueError(
                f"unknown mask {part!r}: use a ratio in [0, 1], 'pretrain', an occlusion pattern "
                f"or a body part ({valid})"
            )
        joints.extend(groups[names[key]])
    return part_mask(present, num_joints, sorted(set(joints)))
