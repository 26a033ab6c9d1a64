"""2D projection view (QPainter, orthographic): the fallback where OpenGL is unavailable, and the
renderer of image exports (filmstrip, GIF), which must not depend on a GL context."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app import render
from app.state import AppState
from app.views.base import Camera, Layer, SkeletonViewBase

BACKGROUND = QColor(24, 26, 30)
GRID = QColor(70, 74, 82)


def plane_transform(camera: Camera, width: float, height: float) -> tuple[float, float, float]:
    """Pixels per metre and the pixel position of the camera centre for an orthographic view."""
    scale = min(width, height) / max(camera.distance * 0.75, 1e-6)
    return scale, width / 2, height / 2


def to_pixels(points: np.ndarray, camera: Camera, width: float, height: float) -> np.ndarray:
    """(n, 3) display-frame points -> (n, 2) pixels (x right, y down)."""
    rel = np.asarray(points) - camera.center  # (n, 3)
    plane = render.orthographic(rel, camera.azimuth, camera.elevation)  # (n, 2)
    scale, cx, cy = plane_transform(camera, width, height)
    return np.stack([cx + plane[:, 0] * scale, cy - plane[:, 1] * scale], axis=1)


def paint_layers(
    painter: QPainter,
    rect: QRectF,
    layers: list[Layer],
    camera: Camera,
    floor: float,
    point_px: float = 6.0,
    line_px: float = 2.5,
) -> None:
    """Draw background, floor grid and skeleton layers into `rect` with an orthographic camera."""
    painter.save()
    painter.setClipRect(rect)
    painter.translate(rect.topLeft())
    w, h = rect.width(), rect.height()
    painter.fillRect(QRectF(0, 0, w, h), BACKGROUND)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    # floor grid: 0.5 m squares over 4 m, at the lowest joint's height
    ticks = np.arange(-2.0, 2.01, 0.5)
    pen = QPen(GRID)
    pen.setWidthF(1.0)
    painter.setPen(pen)
    cx, cy = float(camera.center[0]), float(camera.center[1])
    for k in ticks:
        for a, b in (
            ((cx + k, cy - 2, floor), (cx + k, cy + 2, floor)),
            ((cx - 2, cy + k, floor), (cx + 2, cy + k, floor)),
        ):
            p = to_pixels(np.array([a, b]), camera, w, h)
            painter.drawLine(QPointF(*p[0]), QPointF(*p[1]))
    for layer in layers:
        segs = to_pixels(layer.line_pos, camera, w, h)  # (S*2, 2)
        for i in range(0, len(segs), 2):
            c = layer.line_col[i]
            if c[3] <= 0:
                continue
            pen = QPen(QColor.fromRgbF(*map(float, c)))
            pen.setWidthF(line_px)
            painter.setPen(pen)
            painter.drawLine(QPointF(*segs[i]), QPointF(*segs[i + 1]))
        pts = to_pixels(layer.point_pos, camera, w, h)  # (M*V, 2)
        painter.setPen(Qt.PenStyle.NoPen)
        for p, c in zip(pts, layer.point_col, strict=False):
            if c[3] <= 0:
                continue
            painter.setBrush(QColor.fromRgbF(*map(float, c)))
            painter.drawEllipse(QPointF(*p), point_px / 2, point_px / 2)
    painter.restore()


def render_image(layers: list[Layer], camera: Camera, floor: float, width: int, height: int) -> QImage:
    """An offscreen (width, height) RGB image of the layers."""
    img = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(img)
    paint_layers(painter, QRectF(0, 0, width, height), layers, camera, floor)
    painter.end()
    return img


class _Canvas(QWidget):
    def __init__(self, view: ProjectionView) -> None:
        super().__init__(view)
        self.view = view
        self.setMinimumSize(160, 120)
        self._press = None
        self._last = None

    def paintEvent(self, _ev) -> None:  # Qt override
        painter = QPainter(self)
        layers = self.view.current_layers() or []
        paint_layers(painter, QRectF(self.rect()), layers, self.view.camera, self.view._floor)
        painter.end()

    def mousePressEvent(self, ev) -> None:
        self._press = self._last = ev.position()

    def mouseMoveEvent(self, ev) -> None:
        if self._last is None:
            return
        d = ev.position() - self._last
        self._last = ev.position()
        cam = self.view.camera
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier or ev.buttons() & Qt.MouseButton.MiddleButton:
            scale, _, _ = plane_transform(cam, self.width(), self.height())
            az = np.radians(cam.azimuth)
            right = np.array([-np.sin(az), np.cos(az), 0.0])
            shift = -right * d.x() / scale + np.array([0, 0, d.y() / scale])
            cam.center = (cam.center + shift).astype(np.float32)
        else:
            cam.azimuth -= d.x() * 0.5
            cam.elevation = float(np.clip(cam.elevation + d.y() * 0.5, -89, 89))
        self.update()
        self.view.camera_changed.emit()

    def mouseReleaseEvent(self, ev) -> None:
        if self._press is not None and (ev.position() - self._press).manhattanLength() < 4:
            self.view._clicked(ev.position().x(), ev.position().y())
        self._press = self._last = None

    def wheelEvent(self, ev) -> None:
        self.view.camera.distance *= 0.999 ** ev.angleDelta().y()
        self.update()
        self.view.camera_changed.emit()


class ProjectionView(SkeletonViewBase):
    """Orthographic 2D rendering with orbit (drag), pan (Ctrl/middle drag), zoom (wheel), picking."""

    def __init__(
        self, state: AppState, source: str = "masked", notice: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(state, source, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.notice = QLabel(notice)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #e0b050; padding: 2px;")
        self.notice.setVisible(bool(notice))
        self.canvas = _Canvas(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.canvas, 1)

    def refresh(self) -> None:
        self.canvas.update()

    def _apply_camera(self) -> None:
        self.canvas.update()

    def _project(self, points: np.ndarray) -> np.ndarray:
        return to_pixels(points, self.camera, self.canvas.width(), self.canvas.height())

    def grab_image(self) -> QImage:
        layers = self.current_layers() or []
        return render_image(
            layers, self.camera, self._floor, max(self.canvas.width(), 64), max(self.canvas.height(), 64)
        )
