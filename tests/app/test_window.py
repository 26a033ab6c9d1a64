"""The real main window, driven like a user: open, mask, pick, seek, undo, export."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from app import core_bridge, export
from tests.conftest import NTU_MALFORMED, NTU_SAMPLES

pytestmark = pytest.mark.slow  # each test here takes over half a second (make test-fast leaves them out)

A058 = NTU_SAMPLES / "S001C003P008R002A058.skeleton"
A001 = NTU_SAMPLES / "S001C001P001R001A001.skeleton"


def test_opens_every_sample_and_survives_the_malformed_one(window, ntu_files, dialogs):
    for path in ntu_files:
        assert window.open_path(path), dialogs
        seq = window.state.sequence
        assert seq.name == path.stem and seq.data.shape[2:] == (25, 3)
        assert window.state.mask.shape == seq.data.shape[:3] and not window.state.mask.any()
        assert seq.title.startswith(f"A{seq.name[-3:]}")
    assert window.sequence_box.count() == len(ntu_files)
    assert not window.open_path(NTU_MALFORMED)
    assert len(dialogs) == 1 and "line 6" in dialogs[0][1] and "13" in dialogs[0][1]
    assert window.state.sequence.name == ntu_files[-1].stem  # the previous sequence stays open
    assert window.isVisible()
    assert window.recent_files()[0].endswith(ntu_files[-1].name)


def test_two_people_bodies_and_visibility(window):
    window.open_path(A058)
    st = window.state
    assert st.sequence.present.all() and st.body_visible.all()
    layer = window.active_view().current_layers()[0]
    assert (layer.point_col[25:, 3] > 0).all()
    st.set_body_visible(1, False)
    layer = window.active_view().current_layers()[0]
    assert (layer.point_col[25:, 3] == 0).all() and (layer.point_col[:25, 3] > 0).all()


def test_mask_editor_buttons_undo_redo(window, qtbot):
    window.open_path(A001)
    st, ed = window.state, window.mask_editor
    ed.part_checks["left arm"].setChecked(True)
    qtbot.mouseClick(ed.mask_parts, Qt.MouseButton.LeftButton)
    assert st.mask[0, :, list(st.sequence.groups["left arm"])].all() and st.mask.sum() == 103 * 6
    before = st.mask.copy()
    ed.r.setValue(0.2)
    ed.seed.setValue(7)
    ed.missing_requested.emit(ed.r.value(), ed.seed.value())
    assert st.mask.sum() == round(0.2 * 103 * 25)
    qtbot.mouseClick(ed.edit_buttons["undo"], Qt.MouseButton.LeftButton)
    assert np.array_equal(st.mask, before)
    qtbot.mouseClick(ed.edit_buttons["redo"], Qt.MouseButton.LeftButton)
    assert st.mask.sum() == round(0.2 * 103 * 25)
    qtbot.mouseClick(ed.edit_buttons["invert"], Qt.MouseButton.LeftButton)
    assert st.mask.sum() == 103 * 25 - round(0.2 * 103 * 25)
    qtbot.mouseClick(ed.edit_buttons["clear"], Qt.MouseButton.LeftButton)
    assert not st.mask.any()
    window.menus.actions["undo"].trigger()
    assert st.mask.sum() == 103 * 25 - round(0.2 * 103 * 25)
    assert "masked" in ed.summary.text()


def test_pick_a_joint_by_clicking_the_view_and_toggle_it(window, qtbot):
    window.open_path(A001)
    view = window.active_view()
    qtbot.wait(50)
    layer = view.current_layers()[0]
    xy = view._project(layer.point_pos)[3]  # joint 4: head
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(round(xy[0])), int(round(xy[1]))))
    assert window.state.selected == (0, 3)
    assert "head" in window.mask_editor.joint_label.text()
    window.menus.actions["toggle"].trigger()
    assert window.state.mask[0, 0, 3] and window.state.mask.sum() == 1
    layer = view.current_layers()[0]
    assert layer.point_col[3, 3] < 1  # drawn as a ghost, not dropped


def test_timeline_seek_range_playback(window, qtbot):
    window.open_path(A001)
    bar = window.timeline.bar
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(bar.width() // 2, 10))
    assert abs(window.state.frame - 51) <= 1
    x0, x1 = int(bar.x_of(10.5)), int(bar.x_of(20.5))
    qtbot.mousePress(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(x0, 10))
    qtbot.mouseMove(bar, QPoint(x1, 10))
    qtbot.mouseRelease(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(x1, 10))
    assert window.state.in_out == (10, 21)
    window.controller.mask_range(*window.state.in_out)
    assert window.state.mask[0, 10:21].all() and not window.state.mask[0, :10].any()
    window.player.set_speed(4.0)
    window.player.set_playing(True)
    qtbot.wait(300)
    window.player.set_playing(False)
    assert 10 <= window.state.frame < 21  # looped inside the in/out range
    window.menus.actions["next"].trigger()
    assert "frame" in window.timeline.label.text()


def test_exports_skeleton_npy_mask_images(window, tmp_path, dialogs):
    window.open_path(A058)
    c = window.controller
    c.mask_spec("right-arm")
    out = tmp_path / "rec.skeleton"
    assert c.export_reconstruction(out), dialogs
    back = core_bridge.load_sequence(out)
    assert np.allclose(back.data, window.state.sequence.data, atol=1e-4)
    assert c.export_reconstruction(tmp_path / "rec.npy")
    assert np.load(tmp_path / "rec.npy").shape == window.state.sequence.data.shape
    assert c.save_mask(tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["shape"] == [2, 70, 25] and len(doc["removed"]) == window.state.mask.sum()
    c.clear_mask()
    assert c.load_mask(tmp_path / "m.json") and window.state.mask.sum() == len(doc["removed"])
    (tmp_path / "bad.json").write_text('{"shape": [1, 2, 3], "removed": []}')
    assert not c.load_mask(tmp_path / "bad.json") and "shape" in dialogs[-1][1]
    view = window.active_view()
    strip = export.filmstrip(window.state, [0, 35, 69], view.camera, view._floor, cell=120)
    assert strip.width() == 120 + 3 * 120 and strip.height() == 22 + 2 * 120  # no reconstruction row yet
    arr = export.qimage_to_array(strip)
    assert (np.abs(arr[..., :3].astype(int) - [38, 191, 255]).sum(axis=-1) < 60).any()  # body 1 colour
    n = export.export_gif(tmp_path / "a.gif", window.state, "masked", 0, 8, view.camera, view._floor, (96, 80))
    assert n == 8 and (tmp_path / "a.gif").stat().st_size > 0
    export.save_png(tmp_path / "v.png", view.grab_image())
    assert (tmp_path / "v.png").stat().st_size > 0


def test_compare_modes_and_shortcut_reference(window):
    window.open_path(A001)
    window.set_compare_mode("overlay")
    assert window.left.view.source == "overlay" and not window.right.isVisible()
    window.menus.actions["compare"].trigger()
    assert window.compare_box.currentText() == "single"
    window.set_compare_mode("side by side")
    assert window.right.isVisible() and window.left.view.source == "masked"
    from app.widgets.dialogs import keyboard_reference_text

    text = keyboard_reference_text()
    for key in ("Space", "Ctrl+Z", "Esc"):
        assert key in text


def test_error_colour_bar_follows_the_error_colouring(window):
    window.open_path(A058)
    st = window.state
    window.controller.mask_spec("right-arm")
    assert window.right.colorbar.isHidden()  # no reconstruction yet
    assert st.set_result(st.version, st.sequence.data + 0.01, {})
    assert not window.right.colorbar.isHidden() and window.left.colorbar.isHidden()
    st.set_error_colors(False)  # what live mode does: no ground truth, no error scale
    assert window.right.colorbar.isHidden()
    st.set_error_colors(True)
    assert not window.right.colorbar.isHidden()


def test_error_plot_shows_the_whole_error_range(window):
    window.open_path(A058)
    st = window.state
    window.controller.mask_spec("right-arm")
    assert st.set_result(st.version, st.sequence.data + 0.3, {})  # every filled joint 52 cm off
    plot = window.results.error_plot
    assert np.nanmax(plot.errors) > 40 and plot.baseline is None  # no baseline given: no second curve
    assert [label.text for _, label in plot.legend.items] == [f"model: {np.nanmean(plot.errors):.1f} cm"]
    (_, _), (y0, y1) = plot.plotItem.vb.viewRange()
    assert y0 <= 0 and y1 >= np.nanmax(plot.errors)
    worse = st.sequence.data - 1.0  # a baseline 173 cm off sets the range
    assert st.set_result(st.version, st.sequence.data + 0.3, {}, baseline=worse)  # the window redraws the plot
    (_, _), (y0, y1) = plot.plotItem.vb.viewRange()
    assert np.nanmax(plot.baseline) > 170 and y1 >= np.nanmax(plot.baseline)
