"""The standard NTU preprocessing (SPEC §2 steps 1-4): denoise bodies, assign actor slots, centre.

Same rules as the field's `get_raw_denoised_data.py` / `seq_transformation.py` (used by STTFormer, MAMP),
except that absent actors stay exactly 0 (the field's script subtracts the origin from them too).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

import numpy as np

from dcmae_core.data.ntu import Body, Skeleton
from dcmae_core.layout import NTU25, Layout

log = logging.getLogger(__name__)

MIN_BODY_FRAMES = 11  # with several bodies, one tracked for <= this many frames is noise
NOISY_SPREAD = 0.8  # a frame is noisy when x-range > NOISY_SPREAD * y-range of the body's joints
NOISY_RATIO = 0.69754  # a body with this share of noisy frames (or more) is dropped


@dataclass
class Preprocessed:
    data: np.ndarray  # (M, T, V, C) float32, M slots, centred, absent = exactly 0
    person_valid: np.ndarray  # (M,) bool
    present: np.ndarray  # (M, T) bool: that actor has data in that frame
    frame_index: np.ndarray  # (T,) int64: index of each kept frame in the original file
    actor_body_ids: list[int | None]  # body id in each slot (the first body put there; None = empty slot)
    origin: np.ndarray  # (3,) float64, the centre that was subtracted (metres)
    tracking: np.ndarray  # (M, T, V) int8 tracking state (0 where absent)
    # (M, T) int64: which entry of skel.bodies supplies each slot-frame, -1 where absent or a copied slot
    source: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))


def motion(xyz: np.ndarray) -> float:
    """Sum over x, y, z of the variance of all joint rows of a body; xyz (n, V, 3)."""
    return float(np.var(xyz.reshape(-1, 3), axis=0).sum())


def noisy_frames(xyz: np.ndarray) -> np.ndarray:
    """(n,) bool, frames whose joints spread wider in x than NOISY_SPREAD times in y; xyz (n, V, 3)."""
    x_range = np.ptp(xyz[..., 0], axis=1)  # (n,)
    y_range = np.ptp(xyz[..., 1], axis=1)  # (n,)
    return x_range > NOISY_SPREAD * y_range


def denoise_bodies(bodies: list[Body]) -> list[tuple[int, Body]]:
    """Apply the length and spread rules and rank by motion: [(index in `bodies`, body)], actor 1 first.

    Only applies when there are several bodies; never drops the last one.
    """
    cand = [(i, b) for i, b in enumerate(bodies) if len(b.frames) > 0]
    if len(cand) <= 1:
        return cand
    long_enough = [(i, b) for i, b in cand if len(b.frames) > MIN_BODY_FRAMES]
    if not long_enough:  # every body is short: keep the longest rather than lose the sample
        long_enough = [max(cand, key=lambda ib: len(ib[1].frames))]
    cand = long_enough
    score = {i: motion(b.xyz) for i, b in cand}
    kept = list(cand)
    for i, b in cand:
        if len(kept) == 1:
            break
        noisy = noisy_frames(b.xyz)
        if not noisy.any():
            continue
        if noisy.mean() >= NOISY_RATIO:
            kept = [(j, c) for j, c in kept if j != i]
        else:  # motion of the clean frames only, as the field's script does
            score[i] = min(score[i], motion(b.xyz[~noisy]))
    return sorted(kept, key=lambda ib: score[ib[0]], reverse=True)  # stable: ties keep file order


def assign_actors(ranked: list[tuple[int, Body]], num_persons: int) -> list[list[tuple[int, Body]]]:
    """Fill slots in ranking order: a body joins the first slot whose frame interval it does not overlap.

    Intervals are [first, last] frame, inclusive; a body that overlaps every slot is discarded.
    """
    slots: list[list[tuple[int, Body]]] = [[] for _ in range(num_persons)]
    spans: list[tuple[int, int] | None] = [None] * num_persons
    for i, b in ranked:
        start, end = int(b.frames[0]), int(b.frames[-1])
        for s in range(num_persons):
            span = spans[s]
            if span is None or max(span[0], start) > min(span[1], end):
                slots[s].append((i, b))
                spans[s] = (start, end) if span is None else (min(span[0], start), max(span[1], end))
                break
        else:
            log.debug("body %d overlaps every actor slot: discarded", b.body_id)
    return slots


def preprocess_skeleton(
    skel: Skeleton, layout: Layout = NTU25, num_persons: int = 2, copy_single_actor: bool = False
) -> Preprocessed:
    """Denoise, assign up to `num_persons` actor slots, drop empty frames, centre on layout.center.

    Raises ValueError when the file holds no usable body.
    """
    if num_persons < 1:
        raise ValueError(f"num_persons must be at least 1, got {num_persons}")
    v = layout.num_joints
    for b in skel.bodies:
        if b.xyz.shape[1:] != (v, 3):
            raise ValueError(f"body {b.body_id} has joints {b.xyz.shape[1:]}, layout {layout.name} needs ({v}, 3)")
    slots = assign_actors(denoise_bodies(skel.bodies), num_persons)
    if not slots[0]:
        raise ValueError(f"{skel.path or 'skeleton'}: no body with joint data")
    n = skel.num_frames
    full = np.zeros((num_persons, n, v, 3), np.float64)  # (M, T_file, V, 3)
    track = np.zeros((num_persons, n, v), np.int8)  # (M, T_file, V)
    source = np.full((num_persons, n), -1, np.int64)  # (M, T_file)
    for s, members in enumerate(slots):
        for i, b in members:
            full[s, b.frames] = b.xyz
            track[s, b.frames] = b.tracking
            source[s, b.frames] = i
    occupied = source >= 0  # (M, T_file)
    keep = np.flatnonzero(occupied.any(axis=0))  # frames where some actor is present
    full, track, source, present = full[:, keep], track[:, keep], source[:, keep], occupied[:, keep]
    origin = full[0, np.flatnonzero(present[0])[0], layout.center].copy()  # (3,) actor 1, first valid frame
    full[present] -= origin
    person_valid = present.any(axis=1)  # (M,)
    ids: list[int | None] = [members[0][1].body_id if members else None for members in slots]
    if copy_single_actor and num_persons > 1 and not person_valid[1]:
        full[1], track[1], present[1], person_valid[1] = full[0], track[0], present[0], True
        ids[1] = ids[0]  # source stays -1 there: restore_skeleton writes each body once
    return Preprocessed(
        data=full.astype(np.float32),
        person_valid=person_valid,
        present=present,
        frame_index=keep.astype(np.int64),
        actor_body_ids=ids,
        origin=origin,
        tracking=track,
        source=source,
    )


def body_rows(skel: Skeleton, pre: Preprocessed) -> list[tuple[int, int, int, int]]:
    """(slot s, kept frame f, body index in skel.bodies, row in that body's frames) for every actor slot and
    frame that came from a body of the file. Raises ValueError when skel and pre do not belong together."""
    m, t = pre.present.shape
    if pre.source.shape != (m, t):
        raise ValueError("this Preprocessed has no source map; make it with preprocess_skeleton")
    out = []
    for s, f in zip(*np.nonzero(pre.source >= 0), strict=True):
        k = int(pre.source[s, f])
        b = skel.bodies[k]
        row = int(np.searchsorted(b.frames, pre.frame_index[f]))
        if row >= len(b.frames) or b.frames[row] != pre.frame_index[f]:
            raise ValueError(f"body {b.body_id} has no frame {pre.frame_index[f]}: skeleton and Preprocessed differ")
        out.append((int(s), int(f), k, row))
    return out


def restore_skeleton(skel: Skeleton, pre: Preprocessed, data: np.ndarray) -> Skeleton:
    """A copy of skel with each kept actor's xyz replaced by data (M, T, V, >=3) + origin in the kept frames.

    Frames, bodies and every other field stay as they were, so the result can be written as a .skeleton
    file with the same frames (depth/colour projections are not recomputed).
    """
    m, t, v = pre.present.shape[0], pre.present.shape[1], pre.data.shape[2]
    data = np.asarray(data)
    if data.ndim != 4 or data.shape[:3] != (m, t, v) or data.shape[3] < 3:
        raise ValueError(f"data of shape {data.shape} does not match the preprocessed (M, T, V, 3) = {(m, t, v, 3)}")
    out = copy.deepcopy(skel)
    for s, f, k, row in body_rows(skel, pre):
        out.bodies[k].xyz[row] = data[s, f, :, :3].astype(np.float64) + pre.origin
    return out


def write_filled_file(
    path,
    skel: Skeleton,
    pre: Preprocessed,
    data: np.ndarray,
    filled: np.ndarray,
    about: dict,
    joint_names: list[str] | None = None,
):
    """Write `data` (M, T, V, 3) centred metres (the preprocessed sample's frames) back into the file `skel` it
    came from, as a .skeleton in which the joints where `filled` (M, T, V) bool is True take `data`, are marked
    not tracked and get projected pixels; every other number stays as the file had it (its digits, CRLF). A JSON
    sidecar (same name + .json) lists the filled entries with `about` (method, checkpoint); returns its path."""
    from dcmae_core.data import ntu_write

    filled = np.asarray(filled, bool)
    if data.shape[:3] != pre.data.shape[:3] or filled.shape != data.shape[:3]:
        raise ValueError(f"data {data.shape} / filled {filled.shape} do not match the sample {pre.data.shape}")
    full = np.array(pre.data, dtype=np.float32, copy=True)  # (M, T, V, C)
    full[..., :3] = data[..., :3]
    restored = restore_skeleton(skel, pre, full)
    per_body = [np.zeros(b.tracking.shape, bool) for b in skel.bodies]  # (n_k, V) per body of the file
    for s, f, k, row in body_rows(skel, pre):
        per_body[k][row] |= filled[s, f]
    return ntu_write.write_filled_skeleton(
        path, skel, [b.xyz for b in restored.bodies], per_body, dict(about), joint_names
    )
