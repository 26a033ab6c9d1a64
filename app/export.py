"""Exports that need no core: .npy, mask JSON, PNG of a view, filmstrip PNG, GIF of a frame range.

The .skeleton export goes through app/core_bridge.py. Images are rendered with the 2D painter (no GL
context needed), from the camera of the view the user is looking at.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from app.state import AppState
from app.views.base import Camera, frame_layers
from app.views.projection_view import paint_layers, render_image

ROW_SOURCES = ("original", "masked", "reconstruction")


def export_npy(path: str | Path, data: np.ndarray) -> None:
    """(M, T, V, 3) float32 metres (centred) as .npy."""
    np.save(Path(path), np.asarray(data, dtype=np.float32))


def mask_to_json(state: AppState) -> dict:
    seq = state.sequence
    if seq is None:
        raise ValueError("no sequence is open")
    removed = np.argwhere(state.mask)  # (K, 3) person, frame, joint
    return {"format": "dcmae-mask/1", "sequence": seq.name, "shape": list(state.mask.shape),
            "joint_names": list(seq.joint_names),
            "convention": "1 = removed; entries are [person, frame, joint]",
            "removed": removed.tolist()}


def save_mask_json(path: str | Path, state: AppState) -> None:
    Path(path).write_text(json.dumps(mask_to_json(state)), encoding="utf-8")


def load_mask_json(path: str | Path, shape: tuple[int, int, int]) -> np.ndarray:
    """(M, T, V) bool from a mask JSON; ValueError if it is malformed or made for another shape."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        got = tuple(int(x) for x in doc["shape"])
        idx = np.asarray(doc["removed"], dtype=np.int64).reshape(-1, 3)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a mask file ({exc})") from exc
    if got != tuple(shape):
        raise ValueError(f"{path}: the mask is for shape {got}, the open sequence is {tuple(shape)}")
    if len(idx) and ((idx < 0).any() or (idx >= np.asarray(shape)).any()):
        raise ValueError(f"{path}: an entry lies outside the shape {got}")
    mask = np.zeros(shape, dtype=bool)
    mask[idx[:, 0], idx[:, 1], idx[:, 2]] = True
    return mask


def save_png(path: str | Path, image: QImage) -> None:
    if image.isNull() or not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")


def filmstrip(state: AppState, frames: list[int], camera: Camera, floor: float, cell: int = 220) -> QImage:
    """Rows original / masked / reconstructed (rows without data skipped) x the chosen frames."""
    seq = state.sequence
    if seq is None:
        raise ValueError("no sequence is open")
    if not frames or any(not 0 <= f < seq.num_frames for f in frames):
        raise ValueError(f"filmstrip frames must lie in 0..{seq.num_frames - 1}, got {frames}")
    rows = [s for s in ROW_SOURCES if s != "reconstruction" or state.reconstruction is not None]
    label_w, head_h = 120, 22
    img = QImage(label_w + cell * len(frames), head_h + cell * len(rows), QImage.Format.Format_RGB32)
    img.fill(QColor(16, 17, 20))
    p = QPainter(img)
    p.setPen(QColor(230, 230, 230))
    for c, f in enumerate(frames):
        p.drawText(QRectF(label_w + c * cell, 0, cell, head_h), Qt.AlignmentFlag.AlignCenter,
                   f"frame {f + 1} · {f / 30.0:.2f} s")
    for r, source in enumerate(rows):
        p.setPen(QColor(230, 230, 230))
        p.drawText(QRectF(4, head_h + r * cell, label_w - 8, cell), Qt.AlignmentFlag.AlignVCenter, source)
        for c, f in enumerate(frames):
            rect = QRectF(label_w + c * cell + 2, head_h + r * cell + 2, cell - 4, cell - 4)
            paint_layers(p, rect, frame_layers(state, source, f), camera, floor, point_px=5, line_px=2)
    p.end()
    return img


def export_gif(path: str | Path, state: AppState, source: str, start: int, stop: int, camera: Camera,
               floor: float, size: tuple[int, int] = (360, 300), fps: float = 30.0) -> int:
    """Frames [start, stop) of `source` as an animated GIF (Pillow); returns the number of frames."""
    from PIL import Image

    seq = state.sequence
    if seq is None:
        raise ValueError("no sequence is open")
    if not 0 <= start < stop <= seq.num_frames:
        raise ValueError(f"GIF range [{start}, {stop}) outside 0..{seq.num_frames}")
    images = []
    for f in range(start, stop):
        q = render_image(frame_layers(state, source, f), camera, floor, *size).convertToFormat(
            QImage.Format.Format_RGB888)
        arr = np.frombuffer(q.constBits(), np.uint8).reshape(q.height(), q.bytesPerLine())
        arr = arr[:, : q.width() * 3]
        images.append(Image.fromarray(arr.reshape(q.height(), q.width(), 3).copy()))
    images[0].save(str(path), save_all=True, append_images=images[1:], duration=int(round(1000 / fps)),
                   loop=0)
    return len(images)


def qimage_to_array(image: QImage) -> np.ndarray:
    """(H, W, 4) uint8 RGBA copy of a QImage."""
    q = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(q.constBits(), np.uint8).reshape(q.height(), q.bytesPerLine())
    return arr[:, : q.width() * 4].reshape(q.height(), q.width(), 4).copy()
