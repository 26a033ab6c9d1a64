"""The window fits an ordinary laptop screen (1366×768 at 100 %, less a taskbar) with every panel open; panels,
a live replay and long names do not grow it; View → Reset layout; saved geometry clamped to the screen; linked
cameras; the colour bar does not reframe the view; small wording and glyph defects."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPoint, QRect, QSettings, QSize, Qt

from app import docking
from app.main_window import MainWindow
from tests.app.conftest import FakePredictor
from tests.conftest import NTU_SAMPLES

pytestmark = pytest.mark.slow  # each test here takes over half a second (make test-fast leaves them out)

LAPTOP = QRect(0, 0, 1366, 720)  # a 1366×768 screen less a 48 px taskbar
UTD = NTU_SAMPLES.parent / "real" / "utd_mhad" / "a5_s2_t2_skeleton.mat"
A001 = NTU_SAMPLES / "S001C001P001R001A001.skeleton"
A058 = NTU_SAMPLES / "S001C003P008R002A058.skeleton"
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


@pytest.fixture
def laptop(monkeypatch):
    """Whatever screen the tests run on, the window sees a laptop's free area."""
    monkeypatch.setattr(docking, "available_geometry", lambda _widget: QRect(LAPTOP))
    return LAPTOP


def _fits(size: QSize, screen: QRect = LAPTOP) -> bool:
    return size.width() <= screen.width() and size.height() <= screen.height()


def _open_every_panel(win, qtbot) -> None:
    win.open_path(UTD if UTD.is_file() else A058)
    assert win.browse(NTU_SAMPLES)
    win.show_panel("Training")
    win.show_panel("Live")
    qtbot.wait(50)


def test_minimum_size_fits_a_laptop_with_every_panel_open(window, qtbot):
    _open_every_panel(window, qtbot)
    assert all(d.isVisible() for d in window.docks.values())
    assert _fits(window.minimumSizeHint()), window.minimumSizeHint()
    assert _fits(window.minimumSize()), window.minimumSize()
    # the training panel docked among the right-hand panels (as a user may) still fits
    window.docks["Training"].setFloating(False)
    qtbot.wait(50)
    assert window.dockWidgetArea(window.docks["Training"]) == RIGHT
    assert _fits(window.minimumSizeHint()) and _fits(window.minimumSize()), window.minimumSizeHint()
    # and so does the smallest window asked of it below a 1024×700 screen
    assert window.minimumSizeHint().width() <= 1024, window.minimumSizeHint()


def test_panels_a_live_replay_and_long_names_do_not_grow_the_window(window, qtbot, laptop, tmp_path):
    window.resize(laptop.size())
    qtbot.wait(20)
    _open_every_panel(window, qtbot)
    assert _fits(window.size()), window.size()
    long_name = tmp_path / ("a_very_long_recording_name_from_a_capture_session_" * 3 + "S001C001P001R001A001.skeleton")
    shutil.copy(A001, long_name)
    assert window.open_path(long_name)
    live = window.live_controller
    assert live.start(f"replay:{long_name}", replay_fps=120.0)
    try:
        qtbot.waitUntil(lambda: live.ticks >= 3, timeout=30_000)
        qtbot.wait(50)
        assert _fits(window.size()) and _fits(window.minimumSize()), (window.size(), window.minimumSize())
    finally:
        live.shutdown()
    train = window.docks["Training"]
    assert train.isFloating() and laptop.contains(train.geometry()), train.geometry()  # its own window, on screen


def test_reset_layout_restores_the_default_arrangement(window, qtbot, laptop):
    window.browse(NTU_SAMPLES)
    docks = window.docks
    docks["Occlusion"].setFloating(True)
    docks["Inference"].hide()
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks["Results"])
    window.resize(2400, 1600)
    qtbot.wait(20)
    window.menus.actions["reset_layout"].trigger()
    qtbot.wait(50)
    assert window.size() == docking.default_size(laptop.size()) and _fits(window.size())
    for name in ("Occlusion", "Inference", "Results", "Browser"):
        assert docks[name].isVisible() and not docks[name].isFloating(), name
    assert window.dockWidgetArea(docks["Results"]) == BOTTOM
    assert all(window.dockWidgetArea(docks[n]) == RIGHT for n in ("Occlusion", "Inference", "Live", "Browser"))
    # a laptop's column is too short for Occlusion above Inference: they are tabs of one group
    assert docks["Inference"] in window.tabifiedDockWidgets(docks["Occlusion"])
    # on a tall screen Inference sits below the tabs, seen together with Occlusion
    window.reset_layout(QSize(1920, 1080))
    qtbot.wait(50)
    assert window.size() == QSize(1920, 1080)
    assert docks["Inference"] not in window.tabifiedDockWidgets(docks["Occlusion"])
    assert docks["Inference"].geometry().top() > docks["Occlusion"].geometry().bottom()


def test_a_saved_oversized_geometry_is_clamped_on_restore(qtbot, tmp_path, qloop, laptop):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=settings, prefer_gl=False, device="cpu")
    qtbot.addWidget(first)
    first.show()
    first.resize(2600, 1900)  # e.g. saved on a large monitor, or grown by an older version
    qtbot.wait(20)
    first.close()
    assert settings.value("window/geometry") is not None
    again = MainWindow(settings=settings, prefer_gl=False, device="cpu")
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert laptop.contains(again.frameGeometry()), again.frameGeometry()
    again.service.shutdown()
    again.close()
    # an arrangement saved by an older version (the training panel docked under Inference) is dropped
    old = MainWindow(settings=settings, prefer_gl=False, device="cpu")
    qtbot.addWidget(old)
    old.docks["Training"].setFloating(False)
    old.show_panel("Training")
    settings.setValue("window/state", old.saveState(docking.LAYOUT_VERSION - 1))
    old.save_layout_on_close = False
    old.service.shutdown()
    old.close()
    fresh = MainWindow(settings=settings, prefer_gl=False, device="cpu")
    qtbot.addWidget(fresh)
    assert fresh.docks["Training"].isHidden() and fresh.docks["Training"].isFloating()
    fresh.service.shutdown()


