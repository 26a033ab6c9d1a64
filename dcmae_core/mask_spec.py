"""Masks from a short text spec, for `reconstruct --mask` and scripts.

Items are joined by ';' and combined:
  occlusion:R         the missing-joint protocol: a random share R of (frame, joint) entries of present persons
  random:MT,MJ        the pretraining mask: drop MT of the frames, then MJ of the joints in every kept frame
  NAME[:ARGS]         a named occlusion pattern of dcmae_core/occlusion.py: random:R (= occlusion:R),
                      limb_span[:A-B], frame_burst[:K,A-B], limb_clip, lower_body, person_part
  part:NAME[,NAME]    body parts of the layout (e.g. "part:left arm,right leg")
  joints:J[,J]        joints by 1-based index (NTU numbering)
  frames:A-B          restrict to frames A..B (0-based, inclusive); alone, it removes every joint there
  person:P            restrict to person P (1-based)

Random items draw, in order, from one CPU generator seeded with `seed`: a spec holding one pattern gives
exactly `occlusion_mask(NAME, ...)` with `torch.Generator().manual_seed(seed)`, the app's mask for that seed.
"""

from __future__ import annotations

import numpy as np
import torch

from dcmae_core.layout import Layout
from dcmae_core.model.masking import missing_joint_mask, spatiotemporal_mask
from dcmae_core.occlusion import PATTERNS, occlusion_mask


class MaskSpecError(ValueError):
    pass


def parse_mask_spec(
    spec: str, present: np.ndarray, layout: Layout, seed: int = 0, fps: float = 30.0, x: np.ndarray | None = None
) -> np.ndarray:
    """present (M, T) bool -> removed (M, T, V) bool (only where persons are present).

    fps: frames per second, for the patterns' seconds; x: (M, T, V, C) joint positions in metres, needed by
    the person_part pattern only."""
    m, t = present.shape
    v = layout.num_joints
    joints = np.zeros(v, dtype=bool)
    frames = np.ones(t, dtype=bool)
    persons = np.ones(m, dtype=bool)
    random_part = np.zeros((m, t, v), dtype=bool)
    has_joints = has_random = has_frames = False
    g = torch.Generator().manual_seed(int(seed))
    items = [s.strip() for s in spec.split(";") if s.strip()]
    if not items:
        raise MaskSpecError("the mask spec is empty: give at least one item, e.g. occlusion:0.1 or part:left arm")
    for item in items:
        kind, _, arg = item.partition(":")
        kind = kind.strip().lower()
        try:
            if kind == "occlusion":
                ratio = float(arg)
                pm = torch.from_numpy(present[None])  # (1, M, T)
                random_part |= missing_joint_mask(pm, v, ratio, g)[0].numpy()
                has_random = True
            elif kind in PATTERNS and not (kind == "random" and "," in arg):
                pm = torch.from_numpy(np.ascontiguousarray(present, dtype=bool)[None])  # (1, M, T)
                xt = None if x is None else torch.from_numpy(np.asarray(x, dtype=np.float32)[None])  # (1, M, T, V, C)
                random_part |= occlusion_mask(item, pm, layout, g, fps=fps, x=xt)[0].numpy()
                has_random = True
            elif kind == "random":
                mt, mj = (float(a) for a in arg.split(","))
                random_part |= spatiotemporal_mask(m, t, v, mt, mj, tuple_len=1, generator=g).removed.numpy()
                has_random = True
            elif kind == "part":
                joints |= layout.group_mask([p.strip() for p in arg.split(",") if p.strip()])
                has_joints = True
            elif kind == "joints":
                idx = [int(j) - 1 for j in arg.split(",") if j.strip()]
                if any(not 0 <= j < v for j in idx):
                    raise MaskSpecError(f"joint numbers must lie in 1..{v}")
                joints[idx] = True
                has_joints = True
            elif kind == "frames":
                a, _, b = arg.partition("-")
                lo, hi = int(a), int(b or a)
                if not 0 <= lo <= hi or lo >= t:
                    raise MaskSpecError(
                        f"frames {arg!r} must be A-B with 0 <= A <= B and A below the clip's {t} "
                        f"frames (0-based, inclusive)"
                    )
                frames = np.zeros(t, dtype=bool)
                frames[max(lo, 0) : min(hi, t - 1) + 1] = True
                has_frames = True
            elif kind == "person":
                p = int(arg) - 1
                if not 0 <= p < m:
                    raise MaskSpecError(f"person must lie in 1..{m}")
                persons = np.zeros(m, dtype=bool)
                persons[p] = True
            else:
                raise MaskSpecError(
                    f"unknown mask item {kind!r}; use occlusion, random, part, joints, frames, "
                    f"person or a pattern ({', '.join(PATTERNS)})"
                )
        except (KeyError, ValueError) as exc:
            if isinstance(exc, MaskSpecError):
                raise
            raise MaskSpecError(f"bad mask item {item!r}: {exc}") from exc
    if has_joints:
        sel = np.broadcast_to(joints, (m, t, v)).copy()
    elif has_frames and not has_random:
        sel = np.ones((m, t, v), dtype=bool)
    else:
        sel = np.zeros((m, t, v), dtype=bool)
    sel |= random_part
    sel &= frames[None, :, None] & persons[:, None, None] & present[:, :, None]
    return sel
