"""The synthetic corpus: determinism, genuine files, sane Kinect geometry, distinct classes, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from dcmae_core.data.ntu import SampleName, is_two_person, parse_sample_name, read_skeleton
from dcmae_core.data.preprocess import preprocess_skeleton
from dcmae_core.data.synth import (
    ACTIONS,
    SYNTH_ACTIONS,
    corpus_names,
    generate_sample,
    perform,
    performer_shape,
    write_corpus,
)
from dcmae_core.data.synth_actions import Style
from dcmae_core.data.synth_body import FOOT, HAND_TIP, WRIST, Motion, forward_kinematics
from dcmae_core.layout import NTU25
from dcmae_core.train import main as cli_main

BONES = NTU25.bones  # (B, 2) child, parent
# Bones whose joints Kinect tracks well (no hands, feet, tips or thumbs): spine, neck, head, shoulders,
# upper arms, hips, thighs.
STEADY = [i for i, (c, _) in enumerate(BONES) if c in (1, 2, 3, 4, 5, 8, 9, 12, 13, 16, 17, 20)]


def _bone_lengths(xyz: np.ndarray) -> np.ndarray:
    """(n, V, 3) -> (n, B) metres."""
    return np.linalg.norm(xyz[:, BONES[:, 0]] - xyz[:, BONES[:, 1]], axis=-1)


def _name(s=1, c=2, p=1, r=1, a=23) -> SampleName:
    return SampleName(setup=s, camera=c, performer=p, replication=r, action=a)


def test_library_has_enough_classes_and_interactions():
    assert len(SYNTH_ACTIONS) >= 12
    assert sum(is_two_person(a) for a in SYNTH_ACTIONS) >= 2
    for a in SYNTH_ACTIONS:  # generators return one motion per person
        motions = ACTIONS[a](np.random.default_rng(0), Style(1.0, 1.0, 1))
        assert len(motions) == (2 if is_two_person(a) else 1), a
        assert 40 <= motions[0].num_frames <= 150


def test_forward_kinematics_keeps_segment_lengths():
    shape = performer_shape(0, 7)
    m = Motion(30)
    rng = np.random.default_rng(1)
    for track in (m.arm_flex, m.arm_abd, m.arm_rot, m.elbow, m.hip_flex, m.knee):
        track += rng.uniform(-1.5, 1.5, track.shape)
    m.lean += rng.uniform(-1, 1, 30)
    m.pitch += rng.uniform(-1, 1, 30)
    xyz = forward_kinematics(shape, m)  # (T, V, 3)
    lengths = _bone_lengths(xyz)
    np.testing.assert_allclose(lengths, lengths[:1].repeat(30, 0), atol=1e-9)
    assert np.isclose(lengths[0, 5 - 1], shape.upper_arm)  # bone of joint 6 (left elbow)
    assert xyz[..., 1].min() > 0.0  # nothing below the floor


def test_same_seed_identical_bytes_and_subset_independence(tmp_path):
    names = [_name(a=23), _name(c=1, a=23), _name(p=5, r=2, a=58), _name(p=3, a=43)]
    a = write_corpus(tmp_path / "a", names, seed=4)
    write_corpus(tmp_path / "b", names[::-1], seed=4)  # other order
    c = write_corpus(tmp_path / "c", names[2:3], seed=4)  # a subset
    d = write_corpus(tmp_path / "d", names, seed=5)
    for pa in a:
        assert pa.read_bytes() == (tmp_path / "b" / pa.name).read_bytes()
    assert a[2].read_bytes() == c[0].read_bytes()
    assert all(pa.read_bytes() != pd.read_bytes() for pa, pd in zip(a, d, strict=True))


@pytest.mark.slow
def test_files_parse_with_sane_camera_space(tmp_path):
    names = corpus_names(count=38, seed=1)
    assert len(set(n.action for n in names)) == len(SYNTH_ACTIONS)  # balanced draw covers every class
    paths = write_corpus(tmp_path, names, seed=1)
    states = []
    for name, path in zip(names, paths, strict=True):
        assert parse_sample_name(path) == name
        skel = read_skeleton(path)
        assert 40 <= skel.num_frames <= 150
        assert skel.bodies_per_frame.mean() > 0.8  # dropouts are short
        for b in skel.bodies:
            assert b.xyz.shape[1:] == (25, 3) and 10**16 <= b.body_id < 10**17
            z = b.xyz[..., 2]
            assert 1.0 < np.median(z) < 5.0  # metres in front of the camera
            states.append(b.tracking.ravel())
    states = np.concatenate(states)
    assert set(np.unique(states)) == {1, 2}  # some inferred joints, most tracked
    assert 0.01 < (states == 1).mean() < 0.3


def test_bone_lengths_constant_within_sequence_and_per_performer():
    medians = {}
    for p in (1, 2):
        for a, c in ((10, 1), (23, 2), (6, 3)):
            skel = generate_sample(_name(c=c, p=p, a=a), seed=0)
            body = max(skel.bodies, key=lambda b: len(b.frames))
            tracked = body.tracking == 2  # (n, V)
            ok = (tracked[:, BONES[:, 0]] & tracked[:, BONES[:, 1]])[:, STEADY]  # (n, B') both ends
            lengths = np.where(ok, _bone_lengths(body.xyz)[:, STEADY], np.nan)  # (n, B')
            assert np.nanmedian(np.nanstd(lengths, axis=0)) < 0.02  # jitter only: metres
            medians.setdefault(p, []).append(np.nanmedian(lengths, axis=0))
    for p, m in medians.items():
        assert np.ptp(np.stack(m), axis=0).max() < 0.03, p  # same performer, same bones in every file
    assert np.abs(medians[1][0] - medians[2][0]).max() > 0.03  # different performers differ


def test_bone_lengths_resemble_real_kinect(ntu_files):
    real = np.median(np.stack([np.median(_bone_lengths(read_skeleton(f).bodies[0].xyz), 0) for f in ntu_files]), 0)
    synth = np.median(
        np.stack([np.median(_bone_lengths(generate_sample(_name(p=p)).bodies[0].xyz), 0) for p in range(1, 9)]), 0
    )
    big = real > 0.1
    ratio = synth[big] / real[big]
    assert ratio.min() > 0.75 and ratio.max() < 1.33, ratio


def test_two_person_classes_have_two_bodies():
    for a in SYNTH_ACTIONS:
        skel = generate_sample(_name(p=a % 40 + 1, a=a), seed=2)
        most = int(skel.bodies_per_frame.max())
        assert most == (2 if is_two_person(a) else 1), a
        if is_two_person(a):
            pre = preprocess_skeleton(skel)
            assert pre.person_valid.all(), a


def _actor(a: int, p: int, seed: int) -> np.ndarray:
    """Actor 1 of a sample, preprocessed (T, V, 3): centred on the spine mid of its first frame."""
    pre = preprocess_skeleton(generate_sample(_name(p=p, a=a), seed=seed))
    return pre.data[0][pre.present[0]]


def _centred(a: int, p: int, seed: int) -> np.ndarray:
    """Actor 1 of a sample (T, V, 3), each frame relative to its own spine base."""
    x = _actor(a, p, seed)
    return x - x[:, :1]


@pytest.mark.parametrize("seed", [0, 1])
def test_classes_differ_in_which_limb_moves(seed):
    wrists, feet = list(WRIST + HAND_TIP), list(FOOT)
    for p in (3, 11, 26):
        wave, kick = _centred(23, p, seed), _centred(24, p, seed)
        assert wave[:, wrists].std(0).max() > 2 * wave[:, feet].std(0).max()
        assert kick[:, feet].std(0).max() > 2 * kick[:, wrists].std(0).max()
        sit, stand = _actor(8, p, seed), _actor(9, p, seed)
        assert sit[-5:, 3, 1].mean() < sit[:5, 3, 1].mean() - 0.2  # the head goes down when sitting
        assert stand[-5:, 3, 1].mean() > stand[:5, 3, 1].mean() + 0.2


def test_drink_and_brushing_share_a_pose_but_not_a_rhythm():
    def shake(x: np.ndarray) -> float:
        """RMS (metres) of the raised wrist's motion faster than ~3 Hz (minus a 9-frame mean), mid-clip."""
        t = len(x)
        w = x[int(0.3 * t) : int(0.7 * t), list(WRIST)] - x[int(0.3 * t) : int(0.7 * t), 3:4]  # (T', 2, 3)
        w = w[:, np.argmin(np.linalg.norm(w, axis=-1).mean(0))]  # (T', 3) the raised hand
        smooth = np.stack([np.convolve(w[:, k], np.ones(9) / 9, mode="valid") for k in range(3)], -1)
        return float(np.sqrt(((w[4:-4] - smooth) ** 2).sum(-1).mean()))

    for p in (4, 9, 30):
        for a in (1, 3):  # both bring a hand up to the face (in the noisy file)
            x = _actor(a, p, 3)
            t = len(x)
            hold = x[int(0.4 * t) : int(0.6 * t)]  # (T', V, 3)
            assert np.median(np.linalg.norm(hold[:, list(HAND_TIP)] - hold[:, 3:4], axis=-1), 0).min() < 0.25
        # The rhythm is in the motion itself (sensor noise shakes the hands of every class alike).
        drink, brush = (perform(3, _name(p=p, a=a))[0] for a in (1, 3))  # (T, V, 3) world, noise-free
        assert shake(brush) > 2 * shake(drink), p


