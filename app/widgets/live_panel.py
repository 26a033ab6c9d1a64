"""Live panel: pick a source (LSL stream, replayed file), start / stop, stride, record; the view follows the
stream at the display rate, missing joints are ghosts on the left and reconstructed (red) on the right."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.state import AppState, Sequence
from app.widgets.elided import ElidedLabel
from app.workers.live import DISPLAY_FRAMES, LiveSession, display_arrays, first_origin, list_streams

log = logging.getLogger(__name__)

DISPLAY_HZ = 15  # view updates per second while live


class LivePanel(QWidget):
    fit_requested = Signal()  # the first frames arrived: fit the views to them
    status_message = Signal(str)  # one-line status for the window's status bar

    def __init__(self, state: AppState, session: LiveSession, predictor: Callable[[], object | None],
                 layout_info: tuple[tuple[str, ...], tuple[int, ...], dict] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.session, self._predictor = state, session, predictor
        self._layout_info = layout_info
        self._origin: np.ndarray | None = None
        self._seq: Sequence | None = None
        self.last_top5: list[tuple[str, float]] = []
        self.ticks = 0
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        form = QFormLayout()
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.setMinimumContentsLength(18)
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.lineEdit().setPlaceholderText("lsl:NAME or replay:FILE.skeleton")
        find, replay = QPushButton("Find LSL streams"), QPushButton("Replay file…")
        find.clicked.connect(lambda: asyncio.ensure_future(self.find_streams()))
        replay.clicked.connect(self._pick_replay)
        src_row = QHBoxLayout()
        src_row.addWidget(find)
        src_row.addWidget(replay)
        self.stride = QSpinBox()
        self.stride.setRange(1, 300)
        self.stride.setValue(15)
        self.stride.setSuffix(" frames")
        form.addRow("Source", self.source)
        form.addRow("", src_row)
        form.addRow("Stride", self.stride)
        self.loop = QCheckBox("loop a replayed file")
        self.loop.setToolTip("A replay starts again from its first frame when it ends (a live stream has no end)")
        form.addRow("", self.loop)
        col.addLayout(form)
        row = QHBoxLayout()
        self.start_btn, self.stop_btn = QPushButton("Start live"), QPushButton("Stop")
        self.record_btn, self.save_btn = QPushButton("Record"), QPushButton("Save recording…")
        self.record_btn.setCheckable(True)
        self.start_btn.clicked.connect(lambda: self.start())
        self.stop_btn.clicked.connect(self.stop)
        self.record_btn.toggled.connect(self._on_record)
        self.save_btn.clicked.connect(self._save_dialog)
        for b in (self.start_btn, self.stop_btn):
            row.addWidget(b)
        rec_row = QHBoxLayout()  # two rows: the panel stays narrow enough for a laptop's right column
        for b in (self.record_btn, self.save_btn):
            rec_row.addWidget(b)
        col.addLayout(row)
        col.addLayout(rec_row)
        self.status = QLabel("stopped")
        self.status.setWordWrap(True)
        self.rate = QLabel("")
        self.rate.setWordWrap(True)  # a long source name wraps instead of widening the window
        for w in (self.status, self.rate):
            col.addWidget(w)
        # the top 5 as a grid (name | share): one row each, names elided, so rows never run into each other
        grid = QGridLayout()
        grid.setColumnStretch(0, 1)
        self.top_names = [ElidedLabel("", min_chars=10) for _ in range(5)]
        self.top_probs = [QLabel("") for _ in range(5)]
        for i, (name, prob) in enumerate(zip(self.top_names, self.top_probs, strict=True)):
            prob.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, i, 0)
            grid.addWidget(prob, i, 1)
        col.addLayout(grid)
        self.filled_note = QLabel("")
        self.filled_note.setWordWrap(True)
        col.addWidget(self.filled_note)
        col.addStretch(1)
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / DISPLAY_HZ))
        self.timer.timeout.connect(self.tick)
        session.status_changed.connect(self._on_status)
        session.running_changed.connect(self._on_running)
        self._on_running(False)

    # intents ------------------------------------------------------------------------------------------
    async def find_streams(self) -> list[str]:
        """Look for LSL Mocap streams off the GUI thread and offer them in the source box."""
        self.status.setText("looking for LSL streams…")
        with ThreadPoolExecutor(1) as pool:  # a plain thread that ends with the call (qasync's pool lingers)
            specs = await asyncio.get_event_loop().run_in_executor(pool, list_streams, 1.0)
        for spec in specs:
            if self.source.findText(spec) < 0:
                self.source.addItem(spec)
        if specs:
            self.source.setCurrentText(specs[0])
        self.status.setText(f"{len(specs)} LSL Mocap stream(s) found" if specs else "no LSL Mocap stream found")
        return specs

    def _pick_replay(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Replay a skeleton file", "", "NTU skeleton (*.skeleton)")
        if path:
            self.source.setCurrentText(f"replay:{path}")

    def start(self, spec: str | None = None, replay_fps: float = 30.0) -> bool:
        """Start the source; False (and a status) when it cannot be opened."""
        spec = (spec or self.source.currentText()).strip()
        if spec:
            self.source.setCurrentText(spec)
        predictor = self._predictor()
        try:
            self.session.start(spec, predictor, stride=self.stride.value(), replay_fps=replay_fps,
                               loop=self.loop.isChecked())
        except (RuntimeError, ValueError, OSError) as exc:  # LiveSourceError is a RuntimeError
            self.status.setText(f"cannot start: {exc}")
            self.status_message.emit(f"live: {exc}")
            return False
        self._origin, self._seq, self.ticks = None, None, 0
        self.state.set_error_colors(False)  # reconstructed joints in one distinct colour while live
        note = "" if predictor is not None else " (no model loaded: no recognition)"
        self.status.setText(f"{self.session.status}{note}")
        self.timer.start()
        return True

    def stop(self) -> None:
        self.timer.stop()
        self.session.stop()
        if self.record_btn.isChecked():
            self.record_btn.setChecked(False)

    def shutdown(self) -> None:
        self.timer.stop()
        self.session.stop()

    def _on_record(self, on: bool) -> None:
        if on:
            self.session.start_recording()

    def save_recording(self, path: str) -> bool:
        try:
            out = self.session.save_recording(path)
        except (ValueError, OSError) as exc:
            self.status.setText(f"cannot save the recording: {exc}")
            return False
        self.record_btn.setChecked(False)
        self.status.setText(f"recording saved: {out}")
        self.status_message.emit(f"recording saved: {out}")
        return True

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save recording", "live.skeleton", "NTU skeleton (*.skeleton)")
        if path:
            self.save_recording(path)

    # session -> panel ---------------------------------------------------------------------------------
    def _on_status(self, text: str) -> None:
        self.status.setText(text)

    def _on_running(self, on: bool) -> None:
        self.start_btn.setEnabled(not on)
        self.stop_btn.setEnabled(on)

    def tick(self) -> None:
        """Display-rate update: the newest frames into the app state (the views follow)."""
        snap = self.session.snapshot()
        if snap is None:
            return
        rec = f" · recording {self.session.recorded_frames()} frames" if self.session.recording else ""
        self.rate.setText(f"{self.session.description} · {snap.fps:.1f} fps · latency "
                          f"{1000 * snap.latency:.0f} ms (recognition +{1000 * snap.window_latency:.0f} ms)"
                          f" · {snap.count} frames{rec}")
        if snap.top5:
            self.show_top5(snap.top5, snap.filled_joints)
        if self._origin is None:
            self._origin = first_origin(snap)
            if self._origin is None:
                return
        data, present, missing, recon = display_arrays(snap, self._origin)
        self._feed(data, present, missing, recon, snap.top5, snap.filled_joints)
        self.ticks += 1

    def show_top5(self, top5: list[tuple[str, float]], filled_joints: int) -> None:
        """The recognised actions of the last window, one grid row each, and how many joints were filled."""
        self.last_top5 = list(top5)
        for i, (name, prob) in enumerate(zip(self.top_names, self.top_probs, strict=True)):
            n, p = top5[i] if i < len(top5) else ("", None)
            name.setText(n)
            prob.setText("" if p is None else f"{100 * p:5.1f} %")
        self.filled_note.setText(f"{filled_joints} joint positions reconstructed in the last window")

    def _feed(self, data, present, missing, recon, top5, filled) -> None:
        st = self.state
        m, length, v = data.shape[:3]
        if self._seq is None or st.sequence is not self._seq:
            names, parents, groups = self._layout_info or (tuple(f"j{i}" for i in range(v)),
                                                             tuple(range(-1, v - 1)), {})
            self._seq = Sequence("live", f"live: {self.session.description}",
                                 np.zeros((m, DISPLAY_FRAMES, v, 3), np.float32),
                                 np.ones((m, DISPLAY_FRAMES), bool), names, parents, dict(groups))
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
        full_mask = np.zeros((m, DISPLAY_FRAMES, v), bool)
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
