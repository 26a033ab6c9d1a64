"""The motion bank (dcmae_core/motion_bank.py): a hidden span is filled from the recorded motion most like the
visible joints, in the query's own place and facing; the mirrored-limb check keeps interpolation where the bank's
motion does not fit, and so does the match distance where the bank holds nothing near the query; short,
one-sided or rootless spans are left alone; the bank survives a checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dcmae_core import motion_bank
from dcmae_core.baselines import interpolate_from_parent
from dcmae_core.checkpoint import CheckpointError, load_checkpoint
from dcmae_core.data.transforms import rotation_matrix
from dcmae_core.inference import DEMO_CHECKPOINT, Predictor
from dcmae_core.layout import KINECT20
from dcmae_core.motion_bank import MIN_GAP, MotionBank

LEFT_ARM = list(KINECT20.groups["left arm"])
RIGHT_ARM = list(KINECT20.groups["right arm"])


def _pose() -> np.ndarray:
    """A standing Kinect-v1 skeleton (V, 3) in metres, facing the camera (left side at -x)."""
    p = np.zeros((20, 3), np.float32)
    p[0], p[1], p[2], p[3] = (0, 0.9, 2), (0, 1.1, 2), (0, 1.4, 2), (0, 1.6, 2)
    for side, arm, leg in ((-1, LEFT_ARM, (12, 13, 14, 15)), (1, RIGHT_ARM, (16, 17, 18, 19))):
        for k, j in enumerate(arm):
            p[j] = (side * (0.2 + 0.02 * k), 1.4 - 0.25 * k, 2)
        for k, j in enumerate(leg):
            p[j] = (side * 0.1, 0.9 - 0.25 * (k + 1) + (0.2 if k == 3 else 0), 2 - (0.1 if k == 3 else 0))
    return p


def _clip(length: int, amp_left: float, amp_right: float, period: float, phase: float = 0.0) -> np.ndarray:
    """(T, V, 3): the pose with each arm swinging forward and back (z) and up (y), growing along the arm."""
    t = np.arange(length, dtype=np.float32)[:, None]
    x = np.repeat(_pose()[None], length, axis=0)
    for arm, amp in ((LEFT_ARM, amp_left), (RIGHT_ARM, amp_right)):
        for k, j in enumerate(arm):
            s = np.sin(2 * np.pi * t / period + phase)[:, 0]
            x[:, j, 2] -= amp * k / 3 * s
            x[:, j, 1] += 0.5 * amp * k / 3 * (1 - np.cos(2 * np.pi * t[:, 0] / period + phase))
    return x


def _bank(**kw) -> MotionBank:
    return MotionBank.from_clips([_clip(90, 0.3, 0.3, 30.0), _clip(60, 0.05, 0.05, 45.0, 1.0)], KINECT20, **kw)


def _turned(x: np.ndarray, yaw: float, shift=(0.4, 0.0, 0.7)) -> np.ndarray:
    rot = rotation_matrix(np.array([0.0, yaw, 0.0])).astype(np.float32)
    return (x @ rot.T + np.asarray(shift, np.float32)).astype(np.float32)


def _parent_interp(x: np.ndarray, removed: np.ndarray) -> np.ndarray:
    return interpolate_from_parent(torch.from_numpy(x), torch.from_numpy(removed), KINECT20.parents).numpy()


def test_a_recorded_motion_is_recovered_in_the_querys_own_place_and_facing():
    bank = _bank(neighbours=1)
    truth = _turned(_clip(90, 0.3, 0.3, 30.0)[10:80], yaw=0.7)  # the bank's first clip, moved and turned
    removed = np.zeros(truth.shape[:2], bool)
    removed[20:50, LEFT_ARM[1:]] = True  # elbow, wrist and hand hidden for 30 frames, seen on both sides
    report: dict[str, int] = {}
    fill, applied = bank.fill(np.where(removed[..., None], 0, truth), removed, max_gap=60, report=report)
    assert np.array_equal(applied, removed) and report == {"filled": 1}
    err = np.linalg.norm(fill - truth, axis=-1)[removed]
    err_interp = np.linalg.norm(_parent_interp(truth, removed) - truth, axis=-1)[removed]
    assert err.max() < 1e-3 and err_interp.mean() > 0.05  # exact, where interpolation is centimetres off


def test_motion_unlike_the_banks_keeps_interpolation():
    """The query's arms barely move; the bank's nearest windows swing, so the right arm's proxy fill is far worse
    than its interpolation and the left arm is not filled from the bank."""
    bank = MotionBank.from_clips([_clip(90, 0.3, 0.3, 12.0)], KINECT20, neighbours=1)
    truth = _clip(60, 0.02, 0.0, 200.0)
    removed = np.zeros(truth.shape[:2], bool)
    removed[20:45, LEFT_ARM] = True
    report: dict[str, int] = {}
    _fill, applied = bank.fill(truth, removed, max_gap=60, report=report)
    assert not applied.any() and report == {"mirror": 1}


def test_a_body_far_from_every_recorded_one_keeps_interpolation(monkeypatch):
    """The recorded arm swing again, but on a body whose legs stand 35 cm wider than anyone's in the bank: the
    mirrored arm's proxy still fits exactly, yet the nearest windows are further than MATCH_RMS from the visible
    body, so the span keeps interpolation; with the limit lifted the same span is filled from the bank."""
    bank = _bank(neighbours=1)
    truth = _clip(90, 0.3, 0.3, 30.0)[10:80].copy()
    for leg, side in (((12, 13, 14, 15), -1), ((16, 17, 18, 19), 1)):
        truth[:, list(leg), 0] += side * 0.35
    removed = np.zeros(truth.shape[:2], bool)
    removed[20:50, LEFT_ARM[1:]] = True
    report: dict[str, int] = {}
    _fill, applied = bank.fill(truth, removed, max_gap=60, report=report)
    assert not applied.any() and report == {"far": 1}
    assert motion_bank.describe_report(report) == (
        "motion bank: 1 hidden span kept interpolation (no recorded motion close enough: 1)"
    )
    monkeypatch.setattr(motion_bank, "MATCH_RMS", 1.0)
    _fill, applied = bank.fill(truth, removed, max_gap=60)
    assert np.array_equal(applied, removed)


@pytest.mark.parametrize("case", ["short", "one_sided", "too_long", "root_hidden", "mirror_hidden"])
def test_spans_the_bank_leaves_alone(case):
    bank = _bank(neighbours=1)
    truth = _clip(90, 0.3, 0.3, 30.0)
    removed = np.zeros(truth.shape[:2], bool)
    span = {"short": slice(30, 30 + MIN_GAP - 1), "one_sided": slice(60, 90), "too_long": slice(10, 80)}
    removed[span.get(case, slice(30, 50)), LEFT_ARM] = True
    if case == "root_hidden":
        removed[35, KINECT20.center] = True
    if case == "mirror_hidden":
        removed[30:50, RIGHT_ARM] = True
    report: dict[str, int] = {}
    _fill, applied = bank.fill(truth, removed, max_gap=60, report=report)
    assert not applied.any()
    # spans outside MIN_GAP..max_gap or not seen on both sides are not the bank's to report; the others are
    assert report == ({"unchecked": 1} if case in ("root_hidden", "mirror_hidden") else {})


def test_it_survives_a_checkpoint_and_a_wrong_one_is_named(tmp_path):
    bank = _bank()
    back = MotionBank.from_dict(bank.to_dict())
    assert back.num_clips == 2 and np.abs(back.frames - bank.frames).max() < 1e-3
    half = bank.frames.astype(np.float16).astype(np.float32)
    assert np.array_equal(back.frames, half)  # the packing loses nothing of the half floats
    older = {"frames": torch.from_numpy(bank.frames.astype(np.float16)), "bounds": torch.from_numpy(bank.bounds)}
    assert np.array_equal(MotionBank.from_dict(older | _meta(bank)).frames, half)  # unpacked checkpoints still load
    broken = bank.to_dict() | {"frames_packed": torch.zeros(40, dtype=torch.uint8)}
    with pytest.raises(ValueError, match="motion bank is unreadable"):
        MotionBank.from_dict(broken)
    with pytest.raises(ValueError, match="motion bank"):
        MotionBank.from_dict({"frames": torch.zeros(5, 20, 3), "bounds": torch.tensor([0, 9])} | _meta(bank))
    ckpt = load_checkpoint(DEMO_CHECKPOINT)  # an NTU-25 model
    ckpt["motion_bank"] = bank.to_dict()
    with pytest.raises(CheckpointError, match="kinect_v1 skeleton"):
        Predictor(ckpt, device="cpu")


def _meta(bank: MotionBank) -> dict:
    d = bank.to_dict()
    return {k: d[k] for k in ("layout", "neighbours", "proxy_ratio")}


def test_predictor_uses_it_inside_the_gate_only(tmp_path):
    """A Kinect-v1 checkpoint with a bank fills a both-sided 30-frame span from it (the gate would keep
    interpolation there), and a joint hidden to the clip's end from the model."""
    from dcmae_core.inference import REAL_CHECKPOINT

    if not REAL_CHECKPOINT.exists():
        pytest.skip("real-motion checkpoint not bundled")
    ckpt = load_checkpoint(REAL_CHECKPOINT)
    ckpt["motion_bank"] = _bank(neighbours=1).to_dict()
    pred = Predictor(ckpt, device="cpu")
    assert pred.info["motion_bank"] == {"clips": 2, "frames": 150, "spans": [MIN_GAP, 60]}
    truth = _clip(90, 0.3, 0.3, 30.0)[None]
    removed = np.zeros(truth.shape[:3], bool)
    removed[0, 20:50, LEFT_ARM[1:]] = True
    fill = pred.reconstruct(truth, removed, layout=KINECT20)
    assert np.linalg.norm(fill - truth, axis=-1)[removed].max() < 0.01
    ckpt.pop("motion_bank")
    plain = Predictor(ckpt, device="cpu").reconstruct(truth, removed, layout=KINECT20)
    np.testing.assert_allclose(plain[removed], _parent_interp(truth[0], removed[0])[removed[0]], atol=1e-4)


