"""Preprocessing (SPEC §2 steps 1-4) on the real NTU samples and on a synthetic multi-body file."""

from __future__ import annotations

import numpy as np
import pytest
from shared_data import NTU_DERIVED

from dcmae_core.data.ntu import read_skeleton, skeleton_from_arrays, write_skeleton
from dcmae_core.data.preprocess import preprocess_skeleton, restore_skeleton
from dcmae_core.layout import NTU25


def test_all_real_samples(ntu_files):
    for path in ntu_files:
        skel = read_skeleton(path)
        pre = preprocess_skeleton(skel)
        m, t, v, c = pre.data.shape
        assert (m, v, c) == (2, 25, 3) and pre.data.dtype == np.float32
        assert pre.present.shape == (2, t) and pre.tracking.shape == (2, t, 25)
        assert pre.present[0].any() and pre.present.any(axis=0).all()  # no frame without an actor
        assert np.all(pre.data[~pre.present] == 0)  # absent stays exactly 0
        assert np.all(pre.tracking[~pre.present] == 0)
        assert np.all(np.diff(pre.frame_index) > 0) and pre.frame_index[-1] < skel.num_frames
        # centring: actor 1's joint 2 (spine mid) at the origin in its first valid frame
        first = np.flatnonzero(pre.present[0])[0]
        assert np.all(pre.data[0, first, NTU25.center] == 0)
        body = skel.bodies[pre.source[0, first]]
        row = np.searchsorted(body.frames, pre.frame_index[first])
        np.testing.assert_allclose(pre.origin, body.xyz[row, NTU25.center])
        if "A058" not in path.name:
            assert pre.person_valid.tolist() == [True, False] and pre.actor_body_ids[1] is None


def test_matches_another_projects_parse():
    pre = preprocess_skeleton(read_skeleton(NTU_DERIVED.parent / "ntu_samples" / "S001C001P001R001A001.skeleton"))
    ref = np.load(NTU_DERIVED / "S001C001P001R001A001.body0.xyz.npy")  # (103, 25, 3)
    np.testing.assert_allclose(pre.data[0], ref - ref[0, 1], atol=1e-6)


def test_two_person_sample_keeps_both_actors(ntu_files):
    path = next(p for p in ntu_files if "A058" in p.name)
    skel = read_skeleton(path)
    pre = preprocess_skeleton(skel)
    assert pre.person_valid.tolist() == [True, True]
    assert pre.present.all() and pre.data.shape[1] == 70
    assert set(pre.actor_body_ids) == {72057594037944734, 72057594037944738}
    assert not np.allclose(pre.data[0], pre.data[1])


def test_copy_single_actor_option(ntu_files):
    skel = read_skeleton(ntu_files[0])
    pre = preprocess_skeleton(skel, copy_single_actor=True)
    assert pre.person_valid.all() and np.array_equal(pre.data[0], pre.data[1])
    # a restore writes the body once, from slot 1
    moved = pre.data.copy()
    moved[1] += 5.0
    out = restore_skeleton(skel, pre, moved)
    np.testing.assert_allclose(out.bodies[0].xyz, skel.bodies[0].xyz, atol=1e-6)


def _body(t: int, start: int, stop: int, amp: float, noisy: bool = False, shift: float = 0.0):
    """(T, V, 3) xyz, NaN outside [start, stop): a body 1.6 m tall (or a wide 'noisy' blob), moving by amp."""
    rng = np.random.default_rng(int(amp * 1000) + start)
    base = np.stack([rng.uniform(-0.2, 0.2, 25), np.linspace(-0.8, 0.8, 25), np.zeros(25)], axis=1)
    if noisy:
        base[:, 0] *= 10.0  # x-range 4 m > 0.8 * y-range
        base[:, 1] *= 0.2
    xyz = np.full((t, 25, 3), np.nan)
    k = np.arange(start, stop)
    move = amp * np.sin(k / 3.0)[:, None]
    xyz[start:stop] = base + np.stack([move + shift, 0 * move, 3.0 + 0 * move], axis=-1)
    return xyz


