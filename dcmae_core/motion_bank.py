"""Fills of long hidden spans from recorded motion: a bank of real training clips, matched on the visible joints.

Linear interpolation draws a hidden wrist along a straight line between the frames where it was last and next
seen; for a second or two of a waving or throwing arm that line misses the swing. The bank holds the training
clips of real people (root-relative, turned to face the camera). For a both-sided hidden span, the windows of
the bank most like the query on every visible entry around and during the span (the rest of the body, the
limb's own ends) are found, and their own deviation from the same interpolation under the same mask is added to
the query's interpolation: the fill bends the way recorded limbs bent in the most similar recorded motions.

A safety check guards it: the same fill is made for the mirrored limb on the same frames (the right arm when the
left one is hidden), which is visible and so can be scored; where the bank's fill of that proxy is further off
than the interpolation (`proxy_ratio` times it; 1 by default), the span keeps the interpolation. And the bank must
hold motion like the query's: where the nearest windows are on average more than `MATCH_RMS` (12 cm) from the
query's visible entries, the span keeps the interpolation too. Together these keep the bank from hurting on motion
unlike its own (the NTU files, Kinect v2, and Kinder-Gator's motions, which the bank never saw:
docs/reconstruction.md); with the proxy check alone, the few spans that passed it by chance made 29 Kinder-Gator
takes' 1-2 s limb spans 14 % worse than without the bank. The interpolation is relative to the parent joint
(`baselines.interpolate_from_parent`), the same the model's fill gate keeps.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from dcmae_core.baselines import interpolate_from_parent, visible_neighbours
from dcmae_core.data.transforms import facing_yaw, rotation_matrix
from dcmae_core.layout import Layout

__all__ = ["OUTCOMES", "MotionBank", "describe_report"]

MIN_GAP = 8  # frames: shorter spans are left to interpolation (a few frames of a straight line are close enough)
CONTEXT = 4  # visible frames on each side of a span that the match also compares
NEIGHBOURS = 5  # bank windows averaged per span
PROXY_RATIO = 1.0  # the bank's proxy error at most this multiple of interpolation's, else interpolation
MATCH_RMS = 0.12  # metres: the nearest windows' root-mean-square distance to the query's visible entries, at most


def _runs(col: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the True runs of a (T,) bool array."""
    edges = np.diff(np.concatenate([[0], col.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _normalise(x: np.ndarray, visible: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, V, 3) -> (root-relative and turned to face the camera, root (T, 3), rotation (3, 3)); the root (the
    layout's centre joint) must be visible in every frame. Hidden entries are never read."""
    root = x[:, layout.center].copy()  # (T, 3)
    rel = np.where(visible[..., None], x - root[:, None], 0.0)
    yaw = facing_yaw(rel, layout.lateral_pairs)
    rot = rotation_matrix(np.array([0.0, yaw or 0.0, 0.0]))
    return rel @ rot.T, root, rot


def _pack(frames: np.ndarray) -> torch.Tensor:
    """(F, V, 3) -> uint8 tensor: the half floats' bit patterns, channel by channel, as differences from the
    previous frame (int16, wrapping), zlib-compressed. Lossless for the half floats; smooth motion makes the
    differences small, so they compress."""
    bits = frames.astype(np.float16).view(np.int16).reshape(len(frames), -1).T  # (V * 3, F)
    delta = np.diff(bits, axis=1, prepend=np.zeros((len(bits), 1), np.int16))  # int16 arithmetic wraps
    return torch.frombuffer(bytearray(zlib.compress(np.ascontiguousarray(delta).tobytes(), 9)), dtype=torch.uint8)


def _unpack(packed: torch.Tensor, shape: tuple[int, ...]) -> np.ndarray:
    """`_pack`'s inverse: (F, V, 3) float32."""
    raw = zlib.decompress(torch.as_tensor(packed, dtype=torch.uint8).numpy().tobytes())
    delta = np.frombuffer(raw, dtype=np.int16).reshape(-1, shape[0])
    bits = np.cumsum(delta, axis=1, dtype=np.int16)  # wraps back to the bit patterns
    return np.ascontiguousarray(bits.T).view(np.float16).reshape(shape).astype(np.float32)


class MotionBank:
    """Root-relative, front-facing frames of real clips (F, V, 3) with the clip boundaries (N + 1,)."""

    def __init__(
        self,
        frames: np.ndarray,
        bounds: np.ndarray,
        layout: Layout,
        neighbours: int = NEIGHBOURS,
        proxy_ratio: float = PROXY_RATIO,
    ) -> None:
        frames = np.asarray(frames, dtype=np.float32)
        bounds = np.asarray(bounds, dtype=np.int64)
        if frames.ndim != 3 or frames.shape[1:] != (layout.num_joints, 3):
            raise ValueError(f"motion bank frames {frames.shape} do not fit {layout.name} (F, {layout.num_joints}, 3)")
        if (
            bounds.ndim != 1
            or len(bounds) < 2
            or bounds[0] != 0
            or bounds[-1] != len(frames)
            or (np.diff(bounds) <= 0).any()
        ):
            raise ValueError("motion bank clip bounds must rise from 0 to the number of frames")
        if neighbours < 1 or proxy_ratio <= 0:
            raise ValueError("motion bank: neighbours must be >= 1 and proxy_ratio > 0")
        self.frames, self.bounds, self.layout = frames, bounds, layout
        self.neighbours, self.proxy_ratio = int(neighbours), float(proxy_ratio)
        self._flat = frames.reshape(len(frames), -1)  # (F, V * 3)
        self._sq = (frames**2).sum(-1)  # (F, V)
        self._clip_end = np.repeat(bounds[1:], np.diff(bounds))  # (F,) end of the clip each frame is in
        self._mirror = layout.mirror  # (V,) each joint's counterpart across the body

    @property
    def num_clips(self) -> int:
        return len(self.bounds) - 1

    # ------------------------------------------------------------------ making and storing
    @classmethod
    def from_clips(cls, clips: Iterable[np.ndarray], layout: Layout, **kwargs: Any) -> MotionBank:
        """A bank of single-person clips (T, V, 3) in metres with every joint visible in every frame (frames
        where a joint reads exactly 0 are dropped)."""
        parts = []
        for clip in clips:
            clip = np.asarray(clip, dtype=np.float32)
            if clip.ndim != 3 or clip.shape[1:] != (layout.num_joints, 3):
                raise ValueError(f"motion bank clip {clip.shape} does not fit {layout.name}")
            clip = clip[np.abs(clip).sum(-1).min(-1) > 0]  # frames with every joint seen
            if len(clip) >= 2 * CONTEXT + MIN_GAP:
                parts.append(_normalise(clip, np.ones(clip.shape[:2], bool), layout)[0].astype(np.float32))
        if not parts:
            raise ValueError("no clip long enough for a motion bank")
        bounds = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
        return cls(np.concatenate(parts), bounds, layout, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a checkpoint: the frames in half precision (~0.5 mm steps at a metre), packed without
        loss by `_pack` (a third smaller than the raw half floats)."""
        return {
            "frames_packed": _pack(self.frames),
            "frames_shape": list(self.frames.shape),
            "bounds": torch.from_numpy(self.bounds),
            "layout": self.layout.to_dict(),
            "neighbours": self.neighbours,
            "proxy_ratio": self.proxy_ratio,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MotionBank:
        try:
            if "frames_packed" in d:
                frames = _unpack(d["frames_packed"], tuple(int(n) for n in d["frames_shape"]))
            else:  # checkpoints written before the packing: raw half floats
                frames = torch.as_tensor(d["frames"]).float().numpy()
            bounds = torch.as_tensor(d["bounds"]).long().numpy()
            return cls(frames, bounds, Layout.from_dict(d["layout"]), int(d["neighbours"]), float(d["proxy_ratio"]))
        except (KeyError, TypeError, RuntimeError, ValueError, zlib.error) as exc:
            raise ValueError(f"the motion bank is unreadable: {exc}") from exc

    # ------------------------------------------------------------------ filling
    def _base(self, x: np.ndarray, removed: np.ndarray) -> np.ndarray:
        """Parent-relative interpolation of (..., T, V, 3)."""
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        rt = torch.from_numpy(np.array(removed, dtype=bool))
        return interpolate_from_parent(xt, rt, self.layout.parents).numpy()

    def _match(self, q: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, float]:
        """Start frames of the bank windows (len(q) frames inside one clip) nearest to q (L, V, 3) over its
        visible entries (squared distance), at most `neighbours` of them, and their root-mean-square distance
        per visible entry (metres)."""
        length = len(q)
        w = visible.astype(np.float32)  # (L, V)
        q = q.astype(np.float32)
        qw = (q * w[..., None]).reshape(length, -1)  # (L, V * 3)
        per_frame = self._sq @ w.T - 2.0 * (self._flat @ qw.T) + (w * (q**2).sum(-1)).sum(-1)  # (F, L)
        total = np.zeros(len(self.frames))
        for t in range(length):
            total[: len(total) - t] += per_frame[t:, t]
        starts = np.flatnonzero(np.arange(len(self.frames)) + length <= self._clip_end)
        if len(starts) == 0:
            return starts, float("inf")
        k = min(self.neighbours, len(starts))
        best = starts[np.argpartition(total[starts], k - 1)[:k]]
        return best, float(np.sqrt(max(total[best].mean(), 0.0) / max(w.sum(), 1.0)))

    def _fill_window(self, q: np.ndarray, removed: np.ndarray) -> np.ndarray | None:
        """Bank fill of window q (L, V, 3) under `removed` (L, V) in q's own coordinates; None if no window fits
        or the nearest ones are further than MATCH_RMS from q."""
        visible = ~removed
        qn, root, rot = _normalise(q, visible, self.layout)
        starts, rms = self._match(qn, visible)
        if len(starts) == 0 or rms > MATCH_RMS:
            return None
        wins = np.stack([self.frames[s : s + len(q)] for s in starts])  # (k, L, V, 3)
        deviation = (wins - self._base(wins, np.broadcast_to(removed, wins.shape[:3]))).mean(0)
        return (self._base(qn, removed) + deviation) @ rot + root[:, None]

    def fill(
        self, x: np.ndarray, removed: np.ndarray, max_gap: int, report: dict[str, int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One person's clip x (T, V, 3) metres with `removed` (T, V): (fill (T, V, 3), applied (T, V) bool), the
        fill valid where `applied`. Applied to runs of MIN_GAP..max_gap removed frames of a joint with visible
        frames on both sides, where the root joint is visible throughout the window, the mirrored limb's proxy
        passes and the bank holds motion near the query's (module docstring). `report`: where given, each such
        span is counted under one of OUTCOMES."""
        length = len(removed)
        prev, nxt = (n.numpy() for n in visible_neighbours(torch.from_numpy(np.array(removed, dtype=bool))))
        run = nxt - prev - 1  # (T, V) length of the hidden run an entry lies in
        target = removed & (prev >= 0) & (nxt < length) & (run >= MIN_GAP) & (run <= max_gap)
        out = np.zeros_like(x, dtype=np.float32)
        applied = np.zeros_like(removed)
        segments: list[list[int]] = []
        for s, e in _runs(target.any(1)):
            if segments and s - segments[-1][1] <= 2 * CONTEXT:
                segments[-1][1] = e
            else:
                segments.append([s, e])
        for s, e in segments:
            a, b = max(0, s - CONTEXT), min(length, e + CONTEXT)
            outcome = self._fill_segment(x[a:b], removed[a:b], target[a:b], out[a:b])
            if outcome == "filled":
                applied[a:b] |= target[a:b]
            if report is not None:
                report[outcome] = report.get(outcome, 0) + 1
        return out, applied

    def _fill_segment(self, q: np.ndarray, r: np.ndarray, m: np.ndarray, out: np.ndarray) -> str:
        """One window of `fill`: q (L, V, 3), removed r and target m (L, V); writes the fill into out (L, V, 3) at
        m and returns "filled", or the OUTCOMES key of why the window keeps interpolation."""
        if r[:, self.layout.center].any():
            return "unchecked"
        proxy = r.copy()
        for j in np.flatnonzero(m.any(0)):
            proxy[:, self._mirror[j]] |= m[:, j]
        scored = proxy & ~r  # mirrored entries hidden for the check, still known
        if not scored.any():
            return "unchecked"
        check = self._fill_window(q, proxy)
        if check is None:
            return "far"
        err_bank = np.linalg.norm(check - q, axis=-1)[scored].mean()
        err_interp = np.linalg.norm(self._base(q, proxy) - q, axis=-1)[scored].mean()
        if err_bank > self.proxy_ratio * err_interp:
            return "mirror"
        filled = self._fill_window(q, r)
        if filled is None:
            return "far"
        out[m] = filled[m]
        return "filled"


OUTCOMES = {
    "filled": "bent like recorded motion",
    "far": "no recorded motion close enough",
    "mirror": "it missed the mirrored limb",
    "unchecked": "spine or mirrored limb hidden too",
}


def describe_report(report: dict[str, int]) -> str:
    """One line for a user from `MotionBank.fill`'s report, e.g. 'motion bank: 1 hidden span bent like recorded
    motion; 2 kept interpolation (no recorded motion close enough: 2)'; empty when no span was considered."""
    total = sum(report.values())
    if not total:
        return ""
    filled = report.get("filled", 0)

    def spans(n: int) -> str:
        return f"{n} hidden span{'s' * (n != 1)}"

    parts = [f"{spans(filled)} {OUTCOMES['filled']}"] if filled else []
    kept = [f"{OUTCOMES[k]}: {n}" for k, n in report.items() if k != "filled" and n]
    if kept:  # after a filled count the noun is not repeated: "1 hidden span bent ...; 2 kept interpolation"
        n = total - filled
        parts.append(f"{n if filled else spans(n)} kept interpolation ({', '.join(kept)})")
    return "motion bank: " + "; ".join(parts)
