"""The live reader: a thread that reads a dcmae_core.live source, runs online recognition and records.

The GUI polls `snapshot()` at its display rate (the reader never waits for the GUI); status changes and
recognised windows also arrive as signals (queued into the GUI thread).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

log = logging.getLogger(__name__)

DISPLAY_FRAMES = 90  # frames kept for the view (3 s at 30 fps)


@dataclass
class LiveSnapshot:
    raw: np.ndarray  # (L, M, V, 3) float32 camera-space metres, NaN = absent / missing
    filled: np.ndarray  # (L, M, V, 3) the reconstruction of those frames where one was made, else NaN
    count: int  # frames received so far
    fps: float  # received frames per second (last 2 s)
    latency: float  # seconds, source capture -> arrival here (last frame)
    status: str
    top5: list[tuple[str, float]] = field(default_factory=list)
    filled_joints: int = 0  # entries filled in the last window
    window_latency: float = 0.0  # seconds, last frame's arrival -> its recognition


class _Reader(QThread):
    def __init__(self, session: LiveSession, source: object, recognizer: object | None) -> None:
        super().__init__()
        self.session, self.source, self.recognizer = session, source, recognizer
        self.halt = threading.Event()

    def run(self) -> None:  # the worker thread
        s = self.session
        last = ""
        try:
            while not self.halt.is_set():
                frames = self.source.read(timeout=0.05)
                for f in frames:
                    s._add_frame(f)
                    if self.recognizer is not None:
                        try:
                            res = self.recognizer.push(f)
                        except Exception as exc:  # a bad window must not end the session
                            log.exception("recognition failed")
                            s.status_changed.emit(f"recognition failed: {exc}")
                            res = None
                        if res is not None:
                            s._add_result(res)
                if self.source.status != last:
                    last = self.source.status
                    s.status_changed.emit(last)
                if getattr(self.source, "finished", False):
                    break
        except Exception as exc:  # the GUI shows it; the app keeps running
            log.exception("live source failed")
            s.status_changed.emit(f"live source failed: {exc}")
        finally:
            try:
                self.source.close()
            except Exception:
                log.exception("closing the live source")


class LiveSession(QObject):
    """Start / stop a live source with optional recognition (a loaded Predictor); record to .skeleton."""

    status_changed = Signal(str)
    window_ready = Signal(list, int)  # top-5 [(action, prob)], joints filled
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader: _Reader | None = None
        self._lock = threading.Lock()
        self._frames: deque[tuple[np.ndarray, np.ndarray | None]] = deque(maxlen=DISPLAY_FRAMES)
        self._arrivals: deque[float] = deque(maxlen=120)
        self._recorder = None
        self.count = 0
        self.latency = 0.0
        self.last_result = None
        self.description = ""
        self.status = "stopped"
        self.status_changed.connect(self._set_status)

    @property
    def running(self) -> bool:
        return self._reader is not None and self._reader.isRunning()

    def _set_status(self, text: str) -> None:
        self.status = text

    def start(
        self,
        spec: str,
        predictor: object | None = None,
        stride: int = 15,
        window: int | None = None,
        replay_fps: float = 30.0,
        loop: bool = False,
    ) -> None:
        """Open `spec` (lsl:NAME, replay:FILE, webcam:N) now; raises LiveSourceError / ValueError if it cannot.
        A replay plays at `replay_fps` and, with `loop`, starts again when it ends."""
        from dcmae_core.live import OnlineRecognizer, open_source

        self.stop()
        kwargs = {"fps": replay_fps, "loop": loop} if spec.startswith("replay:") else {}
        source = open_source(spec, **kwargs)
        recognizer = (
            OnlineRecognizer(predictor, window=window, stride=stride, layout=source.layout)
            if predictor is not None
            else None
        )
        source.open()  # in the caller's thread: the errors (no stream, bad channels) go straight to the user
        with self._lock:
            self._frames.clear()
            self._arrivals.clear()
            self.count, self.last_result = 0, None
        self.description = source.description
        self.status = source.status
        self._reader = _Reader(self, source, recognizer)
        self._reader.finished.connect(lambda: self.running_changed.emit(False))
        self._reader.start()
        self.running_changed.emit(True)

    def stop(self, timeout_ms: int = 5000) -> None:
        """Stop the reader thread and wait for it (call on close and in test teardown)."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.halt.set()
            if not reader.wait(timeout_ms):
                log.error("the live reader did not stop within %d ms", timeout_ms)
            self.running_changed.emit(False)

    # called in the reader thread --------------------------------------------------------------------
    def _add_frame(self, frame: object) -> None:
        with self._lock:
            self._frames.append((frame.xyz, None))
            self._arrivals.append(frame.received)
            self.count += 1
            self.latency = frame.latency
            if self._recorder is not None:
                self._recorder.add(frame)

    def _add_result(self, res: object) -> None:
        w = res.window.shape[1]  # (M, W, V, 3)
        with self._lock:
            n = len(self._frames)
            lag = self.count - res.index  # frames that arrived after this window closed
            for k in range(w):
                i = n - lag - w + k
                if 0 <= i < n and res.filled:
                    self._frames[i] = (self._frames[i][0], res.window[:, k])
            self.last_result = res
        self.window_ready.emit(list(res.top5), int(res.filled))

    # called in the GUI thread ---------------------------------------------------------------------
    def snapshot(self) -> LiveSnapshot | None:
        with self._lock:
            if not self._frames:
                return None
            raw = np.stack([f for f, _ in self._frames])  # (L, M, V, 3)
            filled = np.stack([np.full_like(f, np.nan) if g is None else g for f, g in self._frames])
            span = self._arrivals[-1] - self._arrivals[0] if len(self._arrivals) > 1 else 0.0
            fps = (len(self._arrivals) - 1) / span if span > 0 else 0.0
            res = self.last_result
        return LiveSnapshot(
            raw,
            filled,
            self.count,
            fps,
            self.latency,
            self.status,
            list(res.top5) if res else [],
            int(res.filled) if res else 0,
            float(res.latency) if res else 0.0,
        )

    def start_recording(self) -> None:
        from dcmae_core.live import Recorder

        with self._lock:
            self._recorder = Recorder()

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    def recorded_frames(self) -> int:
        with self._lock:
            return len(self._recorder) if self._recorder is not None else 0

    def save_recording(self, path: str | Path) -> Path:
        """Stop recording and write the frames as an NTU .skeleton file (raises ValueError if empty)."""
        with self._lock:
            rec, self._recorder = self._recorder, None
        if rec is None:
            raise ValueError("not recording: press Record first")
        return rec.save(path)


