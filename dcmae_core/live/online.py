"""Online recognition on a sliding window of live frames, with the missing joints reconstructed; recording.

Every `stride` frames the last `window` frames are centred as preprocessing does (joint 2 of actor 1 in
the window's first valid frame), the joints the source reports missing (NaN) are filled by the model's
reconstruction (`Predictor.reconstruct` with them as `removed`), and the filled window is classified.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dcmae_core.layout import NTU25, Layout
from dcmae_core.live.sources import LiveFrame


@dataclass
class WindowResult:
    index: int  # frames received when this window closed
    time: float  # capture time of the window's last frame (source clock, seconds)
    top5: list[tuple[str, float]]  # (action, probability), best first; empty without a classifier
    filled: int  # (frame, joint) entries reconstructed in this window
    missing: np.ndarray  # (M, W, V) bool, joints the source reported missing in present persons
    window: np.ndarray  # (M, W, V, 3) float32 camera-space metres, missing joints filled (NaN if not)
    present: np.ndarray  # (M, W) bool
    latency: float  # seconds from the last frame's arrival to this result
    compute: float  # seconds spent in the model
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time": round(self.time, 4),
            "filled": self.filled,
            "persons": int(self.present.any(axis=1).sum()),
            "top5": [{"action": n, "prob": round(p, 5)} for n, p in self.top5],
            "latency_s": round(self.latency, 4),
            "compute_s": round(self.compute, 4),
            "notes": self.notes,
        }


def centre_window(
    xyz: np.ndarray, center: int = NTU25.center
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Centre a live window like preprocessing: subtract `center` joint of actor 1 in its first valid frame.

    xyz (M, W, V, 3) metres with NaN. Returns (data (M, W, V, 3) centred with absent persons and missing
    joints exactly 0, present (M, W) bool, missing (M, W, V) bool, origin (3,) or None when nobody is there).
    When that joint is itself missing, the first frame of actor 1 where it is tracked gives the origin;
    failing that, the mean of actor 1's tracked joints in its first valid frame. If actor 1's slot is
    empty, the first person present takes its role.
    """
    xyz = np.asarray(xyz, dtype=np.float32)
    finite = np.isfinite(xyz).all(axis=-1)  # (M, W, V)
    present = finite.any(axis=2)  # (M, W)
    missing = ~finite & present[:, :, None]  # (M, W, V)
    data = np.where(finite[..., None], xyz, 0.0).astype(np.float32)  # (M, W, V, 3)
    people = np.flatnonzero(present.any(axis=1))
    if len(people) == 0:
        return data, present, missing, None
    actor = int(people[0])
    frames = np.flatnonzero(present[actor])
    tracked = np.flatnonzero(finite[actor, :, center])
    if len(tracked) and tracked[0] == frames[0]:
        origin = xyz[actor, frames[0], center]
    elif len(tracked):
        origin = xyz[actor, tracked[0], center]
    else:
        origin = xyz[actor, frames[0]][finite[actor, frames[0]]].mean(axis=0)
    data = np.where(finite[..., None], data - origin, 0.0).astype(np.float32)  # (M, W, V, 3)
    return data, present, missing, origin.astype(np.float32)


