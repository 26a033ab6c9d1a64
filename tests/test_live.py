"""Live capture: LSL inlets on a loopback outlet started here, replay, the MediaPipe map, online recognition,
recording, and the headless `live` CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from dcmae_core.data.ntu import read_skeleton
from dcmae_core.layout import NTU25
from dcmae_core.live import (
    LiveFrame,
    LiveSourceError,
    LSLSource,
    OnlineRecognizer,
    Recorder,
    ReplaySource,
    StreamAbsentError,
    WebcamSource,
    centre_window,
    channel_labels,
    list_lsl_streams,
    mediapipe_to_ntu25,
    mocap_stream_info,
    open_source,
)

pylsl = pytest.importorskip("pylsl")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    from dcmae_core.checkpoint import write_untrained_checkpoint

    return write_untrained_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", preset="tiny")


@pytest.fixture(scope="module")
def predictor(checkpoint):
    from dcmae_core.inference import Predictor

    return Predictor.from_checkpoint(checkpoint, device="cpu")


@pytest.fixture(scope="module")
def motion(ntu_files) -> np.ndarray:
    """(T, 2, V, 3) camera-space frames of a real one-person sample (second person NaN)."""
    src = ReplaySource(ntu_files[0])
    src.open()
    return src.frames


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Pusher(threading.Thread):
    """Pushes frames into an outlet at `fps` until stopped (a stand-in for a Kinect bridge)."""

    def __init__(self, outlet, frames: np.ndarray, fps: float = 120.0) -> None:
        super().__init__(daemon=True)
        self.outlet, self.frames, self.fps = outlet, frames.reshape(len(frames), -1), fps
        self.halt = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.halt.is_set():
            self.outlet.push_sample(self.frames[i % len(self.frames)])
            i += 1
            time.sleep(1.0 / self.fps)

    def stop(self) -> None:
        self.halt.set()
        self.join(5)


def read_until(src, n: int, timeout: float = 10.0) -> list[LiveFrame]:
    out: list[LiveFrame] = []
    end = time.perf_counter() + timeout
    while len(out) < n and time.perf_counter() < end:
        out += src.read(timeout=0.05)
    return out


# ------------------------------------------------------------------------------------- sources
def test_channel_labels_follow_spec_order():
    labels = channel_labels(NTU25, 2)
    assert len(labels) == 150
    assert labels[:4] == ["p1_spine_base_x", "p1_spine_base_y", "p1_spine_base_z", "p1_spine_mid_x"]
    assert labels[75] == "p2_spine_base_x"


@pytest.mark.slow
def test_lsl_stream_is_listed_read_and_reconnected(motion):
    name = unique("dcmae-test")
    outlet = pylsl.StreamOutlet(mocap_stream_info(name, 2, rate=120.0))
    pusher = Pusher(outlet, motion)
    pusher.start()
    src = LSLSource(name, stall_s=0.5)
    try:
        assert name in [s.name for s in list_lsl_streams(timeout=1.0)]
        src.open()
        assert src.num_persons == 2
        frames = read_until(src, 20)
        assert len(frames) >= 20
        f = frames[-1]
        assert f.xyz.shape == (2, 25, 3) and np.isnan(f.xyz[1]).all() and np.isfinite(f.xyz[0]).any()
        assert any(np.allclose(f.xyz[0], m[0], equal_nan=True) for m in motion)
        assert abs(f.latency) < 5.0
        # the stream stops: a status, no exception, no frames
        pusher.stop()
        del outlet
        end = time.perf_counter() + 10
        while "waiting" not in src.status and time.perf_counter() < end:
            src.read(timeout=0.1)  # frames pushed before the stop may still be queued in the inlet
        assert "waiting for it to return" in src.status
        assert src.read(timeout=0.1) == []
        # it comes back (a new outlet under the same name): frames flow again
        outlet = pylsl.StreamOutlet(mocap_stream_info(name, 2, rate=120.0))
        pusher = Pusher(outlet, motion)
        pusher.start()
        assert len(read_until(src, 5, timeout=15)) >= 5
        assert src.reconnects >= 1 and src.status.startswith("receiving")
    finally:
        pusher.stop()
        src.close()


def test_lsl_wrong_channel_count_and_missing_stream_are_clear_errors():
    name = unique("dcmae-bad")
    info = pylsl.StreamInfo(name, "Mocap", 74, 30.0, "float32", name)
    outlet = pylsl.StreamOutlet(info)
    with pytest.raises(LiveSourceError, match="74 channels"):
        LSLSource(name, resolve_timeout=2.0).open()
    with pytest.raises(LiveSourceError, match="no LSL stream named"):
        LSLSource(unique("absent"), resolve_timeout=0.3).open()
    del outlet


def test_lsl_stream_that_goes_away_while_reconnecting_is_waited_for(monkeypatch):
    """A stream found by the resolver but gone (or silent) before the inlet opens: open() names it, and a
    running source keeps waiting instead of failing (seen under load when an outlet had just closed)."""
    from pylsl import util as lsl_errors

    info = mocap_stream_info(unique("dcmae-gone"), 1)
    failure = [lsl_errors.LostError("the stream has been lost.")]

    class Inlet:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def info(self, timeout: float):
            raise failure[0]

    monkeypatch.setattr(pylsl, "resolve_byprop", lambda *args, **kwargs: [info])
    monkeypatch.setattr(pylsl, "StreamInlet", Inlet)
    src = LSLSource(info.name())
    with pytest.raises(StreamAbsentError, match="went away while connecting"):
        src.open()
    src._lost("the stream was lost")
    for exc in (lsl_errors.LostError("lost"), lsl_errors.TimeoutError("timeout")):
        failure[0] = exc
        src._next_try = 0.0  # try now
        assert src.read(timeout=0.05) == []
        assert "waiting for it to return" in src.status and src.reconnects == 0
    with pytest.raises(StreamAbsentError, match="did not answer within 0.5 s"):
        LSLSource(info.name(), resolve_timeout=0.5).open()


@pytest.mark.slow
def test_lsl_channels_reordered_by_their_labels():
    name = unique("dcmae-perm")
    labels = channel_labels(NTU25, 1)
    perm = np.random.default_rng(0).permutation(len(labels))
    info = pylsl.StreamInfo(name, "Mocap", len(labels), 100.0, "float32", name)
    chans = info.desc().append_child("channels")
    for i in perm:
        chans.append_child("channel").append_child_value("label", labels[i])
    outlet = pylsl.StreamOutlet(info)
    truth = np.arange(len(labels), dtype=np.float32) / 100  # value = its position in NTU order
    pusher = Pusher(outlet, truth[perm][None], fps=100)
    pusher.start()
    src = LSLSource(name)
    try:
        src.open()
        frames = read_until(src, 3)
        np.testing.assert_allclose(frames[-1].xyz.reshape(-1), truth, atol=1e-6)
    finally:
        pusher.stop()
        src.close()


@pytest.mark.slow
def test_replay_paces_frames_and_marks_absent_persons(ntu_files):
    src = open_source(f"replay:{ntu_files[0]}", fps=200.0)
    src.open()
    total = len(src.frames)
    t0 = time.perf_counter()
    frames = read_until(src, total, timeout=20)
    took = time.perf_counter() - t0
    assert len(frames) == total and src.finished and "finished" in src.status
    assert took >= 0.8 * (total - 1) / 200.0  # paced, not dumped at once
    skel = read_skeleton(ntu_files[0])
    np.testing.assert_allclose(frames[0].xyz[0], skel.bodies[0].xyz[0], atol=1e-5)  # camera space kept


def test_bad_sources_are_named():
    with pytest.raises(LiveSourceError, match="no such"):
        ReplaySource("/nonexistent/x.skeleton").open()
    with pytest.raises(LiveSourceError, match="unknown live source"):
        open_source("kinect:1")
    with pytest.raises(LiveSourceError, match="mediapipe==0.10.21"):
        WebcamSource(0).open()  # mediapipe is not installed here (not a dependency)


# ------------------------------------------------------------------------------------- MediaPipe map
def test_mediapipe_map_spec_points_and_y_flip():
    rng = np.random.default_rng(1)
    lm = rng.normal(size=(33, 3))
    out = mediapipe_to_ntu25(lm)
    flip = np.array([1.0, -1.0, 1.0])
    mid = lambda *i: lm[list(i)].mean(axis=0) * flip  # noqa: E731
    np.testing.assert_allclose(out[0], mid(23, 24), atol=1e-6)  # 1 spine base
    np.testing.assert_allclose(out[20], mid(11, 12), atol=1e-6)  # 21 spine shoulder
    np.testing.assert_allclose(out[1], 0.5 * (out[0] + out[20]), atol=1e-6)  # 2 spine mid, derived
    np.testing.assert_allclose(out[2], out[20] + 0.3 * (out[3] - out[20]), atol=1e-6)  # 3 neck, derived
    np.testing.assert_allclose(out[3], mid(0, 7, 8), atol=1e-6)
    np.testing.assert_allclose(out[7], mid(15, 17, 19), atol=1e-6)
    np.testing.assert_allclose(out[11], mid(16, 18, 20), atol=1e-6)
    for ntu, mp in {5: 11, 10: 14, 16: 31, 20: 32, 22: 19, 23: 21, 24: 20, 25: 22}.items():
        np.testing.assert_allclose(out[ntu - 1], lm[mp] * flip, atol=1e-6)


def test_mediapipe_invisible_landmarks_make_their_joints_missing():
    lm = np.random.default_rng(2).normal(size=(4, 33, 3))
    vis = np.ones((4, 33))
    vis[:, 15] = 0.1  # left wrist unseen
    out = mediapipe_to_ntu25(lm, vis)
    nan = np.isnan(out).any(axis=-1)[0]
    assert set(np.flatnonzero(nan) + 1) == {7, 8}  # NTU wrist and hand use landmark 15
    with pytest.raises(ValueError, match="33, 3"):
        mediapipe_to_ntu25(np.zeros((25, 3)))


# ------------------------------------------------------------------------------------- recognition
def test_centre_window_matches_preprocessing_rule(motion):
    win = motion[:30].copy()
    win[:, 0, 1][0] = np.nan  # the centre joint is missing in the first frame
    data, present, missing, origin = centre_window(np.moveaxis(win, 0, 1))
    np.testing.assert_allclose(origin, motion[1, 0, 1], atol=1e-6)  # first frame where it is tracked
    assert missing[0, 0, 1] and missing.sum() == 1 and not present[1].any()
    assert (data[1] == 0).all() and data[0, 0, 1].tolist() == [0, 0, 0]
    empty = centre_window(np.full((2, 5, 25, 3), np.nan))
    assert empty[3] is None and not empty[1].any()


def test_online_recognizer_fills_missing_joints(predictor, motion):
    rec = OnlineRecognizer(predictor, stride=6)
    assert rec.window == predictor.num_frames
    results = []
    for t in range(60):
        xyz = motion[t].copy()
        if t % 3 == 0:
            xyz[0, 7:12] = np.nan  # a burst of missing hand joints
        res = rec.push(LiveFrame(xyz, t / 30, 0.0, time.perf_counter()))
        if res is not None:
            results.append(res)
    assert len(results) == 1 + (60 - rec.window) // 6
    res = results[-1]
    assert len(res.top5) == 5 and abs(sum(p for _, p in res.top5)) <= 1.0 + 1e-6
    assert res.filled == int(res.missing.sum()) > 0
    assert np.isfinite(res.window[0]).all() and np.isnan(res.window[1]).all()
    seen = ~res.missing[0]
    last = motion[60 - rec.window : 60, 0]  # (W, V, 3) what was sent
    np.testing.assert_allclose(res.window[0][seen], last[seen], atol=1e-5)  # tracked joints unchanged
    assert json.loads(json.dumps(res.to_json()))["filled"] == res.filled


def test_online_recognizer_survives_nan_bursts(predictor):
    rec = OnlineRecognizer(predictor, stride=4)
    out = [rec.push(LiveFrame(np.full((2, 25, 3), np.nan, np.float32), t, 0.0, time.perf_counter())) for t in range(40)]
    res = [r for r in out if r is not None][-1]
    assert res.top5 == [] and "no person in view" in res.notes
    with pytest.raises(ValueError, match="25, 3"):
        rec.push(LiveFrame(np.zeros((2, 20, 3), np.float32), 0, 0, 0))


def test_recording_round_trips_through_skeleton_file(tmp_path, motion):
    rec = Recorder()
    with pytest.raises(ValueError, match="nothing recorded"):
        rec.save(tmp_path / "none.skeleton")
    for t in range(12):
        xyz = motion[t].copy()
        xyz[0, 4] = np.nan
        rec.add(LiveFrame(xyz, t / 30, 0.0, 0.0))
    path = rec.save(tmp_path / "rec.skeleton")
    skel = read_skeleton(path)
    assert skel.num_frames == 12 and len(skel.bodies) == 1
    assert (skel.bodies[0].tracking[:, 4] == 0).all() and (skel.bodies[0].tracking[:, 0] == 2).all()
    np.testing.assert_allclose(skel.bodies[0].xyz[:, 0], motion[:12, 0, 0], atol=1e-4)
    back = ReplaySource(path)
    back.open()
    assert np.isnan(back.frames[:, 0, 4]).all() and np.isfinite(back.frames[:, 0, 0]).all()


# ------------------------------------------------------------------------------------- CLI
def _live_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dcmae_core.train", "live", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_live_cli_recognises_an_lsl_stream(checkpoint, motion):
    name = unique("dcmae-cli")
    outlet = pylsl.StreamOutlet(mocap_stream_info(name, 2, rate=90.0))
    pusher = Pusher(outlet, motion, fps=90)
    pusher.start()
    try:
        proc = _live_cli(
            "--source",
            f"lsl:{name}",
            "--checkpoint",
            str(checkpoint),
            "--seconds",
            "3",
            "--stride",
            "8",
            "--device",
            "cpu",
            "--jsonl",
        )
    finally:
        pusher.stop()
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    windows = [x for x in lines if x["event"] == "window"]
    assert len(windows) >= 3, proc.stderr
    assert all(len(w["top5"]) == 5 and w["filled"] == 0 for w in windows)
    assert lines[-1]["event"] == "end" and lines[-1]["windows"] == len(windows)


@pytest.mark.slow
def test_live_cli_replay_and_bad_source(checkpoint, ntu_files, tmp_path):
    out = tmp_path / "rec.skeleton"
    proc = _live_cli(
        "--source",
        f"replay:{ntu_files[0]}",
        "--checkpoint",
        str(checkpoint),
        "--seconds",
        "1.5",
        "--stride",
        "8",
        "--device",
        "cpu",
        "--jsonl",
        "--record",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert any(json.loads(x)["event"] == "window" for x in proc.stdout.splitlines())
    assert read_skeleton(out).num_frames > 30


def test_live_cli_bad_source_is_one_clear_line(checkpoint, capsys):
    from dcmae_core.train import main

    assert main(["live", "--source", "nope:1", "--checkpoint", str(checkpoint), "--seconds", "1"]) == 1
    assert "unknown live source" in capsys.readouterr().err


def test_all_zero_frames_mean_nobody_in_view_and_the_stream_layout_is_mapped():
    """A bridge that sends zeros when nobody is in view must not stop recognition; an NTU-25 stream is mapped
    onto a Kinect-v1 model's joints."""
    from dcmae_core.layout import KINECT20, NTU25
    from dcmae_core.live import OnlineRecognizer
    from dcmae_core.live.sources import LiveFrame

    seen = {}

    class KinectPredictor:
        layout, num_persons, num_frames = KINECT20, 2, 12
        dcmae = classifier = True

        def reconstruct(self, data, removed, layout=None):
            seen["layout"] = layout
            return data

        def classify(self, data, removed=None, layout=None):
            assert np.isfinite(data).all()
            return np.array([0.25, 0.75])

        def top_k(self, probs, k):
            return [("a", 0.25), ("b", 0.75)][:k]

    rec = OnlineRecognizer(KinectPredictor(), stride=4, layout=NTU25)
    rng = np.random.default_rng(0)
    results = []
    for i in range(40):
        xyz = np.zeros((2, 25, 3), np.float32) if 10 <= i < 30 else rng.normal(size=(2, 25, 3)).astype(np.float32)
        if i % 5 == 0 and not 10 <= i < 30:
            xyz[0, 7] = np.nan  # a missing hand
        res = rec.push(LiveFrame(xyz, i / 30, 0.0, time.perf_counter()))
        if res is not None:
            results.append(res)
    nobody = [r for r in results if "no person in view" in r.notes]
    assert nobody and all(not r.present.any() for r in nobody)  # the zero burst is nobody, not a crash
    assert seen["layout"] is NTU25 and results[-1].top5
