"""Timeline: a painted strip (playhead, in/out range, masked share and error per frame) and transport."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QPushButton, QStyle, QVBoxLayout, QWidget

from app.state import FPS, AppState
from app.widgets.elided import ElidedLabel

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)


class TimelineBar(QWidget):
    """Click/drag seeks; Shift+drag selects a frame range (for masking and the loop range)."""

    seek_requested = Signal(int)
    range_selected = Signal(int, int)  # [start, stop) frames

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setMinimumHeight(54)
        self.frame_error: np.ndarray | None = None  # (T,) cm, NaN where nothing is masked
        self._drag_from: int | None = None
        self._drag_to: int | None = None
        for sig in (state.frame_changed, state.mask_changed, state.display_changed, state.sequence_changed):
            sig.connect(self.update)

    def set_frame_error(self, err: np.ndarray | None) -> None:
        self.frame_error = err
        self.update()

    def _frames(self) -> int:
        return self.state.sequence.num_frames if self.state.sequence is not None else 0

    def frame_at(self, x: float) -> int:
        t = self._frames()
        if t == 0:
            return 0
        return int(np.clip(np.floor(x / max(self.width(), 1) * t), 0, t - 1))

    def x_of(self, frame: float) -> float:
        return frame / max(self._frames(), 1) * self.width()

    def paintEvent(self, _ev) -> None:  # Qt override
        p = QPainter(self)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), QColor(34, 36, 42))
        t = self._frames()
        if t == 0:
            p.end()
            return
        st = self.state
        a, b = st.in_out
        p.fillRect(QRectF(self.x_of(a), 0, self.x_of(b) - self.x_of(a), h), QColor(60, 66, 80))
        # masked share per frame: orange bars in the lower half
        share = st.mask.mean(axis=(0, 2)) if st.mask.size else np.zeros(t)  # (T,)
        fw = w / t
        for i in np.flatnonzero(share > 0):
            bh = max(2.0, share[i] * h * 0.5)
            p.fillRect(QRectF(i * fw, h - bh, max(fw, 1.0), bh), QColor(235, 140, 40, 200))
        # per-frame error curve (upper half), scaled to its maximum
        err = self.frame_error
        if err is not None and len(err) == t and np.isfinite(err).any():
            top = np.nanmax(err)
            pts = [
                QPointF((i + 0.5) * fw, h * 0.5 - (e / max(top, 1e-9)) * h * 0.45)
                for i, e in enumerate(err)
                if np.isfinite(e)
            ]
            pen = QPen(QColor(120, 220, 255))
            pen.setWidthF(1.5)
            p.setPen(pen)
            p.drawPolyline(QPolygonF(pts))
        if self._drag_from is not None and self._drag_to is not None:
            lo, hi = sorted((self._drag_from, self._drag_to))
            sel = QRectF(self.x_of(lo), 0, self.x_of(hi + 1) - self.x_of(lo), h)
            p.fillRect(sel, QColor(255, 255, 255, 50))
        x = self.x_of(st.frame + 0.5)
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.drawLine(QPointF(x, 0), QPointF(x, h))
        p.end()

    def mousePressEvent(self, ev) -> None:
        f = self.frame_at(ev.position().x())
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._drag_from = self._drag_to = f
        else:
            self.seek_requested.emit(f)
        self.update()

    def mouseMoveEvent(self, ev) -> None:
        f = self.frame_at(ev.position().x())
        if self._drag_from is not None:
            self._drag_to = f
        else:
            self.seek_requested.emit(f)
        self.update()

    def mouseReleaseEvent(self, _ev) -> None:
        if self._drag_from is not None and self._drag_to is not None:
            lo, hi = sorted((self._drag_from, self._drag_to))
            self.range_selected.emit(lo, hi + 1)
        self._drag_from = self._drag_to = None
        self.update()


class TimelineWidget(QWidget):
    """Bar plus transport: step ±1/±10, play/pause, speed, loop over the in/out range, frame/time label."""

    step_requested = Signal(int)
    play_toggled = Signal(bool)
    speed_changed = Signal(float)
    loop_toggled = Signal(bool)
    set_in_requested = Signal()
    set_out_requested = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.bar = TimelineBar(state, self)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in (
            ("-10", "−10", "Back 10 frames (Shift+Left)"),
            ("-1", "◀", "Back 1 frame (Left)"),
            ("play", "", "Play / pause (Space)"),
            ("+1", "▶|", "Forward 1 frame (Right)"),
            ("+10", "+10", "Forward 10 frames (Shift+Right)"),
        ):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.setFixedWidth(40)
            row.addWidget(b)
            self.buttons[key] = b
        self.buttons["play"].setCheckable(True)
        # the style's icons: the fonts here have no pause glyph (U+23F8 drew an empty box)
        self._icons = {
            on: self.style().standardIcon(
                QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay
            )
            for on in (False, True)
        }
        self.buttons["play"].setIcon(self._icons[False])
        for key in ("-10", "-1", "+1", "+10"):
            self.buttons[key].clicked.connect(lambda _=False, k=key: self.step_requested.emit(int(k)))
        self.buttons["play"].toggled.connect(self._on_play)
        self.speed = QComboBox()
        self.speed.addItems([f"{s:g}×" for s in SPEEDS])
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed")
        self.speed.currentIndexChanged.connect(lambda i: self.speed_changed.emit(SPEEDS[i]))
        self.loop = QCheckBox("Loop in/out")
        self.loop.setChecked(True)
        self.loop.toggled.connect(self.loop_toggled)
        set_in, set_out = QPushButton("In [I]"), QPushButton("Out [O]")
        for b in (set_in, set_out):  # narrower than a push button's usual 80 px minimum
            b.setMinimumWidth(b.fontMetrics().horizontalAdvance(b.text()) + 16)
        set_in.clicked.connect(self.set_in_requested)
        set_out.clicked.connect(self.set_out_requested)
        self.label = ElidedLabel(min_chars=12)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for wdg in (self.speed, self.loop, set_in, set_out):
            row.addWidget(wdg)
        row.addWidget(self.label, 1)
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 2, 4, 2)
        col.addWidget(self.bar)
        col.addLayout(row)
        state.frame_changed.connect(self._update_label)
        state.display_changed.connect(self._update_label)
        state.sequence_changed.connect(self._update_label)

    def _on_play(self, on: bool) -> None:
        self.buttons["play"].setIcon(self._icons[on])
        self.play_toggled.emit(on)

    def set_playing(self, on: bool) -> None:
        """Reflect the player's state without re-emitting."""
        b = self.buttons["play"]
        b.blockSignals(True)
        b.setChecked(on)
        b.setIcon(self._icons[on])
        b.blockSignals(False)

    def _update_label(self, *_args) -> None:
        seq = self.state.sequence
        if seq is None:
            self.label.setText("no sequence")
            return
        f, t = self.state.frame, seq.num_frames
        a, b = self.state.in_out
        self.label.setText(f"frame {f + 1}/{t} · {f / FPS:5.2f} s / {t / FPS:.2f} s · in/out {a + 1}–{b}")
