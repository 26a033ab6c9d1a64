"""Rendered pixels of the OpenGL view (needs an X display with GL: pytest-xvfb provides one)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from app.export import qimage_to_array
from tests.conftest import NTU_SAMPLES

pytestmark = [pytest.mark.gl, pytest.mark.slow]  # GL under Xvfb: over a second a test
A058 = NTU_SAMPLES / "S001C003P008R002A058.skeleton"
BLUE, ORANGE = (38, 191, 255), (255, 140, 25)  # render.BODY_COLORS[0], [1] in 0..255


def _near(arr: np.ndarray, rgb, tol: int = 40) -> int:
    return int((np.abs(arr[..., :3].astype(int) - rgb).max(axis=-1) < tol).sum())


def _gl_view(win):
    from app.views.gl_view import GLSkeletonView

    view = win.left.view
    if not isinstance(view, GLSkeletonView):
        pytest.skip(f"no OpenGL here: {view.notice.text()}")
    return view


def test_gl_view_draws_each_body_in_its_colour_and_ghosts_masked_joints(gl_window, qtbot):
    gl_window.open_path(A058)
    view = _gl_view(gl_window)
    qtbot.wait(100)
    arr = qimage_to_array(view.grab_image())
    blue, orange = _near(arr, BLUE), _near(arr, ORANGE)
    assert blue > 50 and orange > 50, (blue, orange)
    gl_window.controller.mask_parts(list(gl_window.state.sequence.groups), person=0)  # all of body 1
    qtbot.wait(50)
    arr = qimage_to_array(view.grab_image())
    assert _near(arr, BLUE) < blue * 0.2  # faded to ghosts
    assert _near(arr, ORANGE) > 50
    faint = (arr[..., 2].astype(int) - arr[..., 0].astype(int) > 15).sum()  # bluish ghost pixels remain
    assert faint > 20
    gl_window.state.set_body_visible(1, False)
    qtbot.wait(50)
    assert _near(qimage_to_array(view.grab_image()), ORANGE) < 5


def test_gl_picking_and_presets(gl_window, qtbot):
    gl_window.open_path(A058)
    view = _gl_view(gl_window)
    qtbot.wait(100)
    for preset in ("side", "top", "front"):
        view.set_preset(preset)
        assert view.gl.opts["azimuth"] == pytest.approx(view.camera.azimuth)
    layer = view.current_layers()[0]
    xy = view._project(layer.point_pos)[25 + 11]  # body 2, right hand
    qtbot.mouseClick(view.gl, Qt.MouseButton.LeftButton, pos=QPoint(int(round(xy[0])), int(round(xy[1]))))
    assert gl_window.state.selected is not None and gl_window.state.selected[0] == 1


def test_main_screenshot_mode(tmp_path):
    out = tmp_path / "shot.png"
    res = subprocess.run(
        [sys.executable, "main.py", str(A058), "--screenshot", str(out), "--mask", "left-arm", "--size", "1024x640"]
        + ["--frame", "30"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    from PySide6.QtGui import QImage

    arr = qimage_to_array(QImage(str(out)))
    assert arr.shape[:2] == (640, 1024) and _near(arr, BLUE) > 50 and _near(arr, ORANGE) > 50
    bad = subprocess.run(
        [sys.executable, "main.py", str(A058), "--screenshot", str(tmp_path / "x.png"), "--mask", "tail"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "unknown mask" in bad.stderr