class OnlineRecognizer:
    """Feed frames with `push`; every `stride` frames (once `window` have arrived) it returns a result.

    predictor: a `dcmae_core.inference.Predictor` (or anything with its num_persons, num_frames, layout,
    reconstruct, classify, top_k, dcmae and classifier). window defaults to the checkpoint's num_frames.
    """

    def __init__(
        self,
        predictor: Any,
        window: int | None = None,
        stride: int = 15,
        reconstruct: bool = True,
        top_k: int = 5,
        layout: Layout | None = None,
    ) -> None:
        self.predictor = predictor
        self.window = int(window or predictor.num_frames)
        if self.window < 2:
            raise ValueError(f"the recognition window must hold at least 2 frames, got {self.window}")
        if stride < 1:
            raise ValueError(f"the stride must be at least 1 frame, got {stride}")
        self.stride, self.reconstruct, self.top_k = int(stride), reconstruct, top_k
        self.layout: Layout = layout or predictor.layout  # the stream's skeleton (mapped onto the model's)
        self.num_persons = int(predictor.num_persons)
        self._buf: deque[LiveFrame] = deque(maxlen=self.window)
        self.count = 0  # frames pushed so far
        self._since = 0  # frames since the last window

    def reset(self) -> None:
        self._buf.clear()
        self.count = self._since = 0

    def _fit(self, xyz: np.ndarray) -> np.ndarray:
        """(M_in, V, 3) -> (M, V, 3): cut or pad (NaN = absent) the person axis to the model's M."""
        v = self.layout.num_joints
        if xyz.ndim != 3 or xyz.shape[1:] != (v, 3):
            raise ValueError(f"a live frame must be (M, {v}, 3) for {self.layout.name}, got {xyz.shape}")
        out = np.full((self.num_persons, v, 3), np.nan, np.float32)
        k = min(self.num_persons, xyz.shape[0])
        out[:k] = xyz[:k]
        nobody = np.nan_to_num(out).any(axis=(1, 2)) == 0  # (M,) all zeros: a bridge's "nobody in view"
        out[nobody] = np.nan
        return out

    def push(self, frame: LiveFrame) -> WindowResult | None:
        self._buf.append(LiveFrame(self._fit(frame.xyz), frame.timestamp, frame.latency, frame.received))
        self.count += 1
        self._since += 1
        if len(self._buf) < self.window or self._since < self.stride:
            return None
        self._since = 0
        return self.recognise()

    def recognise(self) -> WindowResult:
        """Recognise the frames in the buffer now (fewer than `window` is allowed)."""
        start = time.perf_counter()
        frames = list(self._buf)
        xyz = np.stack([f.xyz for f in frames], axis=1)  # (M, W, V, 3)
        data, present, missing, origin = centre_window(xyz, self.layout.center)
        p = self.predictor
        notes: list[str] = []
        filled = data
        n_filled = 0
        if origin is None:
            notes.append("no person in view")
        elif missing.any() and self.reconstruct and getattr(p, "dcmae", True) is not None:
            filled = p.reconstruct(data, missing, layout=self.layout)
            n_filled = int(missing.sum())
        elif missing.any():
            notes.append("missing joints not reconstructed")
        top: list[tuple[str, float]] = []
        if origin is not None and getattr(p, "classifier", True) is not None:
            removed = None if filled is not data else missing
            top = p.top_k(p.classify(filled, removed, layout=self.layout), self.top_k)
        elif origin is not None:
            notes.append("this checkpoint has no classifier")
        out = np.where(present[..., None, None], filled + (origin if origin is not None else 0.0), np.nan)
        if n_filled == 0:
            out[missing] = np.nan
        done = time.perf_counter()
        return WindowResult(
            self.count,
            frames[-1].timestamp,
            top,
            n_filled,
            missing,
            out.astype(np.float32),
            present,
            done - frames[-1].received,
            done - start,
            notes,
        )


class Recorder:
    """Collects live frames and writes them as an NTU `.skeleton` file (missing joints: 0, not tracked)."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []  # each (M, V, 3) float32 with NaN

    def add(self, frame: LiveFrame) -> None:
        self.frames.append(np.asarray(frame.xyz, np.float32).copy())

    def __len__(self) -> int:
        return len(self.frames)

    def save(self, path: str | Path) -> Path:
        """Write the recording (frames with nobody in view are kept as frames with no body)."""
        from dcmae_core.data.ntu import skeleton_from_arrays, write_skeleton

        if not self.frames:
            raise ValueError("nothing recorded: no frame arrived while recording")
        m = max(f.shape[0] for f in self.frames)
        xyz = np.full((m, len(self.frames), *self.frames[0].shape[1:]), np.nan, np.float32)  # (M, T, V, 3)
        for t, f in enumerate(self.frames):
            xyz[: f.shape[0], t] = f
        finite = np.isfinite(xyz).all(axis=-1)  # (M, T, V)
        present = finite.any(axis=2)  # (M, T)
        if not present.any():
            raise ValueError(f"nothing to save: nobody was in view in the {len(self.frames)} recorded frames")
        tracking = np.where(finite, 2, 0).astype(np.int8)  # (M, T, V)
        skel = skeleton_from_arrays(np.where(finite[..., None], xyz, 0.0), present, tracking=tracking)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_skeleton(path, skel)
        return path
