"""Exports that tell the truth: the chosen source for PNG / GIF / MP4, movies encoded in a worker with progress,
a .skeleton whose filled joints are marked not tracked with a sidecar, a visible confirmation with the path."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from app import export
from dcmae_core.data.ntu import read_skeleton
from tests.conftest import NTU_SAMPLES

pytestmark = pytest.mark.slow  # each test here takes over half a second (make test-fast leaves them out)

A058 = NTU_SAMPLES / "S001C003P008R002A058.skeleton"


def _with_result(window):
    """A058 with the right arm masked and a 'reconstruction' 30 cm off everywhere."""
    window.open_path(A058)
    st = window.state
    window.controller.mask_spec("right-arm")
    assert st.set_result(st.version, st.sequence.data + 0.3, {}, about={"method": "one_step", "checkpoint": "m.pt"})
    return st


def _save_as(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def test_png_takes_the_chosen_source_not_the_left_pane(window, tmp_path, monkeypatch, dialogs):
    st = _with_result(window)
    st.set_frame(20)
    assert window.left.view.source == "masked"  # the left pane shows the masked input
    view = window.left.view
    for source in ("reconstruction", "original"):
        out = tmp_path / f"{source}.png"
        _save_as(monkeypatch, out)
        window.menus.actions[f"png_{source}"].trigger()
        got = np.asarray(Image.open(out).convert("RGB"))
        h, w = got.shape[:2]
        want = export.qimage_to_array(export.source_image(st, source, view.camera, view._floor, (w, h)))[..., :3]
        left = export.qimage_to_array(export.source_image(st, "masked", view.camera, view._floor, (w, h)))[..., :3]
        assert np.array_equal(got, want) and not np.array_equal(got, left), source
        assert str(out) in window.statusBar().currentMessage()  # a visible confirmation with the path
    assert not dialogs


def test_png_of_a_missing_reconstruction_says_so(window, tmp_path, monkeypatch, dialogs):
    window.open_path(A058)
    _save_as(monkeypatch, tmp_path / "r.png")
    window.menus.actions["png_reconstruction"].trigger()
    assert dialogs and "no reconstruction yet" in dialogs[-1][1] and not (tmp_path / "r.png").exists()


def test_gif_of_the_chosen_source_is_encoded_in_a_worker_with_progress(window, tmp_path, monkeypatch, qtbot, dialogs):
    st = _with_result(window)
    st.set_in_out(10, 22)
    threads, seen = [], []
    real = export.write_movie

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "write_movie", spy)
    window.controller.exports.progress.connect(seen.append)
    out = tmp_path / "recon.gif"
    _save_as(monkeypatch, out)
    window.menus.actions["movie_reconstruction"].trigger()
    qtbot.waitUntil(lambda: str(out) in window.statusBar().currentMessage(), timeout=20000)
    assert threads and threads[0] is not threading.main_thread()  # not on the GUI thread
    assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    assert window.export_progress.isHidden() and not dialogs
    gif = Image.open(out)
    assert gif.n_frames == 12
    gif.seek(0)
    got = np.asarray(gif.convert("RGB")).astype(int)
    view = window.left.view
    size = (got.shape[1], got.shape[0])

    def render(source):
        return export.qimage_to_array(export.source_image(st, source, view.camera, view._floor, size, 10))[..., :3]

    # the palette changes colours a little: the frame is nearer to the reconstruction than to the masked pane
    assert np.abs(got - render("reconstruction")).mean() < np.abs(got - render("masked")).mean()


def test_mp4_when_imageio_ffmpeg_is_installed(window, tmp_path):
    ffmpeg = pytest.importorskip("imageio_ffmpeg")
    st = _with_result(window)
    view = window.left.view
    layers = export.movie_layers(st, "reconstruction", 0, 15)
    assert export.write_movie(tmp_path / "a.mp4", layers, view.camera, view._floor, (361, 300)) == 15
    frames, _secs = ffmpeg.count_frames_and_secs(str(tmp_path / "a.mp4"))
    assert frames == 15


def test_movie_rejects_other_suffixes(window, tmp_path):
    st = _with_result(window)
    view = window.left.view
    with pytest.raises(ValueError, match=".gif or .mp4"):
        export.write_movie(tmp_path / "a.avi", export.movie_layers(st, "masked", 0, 2), view.camera, view._floor)


def test_exported_skeleton_marks_filled_joints_untracked_with_a_sidecar(window, tmp_path, dialogs):
    st = _with_result(window)
    out = tmp_path / "rec.skeleton"
    assert window.controller.export_reconstruction(out), dialogs
    assert str(out) in window.statusBar().currentMessage()
    raw = out.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n")  # CRLF, like NTU's files
    orig, back = read_skeleton(A058), read_skeleton(out)
    filled = 0
    for b0, b1 in zip(orig.bodies, back.bodies, strict=True):
        hit = b1.tracking == 0
        hit &= b0.tracking != 0  # the joints the file itself calls not tracked stay as they were
        filled += int(hit.sum())
        np.testing.assert_array_equal(b1.xyz[~hit], b0.xyz[~hit])  # every other number as it was
        np.testing.assert_array_equal(b1.depth_xy[~hit], b0.depth_xy[~hit])
        np.testing.assert_allclose(b1.xyz[hit] - b0.xyz[hit], 0.3, atol=2e-5)  # the fill, 7 digits
        assert (np.abs(b1.depth_xy[hit] - b0.depth_xy[hit]) > 0.5).any(axis=-1).all()  # not the recorded pixels
    n_masked = int((st.recon_mask & st.sequence.present[:, :, None]).sum())
    assert filled == n_masked == 70 * 6 * 2
    doc = json.loads((tmp_path / "rec.skeleton.json").read_text())
    assert doc["method"] == "one_step" and doc["checkpoint"] == "m.pt" and doc["num_filled"] == n_masked
    assert doc["joint_names"][:2] == list(st.sequence.joint_names[:2])


def test_export_without_a_reconstruction_is_the_original_file(window, tmp_path):
    window.open_path(A058)
    out = tmp_path / "same.skeleton"
    assert window.controller.export_reconstruction(out)
    assert out.read_bytes() == A058.read_bytes()  # (this sample is CRLF already)
    assert json.loads((tmp_path / "same.skeleton.json").read_text())["entries"] == []