def test_denoising_rules_on_synthetic_bodies():
    t = 70
    bodies = {
        "A": _body(t, 0, 40, amp=1.0),  # largest motion -> actor 1
        "B": _body(t, 40, 50, amp=2.0),  # 10 frames <= 11: dropped although it moves most
        "C": _body(t, 0, 70, amp=3.0, noisy=True),  # noisy in every frame: dropped
        "D": _body(t, 0, 60, amp=0.2, shift=1.0),  # overlaps A -> actor 2
        "E": _body(t, 45, 60, amp=0.5),  # after A, no overlap -> joins actor 1's slot
        "F": _body(t, 20, 31, amp=1.5),  # 11 frames: dropped
        "G": _body(t, 0, 60, amp=0.05),  # overlaps both slots: discarded
    }
    keys = list(bodies)
    ids = [72057594037930000 + k for k in range(len(keys))]
    skel = skeleton_from_arrays(np.stack([bodies[k] for k in keys]), body_ids=ids)
    pre = preprocess_skeleton(skel)
    key_of = {skel.bodies[i].body_id: keys[ids.index(skel.bodies[i].body_id)] for i in range(len(skel.bodies))}
    by_slot = [{key_of[skel.bodies[i].body_id] for i in np.unique(pre.source[s][pre.source[s] >= 0])} for s in range(2)]
    assert by_slot[0] == {"A", "E"} and by_slot[1] == {"D"}
    assert pre.actor_body_ids == [ids[keys.index("A")], ids[keys.index("D")]]
    # frames 60..69 hold only the noisy body: removed; frames 40..44 keep actor 2 only
    assert pre.frame_index.tolist() == list(range(60))
    assert not pre.present[0, 40:45].any() and pre.present[1, 40:45].all()
    assert np.all(pre.data[0, 40:45] == 0)
    # centred on A's spine mid in frame 0
    np.testing.assert_allclose(pre.origin, bodies["A"][0, 1])


def test_single_short_body_is_kept_and_empty_file_rejected():
    skel = skeleton_from_arrays(_body(8, 0, 8, amp=0.3)[None])
    assert preprocess_skeleton(skel).data.shape == (2, 8, 25, 3)
    empty = skeleton_from_arrays(np.full((1, 5, 25, 3), np.nan))
    with pytest.raises(ValueError, match="no body"):
        preprocess_skeleton(empty)


def test_restore_skeleton_round_trip(ntu_files, tmp_path):
    path = next(p for p in ntu_files if "A058" in p.name)
    skel = read_skeleton(path)
    pre = preprocess_skeleton(skel)
    same = restore_skeleton(skel, pre, pre.data)
    for a, b in zip(skel.bodies, same.bodies, strict=True):
        np.testing.assert_allclose(a.xyz, b.xyz, atol=1e-6)
    edited = pre.data.copy()
    edited[1, :, 7] += 0.25  # move actor 2's left hand
    out = restore_skeleton(skel, pre, edited)
    b2 = next(i for i, b in enumerate(skel.bodies) if b.body_id == pre.actor_body_ids[1])
    np.testing.assert_allclose(out.bodies[b2].xyz[:, 7] - skel.bodies[b2].xyz[:, 7], 0.25, atol=1e-6)
    assert skel.bodies[b2].xyz is not out.bodies[b2].xyz  # the input is untouched
    write_skeleton(tmp_path / path.name, out)
    back = read_skeleton(tmp_path / path.name)
    assert back.num_frames == skel.num_frames
    np.testing.assert_allclose(back.bodies[b2].xyz, out.bodies[b2].xyz, atol=1e-6)
    with pytest.raises(ValueError, match="does not match"):
        restore_skeleton(skel, pre, edited[:, :10])