def test_cameras_are_linked_when_the_toggle_is_on(window, qtbot):
    window.open_path(A001)
    left, right = window.left.view, window.right.view
    assert window.link_cameras.isChecked()  # on by default
    canvas = left.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(canvas, QPoint(160, 130))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(160, 130))
    assert left.camera.azimuth != -90.0
    assert (right.camera.azimuth, right.camera.elevation) == (left.camera.azimuth, left.camera.elevation)
    assert right.camera is not left.camera  # a copy, not a shared object
    window.link_cameras.setChecked(False)
    az = right.camera.azimuth
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(canvas, QPoint(40, 100))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(40, 100))
    assert right.camera.azimuth == az != left.camera.azimuth  # unlinked: the other view stays
    window.link_cameras.setChecked(True)  # linking again aligns the right view with the left
    assert right.camera.azimuth == left.camera.azimuth
    # zoom in the right view moves the left one
    right.canvas.wheelEvent(_Wheel(240))
    assert left.camera.distance == pytest.approx(right.camera.distance)


class _Wheel:
    """The part of a QWheelEvent the 2D view reads."""

    def __init__(self, dy: int) -> None:
        self.dy = dy

    def angleDelta(self) -> QPoint:  # Qt's name
        return QPoint(0, self.dy)


@pytest.mark.gl
def test_gl_cameras_are_linked(gl_window, qtbot):
    from app.views.gl_view import GLSkeletonView

    left, right = gl_window.left.view, gl_window.right.view
    if not isinstance(left, GLSkeletonView):
        pytest.skip("no OpenGL here")
    gl_window.open_path(A001)
    left.gl.opts["azimuth"] = 10.0
    left.gl.opts["distance"] = 7.0
    left.gl.camera_moved.emit()  # as its mouse handlers do after an orbit or zoom
    assert right.gl.opts["azimuth"] == pytest.approx(10.0) and right.gl.opts["distance"] == pytest.approx(7.0)


def test_colour_bar_appearing_does_not_reframe_the_right_view(window, qtbot):
    window.open_path(A001)
    window.controller.mask_spec("left-arm")
    qtbot.wait(20)
    pane = window.right
    assert pane.colorbar.isHidden()
    before = pane.view.size()
    st = window.state
    st.set_result(st.version, st.sequence.data + 0.01, {})
    qtbot.wait(20)
    assert pane.colorbar.isVisible()
    assert pane.view.size() == before
    assert window.left.view.size() == before  # both panes the same size: linked cameras frame alike


def test_small_defects_wording_glyphs_brackets(window, qtbot, qloop):
    from app.workers.inference import model_info

    window.open_path(A001)
    assert window.title.text().endswith("· 1 body")
    window.open_path(A058)
    assert window.title.text().endswith("· 2 bodies")
    person = window.mask_editor.person
    assert person.itemText(0) == "all bodies"
    assert person.width() >= person.minimumSizeHint().width()
    assert person.sizeHint().width() > person.fontMetrics().horizontalAdvance("all bodies")
    # the pause state is the style's icon (the fonts here have no U+23F8 glyph)
    play = window.timeline.buttons["play"]
    window.player.set_playing(True)
    assert not play.icon().isNull() and "⏸" not in play.text()
    window.player.set_playing(False)
    # a worker note holding brackets is not wrapped in a second pair
    fake = FakePredictor(steps=1, step_s=0.0)
    fake.classifier = None
    window.service.predictor = fake
    window.state.set_model_info(model_info(fake))
    window.controller.mask_spec("left-arm")
    seen: list[str] = []
    window.controller.status.connect(seen.append)
    assert qloop.run_until_complete(window.start_inference())
    assert seen and "(pretraining only)" in seen[-1] and "))" not in seen[-1], seen


def test_clamp_rect_and_fit_to_screen(qtbot, laptop):
    assert docking.clamp_rect((-50, 900, 3000, 400), (0, 0, 1366, 720)) == (0, 320, 1366, 400)
    assert docking.clamp_rect((10, 20, 800, 600), (0, 0, 1366, 720)) == (10, 20, 800, 600)
    assert docking.default_size(QSize(1366, 720)) == QSize(1366, 720)
    assert docking.default_size(QSize(1920, 1040)) == QSize(1536, 900)
    from PySide6.QtWidgets import QWidget

    w = QWidget()
    qtbot.addWidget(w)
    w.setGeometry(400, 300, 2000, 1500)
    assert docking.fit_to_screen(w) and laptop.contains(w.frameGeometry()), w.frameGeometry()
    assert not docking.fit_to_screen(w)  # already inside: unchanged


@pytest.mark.slow
def test_screenshot_is_exactly_the_size_asked(tmp_path):
    import os
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    from tests.conftest import ROOT

    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    res = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), str(A001), "--no-gl", "--screenshot", str(out), "--size", "1366x768"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1366, 768)
    small = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            str(A001),
            "--no-gl",
            "--screenshot",
            str(tmp_path / "small.png"),
            "--size",
            "400x300",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert small.returncode == 1 and "smallest" in small.stderr and not (tmp_path / "small.png").exists()
