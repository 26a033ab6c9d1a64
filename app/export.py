"""Exports that need no core: .npy, mask JSON, PNG of a source, filmstrip PNG, GIF of a frame range.

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
    return {
        "format": "dcmae-mask/1",
        "sequence": seq.name,
        "shape": list(state.mask.shape),
        "joint_names": list(seq.joint_names),
        "convention": "1 = removed; entries are [person, frame, joint]",
        "removed": removed.tolist(),
    }


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
        p.drawText(
            QRectF(label_w + c * cell, 0, cell, head_h),
            Qt.AlignmentFlag.AlignCenter,
            f"frame {f + 1} · {f / 30.0:.2f} s",
        )
    for r, source in enumerate(rows):
        p.setPen(QColor(230, 230, 230))
        p.drawText(QRectF(4, head_h + r * cell, label_w - 8, cell), Qt.AlignmentFlag.AlignVCenter, source)
        for c, f in enumerate(frames):
            rect = QRectF(label_w + c * cell + 2, head_h + r * cell + 2, cell - 4, cell - 4)
            paint_layers(p, rect, frame_layers(state, source, f), camera, floor, point_px=5, line_px=2)
    p.end()
    return img


def source_image(
    state: AppState, source: str, camera: Camera, floor: float, size: tuple[int, int], frame: int | None = None
) -> QImage:
    """The current (or given) frame of `source` ('original', 'masked', 'reconstruction', 'overlay') as an
    image of `size` (width, height) pixels, drawn by the 2D painter from `camera`."""
    if source == "reconstruction" and state.reconstruction is None:
        raise ValueError("there is no reconstruction yet: run Reconstruct + classify (R) first")
    return render_image(frame_layers(state, source, frame), camera, floor, *size)


def movie_layers(state: AppState, source: str, start: int, stop: int) -> list:
    """The layers of frames [start, stop) of `source`: a snapshot of the state that write_movie can draw in a
    worker thread while the state changes."""
    seq = state.sequence
    if seq is None:
        raise ValueError("no sequence is open")
    if not 0 <= start < stop <= seq.num_frames:
        raise ValueError(f"frame range [{start}, {stop}) outside 0..{seq.num_frames}")
    if source == "reconstruction" and state.reconstruction is None:
        raise ValueError("there is no reconstruction yet: run Reconstruct + classify (R) first")
    return [frame_layers(state, source, f) for f in range(start, stop)]


MOVIE_SUFFIXES = (".gif", ".mp4")


def mp4_available() -> bool:
    """Whether MP4 can be written: the optional imageio-ffmpeg wheel (it bundles ffmpeg) is installed."""
    import importlib.util

    return importlib.util.find_spec("imageio_ffmpeg") is not None


def write_movie(
    path: str | Path,
    layers: list,
    camera: Camera,
    floor: float,
    size: tuple[int, int] = (360, 300),
    fps: float = 30.0,
    progress=None,
) -> int:
    """Draw each frame's layers and write them as an animated GIF (Pillow) or, for a .mp4 path, H.264 video
    (imageio-ffmpeg; width and height rounded up to even); returns the number of frames. Safe in a worker
    thread (QImage + QPainter). `progress(fraction) -> False` stops it (RuntimeError, nothing written)."""
    suffix = Path(path).suffix.lower()
    if suffix not in MOVIE_SUFFIXES:
        raise ValueError(f"{path}: a movie is written as .gif or .mp4, not {suffix or 'no suffix'}")
    if suffix == ".mp4":
        if not mp4_available():
            raise ValueError(
                "MP4 needs the optional package imageio-ffmpeg (pip install 'dcmae[video]'); save a GIF instead"
            )
        size = (size[0] + size[0] % 2, size[1] + size[1] % 2)  # H.264 (yuv420p) needs even sides
    frames = []
    for i, frame in enumerate(layers):
        frames.append(np.ascontiguousarray(qimage_to_array(render_image(frame, camera, floor, *size))[..., :3]))
        if progress is not None and not progress(0.9 * (i + 1) / len(layers)):  # encoding takes the last 10 %
            raise RuntimeError("cancelled")
    if suffix == ".gif":
        from PIL import Image

        images = [Image.fromarray(a) for a in frames]
        images[0].save(str(path), save_all=True, append_images=images[1:], duration=int(round(1000 / fps)), loop=0)
    else:
        import imageio_ffmpeg

        writer = imageio_ffmpeg.write_frames(str(path), size, fps=fps, codec="libx264", macro_block_size=1)
        writer.send(None)  # starts ffmpeg
        try:
            for a in frames:
                writer.send(a)
        finally:
            writer.close()
    if progress is not None:
        progress(1.0)
    return len(frames)


def export_gif(
    path: str | Path,
    state: AppState,
    source: str,
    start: int,
    stop: int,
    camera: Camera,
    floor: float,
    size: tuple[int, int] = (360, 300),
    fps: float = 30.0,
) -> int:
    """Frames [start, stop) of `source` as an animated GIF, in the calling thread; returns the number of frames."""
    return write_movie(path, movie_layers(state, source, start, stop), camera, floor, size, fps)


def qimage_to_array(image: QImage) -> np.ndarray:
    """(H, W, 4) uint8 RGBA copy of a QImage."""
    q = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(q.constBits(), np.uint8).reshape(q.height(), q.bytesPerLine())
    return arr[:, : q.width() * 4].reshape(q.height(), q.width(), 4).copy()