@pytest.mark.slow
def test_slim_checkpoint_builds_the_bank_from_a_caches_training_clips(tmp_path, capsys):
    """`slim-checkpoint --motion-bank CACHE`: the training split only (UTD-MHAD's odd subjects), into the file."""
    import shutil

    from shared_data import SHARED_DATA

    from dcmae_core.inference import REAL_CHECKPOINT
    from dcmae_core.train import main

    utd = SHARED_DATA / "real" / "utd_mhad"
    if not utd.is_dir() or not REAL_CHECKPOINT.exists():
        pytest.skip("needs ../shared/data/real and the bundled real-motion checkpoint")
    src = tmp_path / "utd"
    src.mkdir()
    for f in sorted(utd.glob("a2[23]_s[12]_t1_skeleton.mat")):  # subject 1 trains, subject 2 tests
        shutil.copy(f, src / f.name)
    assert main(["import-utd-mhad", str(src), "--out", str(tmp_path / "cache")]) == 0
    dst = tmp_path / "banked.pt"
    assert main(["slim-checkpoint", str(REAL_CHECKPOINT), str(dst), "--motion-bank", str(tmp_path / "cache")]) == 0
    assert "motion bank: 2 clips" in capsys.readouterr().out
    pred = Predictor.from_checkpoint(dst, device="cpu")
    assert pred.motion_bank.num_clips == 2 and pred.motion_bank.proxy_ratio == 1.0
    assert main(["slim-checkpoint", str(REAL_CHECKPOINT), str(dst), "--motion-bank", str(tmp_path / "nothing")]) != 0
    assert "nothing does not exist" in capsys.readouterr().err
