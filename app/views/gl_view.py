"""3D skeleton view on pyqtgraph.opengl: items are built once, then only `setData` per frame."""

from __future__ import annotations

import numpy as np
import pyqtgraph.opengl as gl
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage, QVector3D
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app import render
from app.state import AppState
from app.views.base import SkeletonViewBase

BACKGROUND = (24, 26, 30)


class _PickingGLView(gl.GLViewWidget):
    """GLViewWidget that reports a click (press and release without a drag) in widget pixels, and camera
    moves by the mouse (orbit, pan, zoom)."""

    clicked = Signal(float, float)
    camera_moved = Signal()

    def mousePressEvent(self, ev) -> None:  # Qt override
        self._press_at = ev.position()
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev) -> None:
        super().mouseMoveEvent(ev)
        if ev.buttons():
            self.camera_moved.emit()

    def wheelEvent(self, ev) -> None:
        super().wheelEvent(ev)
        self.camera_moved.emit()

    def mouseReleaseEvent(self, ev) -> None:
        start = getattr(self, "_press_at", None)
        if start is not None and (ev.position() - start).manhattanLength() < 4:
            self.clicked.emit(ev.position().x(), ev.position().y())
        self._press_at = None


class GLSkeletonView(SkeletonViewBase):
    """Orbit (drag), pan (Ctrl+drag / middle drag), zoom (wheel); floor grid; picking by click."""

    def __init__(self, state: AppState, source: str = "masked", parent: QWidget | None = None) -> None:
        super().__init__(state, source, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.gl = _PickingGLView(self)
        self.gl.setBackgroundColor(BACKGROUND)
        self.gl.setMinimumSize(160, 120)
        layout.addWidget(self.gl)
        self.grid = gl.GLGridItem(color=(90, 95, 105, 255))
        self.grid.setSize(4, 4)
        self.grid.setSpacing(0.5, 0.5)
        self.gl.addItem(self.grid)
        self._items: list[tuple[gl.GLLinePlotItem, gl.GLScatterPlotItem]] = []
        self.gl.clicked.connect(self._clicked)
        self.gl.camera_moved.connect(self._on_camera_moved)
        self._apply_camera()

    def _ensure_items(self, n_layers: int) -> None:
        while len(self._items) < n_layers:
            lines = gl.GLLinePlotItem(mode="lines", width=3.0, antialias=True, glOptions="translucent")
            points = gl.GLScatterPlotItem(size=9.0, pxMode=True, glOptions="translucent")
            self.gl.addItem(lines)
            self.gl.addItem(points)
            self._items.append((lines, points))

    def refresh(self) -> None:
        layers = self.current_layers()
        if layers is None:
            return
        self._ensure_items(len(layers))
        for (lines, points), layer in zip(self._items, layers, strict=False):
            lines.setData(pos=layer.line_pos, color=layer.line_col)
            points.setData(pos=layer.point_pos, color=layer.point_col)

    def fit(self) -> None:
        super().fit()
        seq = self.state.sequence
        if seq is not None:
            self.grid.resetTransform()
            c = self.camera.center
            self.grid.translate(float(c[0]), float(c[1]), self._floor)

    def _apply_camera(self) -> None:
        c = self.camera.center
        self.gl.setCameraPosition(
            pos=QVector3D(float(c[0]), float(c[1]), float(c[2])),
            distance=self.camera.distance,
            elevation=self.camera.elevation,
            azimuth=self.camera.azimuth,
        )

    def _on_camera_moved(self) -> None:
        self.sync_camera_from_widget()
        self.camera_changed.emit()

    def sync_camera_from_widget(self) -> None:
        """Copy the widget's camera (after the user orbited) into self.camera."""
        o = self.gl.opts
        self.camera.azimuth, self.camera.elevation = float(o["azimuth"]), float(o["elevation"])
        self.camera.distance = float(o["distance"])
        self.camera.center = np.array([o["center"].x(), o["center"].y(), o["center"].z()], np.float32)

    def mvp(self) -> np.ndarray:
        """(4, 4) model-view-projection of the current camera."""
        w, h = max(self.gl.width(), 1), max(self.gl.height(), 1)
        m = self.gl.projectionMatrix((0, 0, w, h), (0, 0, w, h)) * self.gl.viewMatrix()
        return np.array(m.copyDataTo(), dtype=np.float64).reshape(4, 4)

    def _project(self, points: np.ndarray) -> np.ndarray:
        return render.project_points(points, self.mvp(), self.gl.width(), self.gl.height())

    def grab_image(self) -> QImage:
        return self.gl.grabFramebuffer()
