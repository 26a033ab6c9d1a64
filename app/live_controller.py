"""Live capture: starts and stops the session (`app/workers/live.py`), and at the display rate puts the newest
frames into the app state, so the views, the timeline and the Results dock follow the stream. A live frame
changes the sequence's data and mask in place and never goes on the undo stack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.state import AppState, Sequence
from app.workers.live import DISPLAY_FRAMES, LiveSession, display_arrays, first_origin, list_streams

log = logging.getLogger(__name__)

DISPLAY_HZ = 15  # view updates per second while live
LayoutInfo = tuple[tuple[str, ...], tuple[int, ...], dict]  # joint names, parents, body-part groups


class LiveController(QObject):
    """Owns the display timer and the live `Sequence`; reports to the panel through signals."""

    status = Signal(str)  # the panel's status line
    rate = Signal(str)  # source, frame rate, latency, frame count (and recording)
    top5 = Signal(list, int)  # recognised actions of the last window [(name, share)], joints filled
    streams_found = Signal(list)  # lsl:NAME specs
    running_changed = Signal(bool)
    recording_stopped = Signal()  # the panel's Record button goes off
    fit_requested = Signal()  # the first frames arrived: fit the views to them
    status_message = Signal(str)  # one-line status for the window's status bar

    def __init__(
        self,
        state: AppState,
        session: LiveSession,
        predictor: Callable[[], object | None],
        layout_info: LayoutInfo | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state, self.session, self._predictor = state, session, predictor
        self._layout_info = layout_info
        self._origin: np.ndarray | None = None
        self._seq: Sequence | None = None
        self.ticks = 0  # display updates since the start
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / DISPLAY_HZ))
        self.timer.timeout.connect(self.tick)
        session.status_changed.connect(self.status)
        session.running_changed.connect(self.running_changed)

    def attach(self, panel) -> None:
        """Wire a `LivePanel`: its intents to this controller, this controller's reports to its widgets."""
        panel.find_requested.connect(lambda: asyncio.ensure_future(self.find_streams()))
        panel.start_requested.connect(lambda spec, stride, loop: self.start(spec, stride=stride, loop=loop))
        panel.stop_requested.connect(self.stop)
        panel.record_requested.connect(self.session.start_recording)
        panel.save_requested.connect(self.save_recording)
        self.status.connect(panel.show_status)
        self.rate.connect(panel.show_rate)
        self.top5.connect(panel.show_top5)
        self.streams_found.connect(panel.offer_sources)
        self.running_changed.connect(panel.set_running)
        self.recording_stopped.connect(panel.end_recording)

    async def find_streams(self) -> list[str]:
        """Look for LSL Mocap streams off the GUI thread; the panel offers them as sources."""
        self.status.emit("looking for LSL streams…")
        with ThreadPoolExecutor(1) as pool:  # a plain thread that ends with the call (qasync's pool lingers)
            specs = await asyncio.get_event_loop().run_in_executor(pool, list_streams, 1.0)
        self.streams_found.emit(specs)
        self.status.emit(f"{len(specs)} LSL Mocap stream(s) found" if specs else "no LSL Mocap stream found")
        return specs

    def start(self, spec: str, stride: int = 15, loop: bool = False, replay_fps: float = 30.0) -> bool:
        """Start the source `spec` (lsl:NAME, replay:FILE, webcam:N); False (and a status) when it cannot be
        opened. Recognition runs every `stride` frames when a model is loaded; a replay with `loop` restarts."""
        spec = spec.strip()
        predictor = self._predictor()
        try:
            self.session.start(spec, predictor, stride=stride, replay_fps=replay_fps, loop=loop)
        except (RuntimeError, ValueError, OSError) as exc:  # LiveSourceError is a RuntimeError
            self.status.emit(f"cannot start: {exc}")
            self.status_message.emit(f"live: {exc}")
            return False
        self._origin, self._seq, self.ticks = None, None, 0
        self.state.set_error_colors(False)  # reconstructed joints in one distinct colour while live
        note = "" if predictor is not None else " (no model loaded: no recognition)"
        self.status.emit(f"{self.session.status}{note}")
        self.timer.start()
        return True

    def stop(self) -> None:
        self.timer.stop()
        self.session.stop()
        self.recording_stopped.emit()

    def shutdown(self) -> None:
        """Stop the timer and the reader thread (window close, test teardown)."""
        self.timer.stop()
        self.session.stop()

    def save_recording(self, path: str | Path) -> bool:
        try:
            out = self.session.save_recording(path)
        except (ValueError, OSError) as exc:
            self.status.emit(f"cannot save the recording: {exc}")
            return False
        self.recording_stopped.emit()
        self.status.emit(f"recording saved: {out}")
        self.status_message.emit(f"recording saved: {out}")
        return True

    def tick(self) -> None:
        """Display-rate update: the newest frames into the app state (the views follow)."""
        snap = self.session.snapshot()
        if snap is None:
            return
        rec = f" · recording {self.session.recorded_frames()} frames" if self.session.recording else ""
        self.rate.emit(
            f"{self.session.description} · {snap.fps:.1f} fps · latency "
            f"{1000 * snap.latency:.0f} ms (recognition +{1000 * snap.window_latency:.0f} ms)"
            f" · {snap.count} frames{rec}"
        )
        if snap.top5:
            self.top5.emit(list(snap.top5), int(snap.filled_joints))
        if self._origin is None:
            self._origin = first_origin(snap)
            if self._origin is None:
                return
        data, present, missing, recon = display_arrays(snap, self._origin)
        self.feed(data, present, missing, recon, snap.top5, snap.filled_joints)
        self.ticks += 1

    def feed(
        self,
        data: np.ndarray,
        present: np.ndarray,
        missing: np.ndarray,
        recon: np.ndarray,
        top5: list[tuple[str, float]],
        filled: int,
    ) -> None:
        """Show the last L frames: data (M, L, V, 3), present (M, L), missing (M, L, V), recon (M, L, V, 3), at
        the right end of a DISPLAY_FRAMES-long live sequence, the current frame its last."""
        st = self.state
        m, length, v = data.shape[:3]
        if self._seq is None or st.sequence is not self._seq:
            names, parents, groups = self._layout_info or (
                tuple(f"j{i}" for i in range(v)),
                tuple(range(-1, v - 1)),
                {},
            )
            self._seq = Sequence(
                "live",
                f"live: {self.session.description}",
                np.zeros((m, DISPLAY_FRAMES, v, 3), np.float32),
                np.ones((m, DISPLAY_FRAMES), bool),
                names,
                parents,
                dict(groups),
            )
            st.set_sequence(self._seq)
            self._seq.present[:] = False
            first = True
        else:
            first = False
        seq = self._seq
        pad = DISPLAY_FRAMES - length  # the buffer fills from the right
        seq.data[:, :pad] = 0.0
        seq.present[:, :pad] = False
        seq.data[:, pad:] = data
        seq.present[:, pad:] = present
        full_mask = np.zeros((m, DISPLAY_FRAMES, v), bool)  # (M, DISPLAY_FRAMES, V)
        full_mask[:, pad:] = missing
        st.set_mask(full_mask, undoable=False)  # a frame of the stream is no edit to undo
        if filled:
            full_recon = seq.data.copy()
            full_recon[:, pad:] = recon
            st.set_result(st.version, full_recon, {"reconstruction": top5})
        elif top5:
            st.set_result(st.version, None, {"masked": top5})
        st.frame = DISPLAY_FRAMES - 1
        st.frame_changed.emit(st.frame)
        if first:
            self.fit_requested.emit()