def test_corpus_names_grid_and_errors():
    full = corpus_names(performers=[1, 2], cameras=[2], setups=[1], replications=[1])
    assert len(full) == 2 * len(SYNTH_ACTIONS)
    assert corpus_names(count=25, seed=3) == corpus_names(count=25, seed=3)
    with pytest.raises(ValueError, match="A002"):
        corpus_names(actions=[2])
    with pytest.raises(ValueError, match="performer"):
        corpus_names(performers=[41])
    with pytest.raises(ValueError, match="count"):
        corpus_names(count=10**7)


def test_cli_writes_the_count_asked_for(tmp_path, capsys):
    out = tmp_path / "corpus"
    assert cli_main(["synth", "--out", str(out), "--count", "7", "--seed", "3", "--performers", "1-5"]) == 0
    files = sorted(out.glob("*.skeleton"))
    assert len(files) == 7
    names = [parse_sample_name(f) for f in files]
    assert len({n.action for n in names}) == 7 and all(n.performer <= 5 for n in names)
    assert cli_main(["synth", "--out", str(out), "--actions", "2"]) == 1
    assert "A002" in capsys.readouterr().err
    assert cli_main(["synth", "--list-actions", "--out", str(out)]) == 0
    assert "hand waving" in capsys.readouterr().out
