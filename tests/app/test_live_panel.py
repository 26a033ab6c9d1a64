"""Live mode in the app: an LSL outlet started here is found, recognised window after window, missing joints
are reconstructed and shown, the view follows the stream, recording writes a valid .skeleton; replay;
a stream that stops and a bad source give a status, not a crash."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import numpy as np
import pytest

from app.main_window import ViewPane
from app.workers.live import LiveSnapshot, display_arrays

pylsl = pytest.importorskip("pylsl")
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def frames(ntu_files) -> np.ndarray:
    from dcmae_core.live import ReplaySource

    src = ReplaySource(ntu_files[0])
    src.open()
    return src.frames  # (T, 2, 25, 3)


@pytest.fixture
def live_window(window, tmp_path, qtbot):
    from dcmae_core.checkpoint import write_untrained_checkpoint

    ckpt = write_untrained_checkpoint(tmp_path / "tiny.pt", preset="tiny")
    qtbot.waitUntil(lambda: window.start_checkpoint(str(ckpt)) is not None, timeout=1000)
    qtbot.waitUntil(lambda: window.service.predictor is not None, timeout=WAIT_MS)
    window.show_panel("Live")
    yield window
    window.live_controller.shutdown()
    assert not window.live_session.running


class Pusher(threading.Thread):
    def __init__(self, name: str, frames: np.ndarray, fps: float = 60.0, hole: bool = True) -> None:
        from dcmae_core.live import mocap_stream_info

        super().__init__(daemon=True)
        self.outlet = pylsl.StreamOutlet(mocap_stream_info(name, 2, rate=fps))
        self.frames, self.fps, self.hole = frames, fps, hole
        self.halt = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.halt.is_set():
            f = self.frames[i % len(self.frames)].copy()
            if self.hole and i % 2 == 0:
                f[0, 4:8] = np.nan  # the left arm drops out every other frame
            self.outlet.push_sample(f.reshape(-1))
            i += 1
            time.sleep(1.0 / self.fps)

    def stop(self) -> None:
        self.halt.set()
        self.join(5)
        self.outlet = None


@pytest.mark.slow
def test_display_arrays_hold_missing_and_take_reconstruction():
    raw = np.zeros((4, 2, 25, 3), np.float32) + np.arange(4, dtype=np.float32)[:, None, None, None]
    raw[:, 1] = np.nan
    raw[2, 0, 5] = np.nan
    filled = np.full_like(raw, np.nan)
    filled[2, 0] = raw[2, 0]
    filled[2, 0, 5] = 9.0
    snap = LiveSnapshot(raw, filled, 4, 30.0, 0.0, "")
    data, present, missing, recon = display_arrays(snap, np.zeros(3, np.float32))
    assert present[0].all() and not present[1].any() and missing.sum() == 1 and missing[0, 2, 5]
    assert data[0, 2, 5].tolist() == [1, 1, 1]  # held from the frame before
    assert recon[0, 2, 5].tolist() == [9, 9, 9] and (data[1] == 0).all()


@pytest.mark.slow
def test_lsl_stream_recognised_in_the_app(live_window, qtbot, frames, tmp_path):
    win, panel, live = live_window, live_window.live_panel, live_window.live_controller
    name = f"dcmae-app-{uuid.uuid4().hex[:8]}"
    pusher = Pusher(name, frames)
    pusher.start()
    try:
        task = asyncio.ensure_future(live.find_streams())
        qtbot.waitUntil(task.done, timeout=WAIT_MS)
        assert f"lsl:{name}" in task.result()
        assert panel.source.findText(f"lsl:{name}") >= 0  # offered in the panel's source box
        assert live.start(f"lsl:{name}", stride=6)
        panel.record_btn.setChecked(True)
        qtbot.waitUntil(lambda: len(panel.last_top5) == 5 and live.ticks >= 5, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: win.state.reconstruction is not None, timeout=WAIT_MS)
        st = win.state
        assert st.sequence.name == "live" and st.frame == st.sequence.num_frames - 1
        assert st.predictions.get("reconstruction") and st.recon_mask.any()
        assert st.mask[0, :, 4:8].any() and not st.mask[0, :, 0].any()  # the arm, never the spine
        assert not st.error_colors  # reconstructed joints drawn in one distinct colour
        assert all(pane.colorbar.isHidden() for pane in win.findChildren(ViewPane))  # no error scale live
        assert "fps" in panel.rate.text() and "latency" in panel.rate.text()
        before = st.sequence.data.copy()
        qtbot.wait(400)
        assert not np.array_equal(before, st.sequence.data)  # the view follows the stream
        qtbot.waitUntil(lambda: win.live_session.recorded_frames() >= 20, timeout=WAIT_MS)
        assert live.save_recording(str(tmp_path / "live.skeleton"))
        assert not panel.record_btn.isChecked()
    finally:
        pusher.stop()
    from dcmae_core.data.ntu import read_skeleton

    skel = read_skeleton(tmp_path / "live.skeleton")
    assert skel.num_frames >= 20 and (skel.bodies[0].tracking[:, 4] == 0).any()
    # the stream is gone: a status, no crash
    qtbot.waitUntil(lambda: "waiting" in panel.status.text(), timeout=WAIT_MS)
    assert win.live_session.running


@pytest.mark.slow
def test_replay_and_bad_sources(live_window, qtbot, ntu_files):
    panel, live = live_window.live_panel, live_window.live_controller
    assert live.start("lsl:no-such-stream-here") is False
    assert "no LSL stream" in panel.status.text()
    assert live.start("bogus") is False and "unknown live source" in panel.status.text()
    assert live.start(f"replay:{ntu_files[1]}", replay_fps=120.0)
    qtbot.waitUntil(lambda: live.ticks >= 3 and bool(panel.last_top5), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "finished" in panel.status.text(), timeout=WAIT_MS)
    assert live_window.state.sequence.present.any()