def list_streams(timeout: float = 1.0) -> list[str]:
    """`lsl:NAME` specs of the Mocap streams on the network (blocks up to `timeout`; run it off the GUI)."""
    from dcmae_core.live import list_lsl_streams

    return [s.spec() for s in list_lsl_streams(timeout=timeout)]


def display_arrays(snap: LiveSnapshot, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the views draw: (data (M, L, V, 3) finite, present (M, L), missing (M, L, V), recon (M, L, V, 3)),
    centred on `origin` (3,). Missing joints hold their last seen position in `data` (drawn as ghosts);
    `recon` has the reconstruction there where one was made."""
    raw = np.moveaxis(snap.raw, 0, 1) - origin  # (M, L, V, 3)
    filled = np.moveaxis(snap.filled, 0, 1) - origin  # (M, L, V, 3)
    finite = np.isfinite(raw).all(axis=-1)  # (M, L, V)
    present = finite.any(axis=2)  # (M, L)
    missing = ~finite & present[:, :, None]  # (M, L, V)
    t_idx = np.where(finite, np.arange(raw.shape[1])[None, :, None], 0)  # (M, L, V)
    last = np.maximum.accumulate(t_idx, axis=1)  # (M, L, V) last frame where the joint was seen
    held = np.take_along_axis(raw, last[..., None], axis=1)  # (M, L, V, 3)
    seen = finite[..., None]  # (M, L, V, 1)
    centre = np.where(seen, raw, 0.0).sum(axis=2, keepdims=True) / np.maximum(seen.sum(axis=2, keepdims=True), 1)
    held = np.where(np.isfinite(held), held, np.nan_to_num(centre))
    data = np.where(finite[..., None], raw, held)
    data[~present] = 0.0
    recon = np.where(missing[..., None] & np.isfinite(filled), filled, data)
    return data.astype(np.float32), present, missing, recon.astype(np.float32)


def first_origin(snap: LiveSnapshot, center: int = 1) -> np.ndarray | None:
    """(3,) the centre joint of the first person in the first frame where it is tracked (None: nobody yet)."""
    finite = np.isfinite(snap.raw).all(axis=-1)  # (L, M, V)
    hits = np.argwhere(finite[:, :, center])
    if len(hits) == 0:
        return None
    t, m = hits[0]
    return snap.raw[t, m, center].astype(np.float32)


def ntu25_layout_info() -> tuple[tuple[str, ...], tuple[int, ...], dict[str, tuple[int, ...]]]:
    """Joint names, parents and body-part groups of NTU-25 (what live frames are) for the app's Sequence."""
    from dcmae_core.layout import NTU25

    return tuple(NTU25.joint_names), tuple(NTU25.parents), dict(NTU25.groups)
