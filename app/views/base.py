"""What the 3D view and its 2D fallback share: state binding, camera presets, per-frame layers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from app import render
from app.state import AppState

# Camera presets: (azimuth, elevation) in degrees, pyqtgraph's convention, display frame (-x, z, y).
PRESETS = {"front": (-90.0, 8.0), "side": (0.0, 8.0), "top": (-90.0, 89.0), "back": (90.0, 8.0)}


@dataclass
class Camera:
    azimuth: float = -90.0  # degrees
    elevation: float = 8.0  # degrees
    distance: float = 4.0  # metres from the centre
    center: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))  # display frame, metres


@dataclass
class Layer:
    """Geometry of one drawn skeleton set (display frame)."""

    line_pos: np.ndarray  # (S*2, 3)
    line_col: np.ndarray  # (S*2, 4)
    point_pos: np.ndarray  # (M*V, 3)
    point_col: np.ndarray  # (M*V, 4)


def frame_layers(state: AppState, source: str, frame: int | None = None) -> list[Layer]:
    """Layers of `frame` (default: the current one). Always two (the second may be fully transparent),
    so GL items are built once."""
    seq = state.sequence
    if seq is None:
        raise ValueError("no sequence is open")
    t = state.frame if frame is None else int(frame)
    present = seq.present[:, t] & state.body_visible  # (M,)
    mask = state.mask[:, t]  # (M, V)
    recon = state.reconstruction
    rmask = state.recon_mask[:, t] if state.recon_mask is not None else np.zeros_like(mask)
    empty = np.zeros(seq.num_persons, bool)

    def geo(xyz, visible, **kw) -> Layer:
        return Layer(*render.skeleton_geometry(xyz, seq.parents, visible, **kw))

    if source == "original" or (source == "overlay" and recon is None):
        first = geo(seq.data[:, t], present)
        second = geo(seq.data[:, t], empty)
    elif source == "masked" or recon is None:
        first = geo(seq.data[:, t], present, ghost=mask)
        second = geo(seq.data[:, t], empty)
    elif source == "reconstruction":
        first = geo(recon[:, t], present, joint_colors=_recon_colors(state, t))
        # the original, faded grey, to see where the fill departs from it (View → Ghost of the original)
        grey = np.ascontiguousarray(np.broadcast_to(render.GHOST_COLOR, (seq.num_persons, 4)))
        second = geo(
            seq.data[:, t], present if state.ghost_original else empty, ghost=np.ones_like(mask), base_colors=grey
        )
    elif source == "overlay":
        first = geo(seq.data[:, t], present)
        red = np.broadcast_to(render.RECON_COLOR, (seq.num_persons, 4))
        second = geo(recon[:, t], present, base_colors=np.ascontiguousarray(red), shown=rmask)
    else:
        raise ValueError(f"unknown view source {source!r}; one of {render.SOURCES}")
    _highlight(state, first)
    return [first, second]


def _recon_colors(state: AppState, t: int) -> np.ndarray:
    """(M, V, 4): body colours, reconstructed joints coloured by error (or red)."""
    seq = state.sequence
    m, v = seq.num_persons, seq.num_joints
    cols = np.stack([np.broadcast_to(render.body_color(i), (v, 4)) for i in range(m)]).copy()  # (M, V, 4)
    rmask = state.recon_mask[:, t]  # (M, V)
    if state.error_colors:
        err = render.joint_errors_cm(seq.data[:, t], state.reconstruction[:, t])  # (M, V)
        cols[rmask] = render.error_colormap(err[rmask], error_vmax(state))
    else:
        cols[rmask] = render.RECON_COLOR
    return cols


def error_vmax(state: AppState) -> float:
    """Colour-bar maximum (cm) for the current reconstruction."""
    if state.reconstruction is None or state.recon_mask is None:
        return 1.0
    cached = getattr(state, "_vmax_cache", None)
    if cached is not None and cached[0] is state.reconstruction:
        return cached[1]
    err = render.joint_errors_cm(state.sequence.data, state.reconstruction)
    vmax = render.error_scale(err, state.recon_mask)
    state._vmax_cache = (state.reconstruction, vmax)
    return vmax


def _highlight(state: AppState, layer: Layer) -> None:
    if state.selected is None or state.sequence is None:
        return
    m, j = state.selected
    i = m * state.sequence.num_joints + j
    if i < len(layer.point_col) and layer.point_col[i, 3] > 0:
        layer.point_col[i, :3] = 1.0  # white, keeping a ghost faded


class SkeletonViewBase(QWidget):
    """Common API of the GL view and the 2D projection view."""

    joint_picked = Signal(int, int)  # person, joint
    camera_changed = Signal()  # the user orbited, panned or zoomed (not fit/presets/set_camera)
    PICK_RADIUS = 14.0  # pixels

    def __init__(self, state: AppState, source: str = "masked", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if source not in render.SOURCES:
            raise ValueError(f"unknown view source {source!r}; one of {render.SOURCES}")
        self.state = state
        self.source = source
        self.camera = Camera()
        self._floor = 0.0  # display-frame height of the lowest joint (floor grid), metres
        for sig in (state.frame_changed, state.mask_changed, state.reconstruction_changed, state.display_changed):
            sig.connect(self.refresh)
        state.sequence_changed.connect(self._on_sequence)

    def set_source(self, source: str) -> None:
        if source not in render.SOURCES:
            raise ValueError(f"unknown view source {source!r}; one of {render.SOURCES}")
        self.source = source
        self.refresh()

    def _on_sequence(self) -> None:
        self.fit()
        self.refresh()

    def fit(self) -> None:
        """Centre on the skeleton and zoom so the whole sequence fits."""
        seq = self.state.sequence
        if seq is None:
            return
        centre, radius, floor = render.scene_bounds(seq.data, seq.present)
        self.camera.center = centre
        self.camera.distance = radius * 2.4
        self._floor = floor
        self._apply_camera()

    def set_preset(self, name: str) -> None:
        if name not in PRESETS:
            raise ValueError(f"unknown view preset {name!r}; one of {', '.join(PRESETS)}")
        self.camera.azimuth, self.camera.elevation = PRESETS[name]
        self._apply_camera()

    def set_camera(self, camera: Camera) -> None:
        """Take another view's camera (linked views); emits nothing."""
        self.camera = Camera(camera.azimuth, camera.elevation, camera.distance, np.array(camera.center, np.float32))
        self._apply_camera()

    def current_layers(self) -> list[Layer] | None:
        if self.state.sequence is None:
            return None
        return frame_layers(self.state, self.source)

    def pick(self, x: float, y: float) -> tuple[int, int] | None:
        """The (person, joint) drawn nearest to widget pixel (x, y), or None."""
        layers = self.current_layers()
        if layers is None:
            return None
        screen = self._project(layers[0].point_pos)
        i = render.nearest_point(screen, (x, y), self.PICK_RADIUS, candidates=layers[0].point_col[:, 3] > 0)
        if i < 0:
            return None
        v = self.state.sequence.num_joints
        return divmod(i, v)

    def _clicked(self, x: float, y: float) -> None:
        hit = self.pick(x, y)
        if hit is not None:
            self.joint_picked.emit(*hit)

    # subclasses ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        raise NotImplementedError

    def _apply_camera(self) -> None:
        raise NotImplementedError

    def _project(self, points: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def grab_image(self) -> QImage:
        raise NotImplementedError
