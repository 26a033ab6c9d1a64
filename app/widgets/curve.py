"""A live curve of a training run (x = step or epoch), points added as they arrive."""

from __future__ import annotations

import pyqtgraph as pg


class Curve(pg.PlotWidget):
    """One live curve (x = training step)."""

    def __init__(self, title: str, color: str) -> None:
        super().__init__()
        self.setTitle(title, size="9pt")
        self.setMinimumHeight(110)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.x: list[float] = []
        self.y: list[float] = []
        self.line = self.plot([], [], pen=pg.mkPen(color, width=2), symbol="o", symbolSize=4)

    def add(self, x: float, y: float) -> None:
        self.x.append(float(x))
        self.y.append(float(y))
        self.line.setData(self.x, self.y)

    def clear_points(self) -> None:
        self.x, self.y = [], []
        self.line.setData([], [])
