"""Results: top-5 predictions side by side, per-frame error plot (click seeks), error colour bar."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QPainter
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QWidget,
)

from app import render
from app.state import AppState
from app.widgets.elided import ElidedLabel


def action_first(name: str) -> str:
    """'NW-UCLA: throw' -> 'throw (NW-UCLA)': a model of several label sets prefixes each action with its
    dataset; shown action first, a narrow column elides the dataset instead of the action."""
    source, sep, action = name.partition(": ")
    return f"{action} ({source})" if sep and action else name


class PredictionColumn(QGroupBox):
    """Top-k names (elided, in full as tooltips), probabilities and bars."""

    def __init__(self, title: str, k: int = 5, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        grid = QGridLayout(self)
        grid.setVerticalSpacing(2)
        self.names: list[ElidedLabel] = []
        self.probs: list[QLabel] = []
        self.bars: list[QProgressBar] = []
        for i in range(k):
            name, prob = ElidedLabel("—"), QLabel("")
            prob.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setFormat("")
            bar.setMaximumHeight(14)
            bar.setMinimumWidth(40)
            grid.addWidget(name, i, 0)
            grid.addWidget(prob, i, 1)
            grid.addWidget(bar, i, 2)
            self.names.append(name)
            self.probs.append(prob)
            self.bars.append(bar)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(2, 2)

    def set_items(self, items: list[tuple[str, float]]) -> None:
        for i, (name, prob, bar) in enumerate(zip(self.names, self.probs, self.bars, strict=True)):
            if i < len(items):
                n, p = items[i]
                name.setText(action_first(n))
                name.setToolTip(n)
                prob.setText(f"{100 * p:.1f} %")
                bar.setValue(int(round(1000 * p)))
            else:
                name.setText("—")
                prob.setText("")
                bar.setValue(0)


class PredictionsPanel(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.masked = PredictionColumn("Masked input: top 5")
        self.recon = PredictionColumn("Reconstruction: top 5")
        row.addWidget(self.masked)
        row.addWidget(self.recon)
        state.predictions_changed.connect(self.refresh)

    def refresh(self) -> None:
        self.masked.set_items(self.state.predictions.get("masked", []))
        self.recon.set_items(self.state.predictions.get("reconstruction", []))


class ErrorPlot(pg.PlotWidget):
    """Mean error over masked joints per frame (cm) of the model's fill, beside linear interpolation in time
    of the same joints (the baseline a model should beat); the legend gives both means. A click seeks."""

    seek_requested = Signal(int)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setBackground((24, 26, 30))
        self.setLabel("left", "error", units="cm")
        self.setLabel("bottom", "frame")
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.legend = self.addLegend(
            offset=(-10, 5),
            labelTextSize="8pt",
            labelTextColor=(225, 225, 225),
            brush=pg.mkBrush(24, 26, 30, 220),
            pen=pg.mkPen(70, 74, 80),
        )
        self.curve = self.plot([], [], pen=pg.mkPen((120, 220, 255), width=2), connect="finite")
        self.baseline_curve = self.plot(
            [], [], pen=pg.mkPen((170, 170, 170), width=1, style=Qt.PenStyle.DashLine), connect="finite"
        )
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen((255, 255, 255), width=1))
        self.addItem(self.cursor)
        self.errors: np.ndarray | None = None
        self.baseline: np.ndarray | None = None
        state.frame_changed.connect(lambda f: self.cursor.setValue(f + 1))
        state.sequence_changed.connect(self._on_sequence)
        self.scene().sigMouseClicked.connect(self._on_click)

    def set_errors(self, errors: np.ndarray | None, baseline: np.ndarray | None = None) -> None:
        """(T,) cm for the model and, optionally, for interpolation; NaN where nothing is masked; None clears."""
        self.errors, self.baseline = errors, (None if errors is None else baseline)
        self.legend.clear()
        if errors is None:
            self.curve.setData([], [])
            self.baseline_curve.setData([], [])
            return
        frames = np.arange(1, len(errors) + 1, dtype=np.float64)
        values = np.asarray(errors, np.float64)
        self.curve.setData(frames, values)
        self.legend.addItem(self.curve, f"model: {self.mean_cm(values)}")
        top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
        if self.baseline is not None:
            base = np.asarray(self.baseline, np.float64)
            self.baseline_curve.setData(frames, base)
            self.legend.addItem(self.baseline_curve, f"interpolation: {self.mean_cm(base)}")
            if np.isfinite(base).any():
                top = max(top, float(np.nanmax(base)))
        else:
            self.baseline_curve.setData([], [])
        self.setXRange(1, max(len(errors), 2), padding=0.02)
        self.setYRange(0, max(top, 1.0), padding=0.05)  # the range was fixed at 0-1 when the sequence opened

    @staticmethod
    def mean_cm(values: np.ndarray) -> str:
        """The mean of the finite per-frame values as text ('-' if there are none)."""
        finite = values[np.isfinite(values)]
        return f"{finite.mean():.1f} cm" if finite.size else "-"

    def _on_sequence(self) -> None:
        self.set_errors(None)
        self.setXRange(1, max(self.state.sequence.num_frames, 2), padding=0.02)
        self.setYRange(0, 1)

    def _on_click(self, ev) -> None:
        if self.state.sequence is None:
            return
        pos = self.plotItem.vb.mapSceneToView(ev.scenePos())
        self.seek_requested.emit(int(np.clip(round(pos.x()) - 1, 0, self.state.sequence.num_frames - 1)))


class ColorBar(QWidget):
    """Vertical colour bar of the error map, 0 .. vmax cm."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vmax = 1.0
        self.setFixedWidth(64)
        self.setMinimumHeight(120)
        self.setToolTip("Per-joint reconstruction error (cm)")

    def set_vmax(self, vmax: float) -> None:
        self.vmax = float(vmax)
        self.update()

    def paintEvent(self, _ev) -> None:  # Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 26, 30))
        bar = QRectF(6, 18, 16, self.height() - 30)
        grad = QLinearGradient(bar.bottomLeft(), bar.topLeft())
        for u in np.linspace(0, 1, 9):
            c = render.error_colormap(np.array([u * self.vmax]), self.vmax)[0]
            grad.setColorAt(float(u), QColor.fromRgbF(*map(float, c)))
        p.fillRect(bar, grad)
        p.setPen(QColor(220, 220, 220))
        p.drawText(QRectF(0, 0, self.width(), 16), Qt.AlignmentFlag.AlignCenter, "cm")
        for u in (0.0, 0.5, 1.0):
            y = bar.bottom() - u * bar.height()
            p.drawText(QRectF(26, y - 8, self.width() - 26, 16), Qt.AlignmentFlag.AlignVCenter, f"{u * self.vmax:g}")
        p.end()


class ResultsPanel(QWidget):
    """Predictions and error plot side by side, so the panel is short and the views stay tall."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 2, 2, 2)
        self.predictions = PredictionsPanel(state)
        self.error_plot = ErrorPlot(state)
        self.error_plot.setMinimumSize(160, 90)
        row.addWidget(self.predictions, 1)  # equal halves, whatever the action names ask for
        row.addWidget(self.error_plot, 1)
