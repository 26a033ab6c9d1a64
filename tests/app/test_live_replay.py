"""Live replay without a network: a looped replay goes on past the file's end, the panel's rows never overlap,
and live frames never go on the undo stack."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

from tests.conftest import NTU_SAMPLES

A058 = NTU_SAMPLES / "S001C003P008R002A058.skeleton"  # 70 frames
WAIT_MS = 30_000


@pytest.mark.slow
def test_a_looped_replay_starts_again_at_its_end(window, qtbot):
    panel, live = window.live_panel, window.live_controller
    window.show_panel("Live")
    try:
        assert live.start(f"replay:{A058}", loop=True, replay_fps=300.0)
        qtbot.waitUntil(
            lambda: (window.live_session.snapshot() or 0) and window.live_session.snapshot().count > 150,
            timeout=WAIT_MS,
        )
        assert window.live_session.running and "finished" not in panel.status.text()
    finally:
        live.shutdown()
    assert live.start(f"replay:{A058}", loop=False, replay_fps=300.0)
    qtbot.waitUntil(lambda: "finished" in panel.status.text(), timeout=WAIT_MS)
    assert window.live_session.snapshot().count == 70
    live.shutdown()


def test_the_live_panels_rows_do_not_overlap(window, qtbot):
    panel = window.live_panel
    window.show_panel("Live")
    panel.status.setText("replay of a_rather_long_file_name_S001C003P008R002A058.skeleton: 70 frames at 30 fps")
    panel.rate.setText(
        "replay of S001C003P008R002A058.skeleton · 30.0 fps · latency 0 ms (recognition +92 ms) "
        "· 141 frames · recording 120 frames"
    )
    top5 = [
        ("punching/slapping other person, a long action name", 0.553),
        ("hugging other person", 0.183),
        ("walking apart from each other", 0.154),
        ("pointing to something with finger", 0.036),
        ("x", 0.013),
    ]
    panel.show_top5(top5, 12)
    for width in (260, 360, 520):
        panel.resize(width, 700)
        QApplication.processEvents()
        widgets = [
            w
            for w in panel.findChildren(QLabel) + panel.findChildren(QAbstractButton)
            if w.isVisible() and (not isinstance(w, QLabel) or w.text())
        ]
        rects = [
            (w, w.geometry().translated(w.parentWidget().mapTo(panel, w.parentWidget().rect().topLeft())))
            for w in widgets
        ]
        for (a, ra), (b, rb) in itertools.combinations(rects, 2):
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue
            assert not ra.intersects(rb), (width, type(a).__name__, a.text()[:30], type(b).__name__, b.text()[:30])


def test_live_frames_do_not_go_on_the_undo_stack(window):
    st, live = window.state, window.live_controller
    m, length, v = 2, 30, 25
    data = np.random.default_rng(0).normal(size=(m, length, v, 3)).astype(np.float32)
    present = np.ones((m, length), bool)
    for k in range(3):
        missing = np.zeros((m, length, v), bool)
        missing[0, :, k] = True  # a different joint drops out in each frame of the stream
        live.feed(data, present, missing, data, [], 0)
        assert st.mask.any()
    assert not st.can_undo and not st.can_redo


@pytest.mark.slow
def test_the_live_panels_buttons_reach_the_controller(window, qtbot):
    panel, live = window.live_panel, window.live_controller
    window.show_panel("Live")
    panel.source.setCurrentText("bogus")
    panel.stride.setValue(6)
    panel.loop.setChecked(True)
    with qtbot.waitSignal(panel.start_requested) as sig:
        panel.start_btn.click()
    assert sig.args == ["bogus", 6, True] and "unknown live source" in panel.status.text()
    panel.source.setCurrentText(f"replay:{A058}")
    try:
        panel.start_btn.click()
        qtbot.waitUntil(lambda: live.ticks >= 1, timeout=WAIT_MS)
        assert window.state.sequence.name == "live"
        assert panel.stop_btn.isEnabled() and not panel.start_btn.isEnabled()
        panel.record_btn.setChecked(True)
        assert window.live_session.recording
        panel.stop_btn.click()
        assert not window.live_session.running and not panel.record_btn.isChecked()
        assert panel.start_btn.isEnabled()
    finally:
        live.shutdown()
