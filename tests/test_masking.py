"""Masking: counts, time order, determinism from the generator, the missing-joint protocol."""

from __future__ import annotations

import pytest
import torch

from dcmae_core.model.masking import (
    frame_keep_indices,
    joint_mask,
    missing_joint_mask,
    num_kept_frames,
    spatiotemporal_mask,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_kept_frames_are_a_multiple_of_the_tuple_length_in_time_order():
    assert num_kept_frames(120, 0.5, 6) == 60
    assert num_kept_frames(120, 0.9, 6) == 12
    assert num_kept_frames(24, 0.99, 6) == 6  # never fewer than one tuple
    keep = frame_keep_indices(5, 120, 0.5, 6, gen())
    assert keep.shape == (5, 60)
    assert (keep[:, 1:] > keep[:, :-1]).all()  # strictly ascending: time order, no repeats
    assert len({tuple(r) for r in keep.tolist()}) == 5  # different frames per sequence


def test_joint_mask_removes_the_same_count_in_every_frame_but_different_joints():
    m = joint_mask(3, 60, 25, 0.4, gen())
    assert m.shape == (3, 60, 25) and m.dtype == torch.bool
    assert (m.sum(-1) == 10).all()
    assert len({tuple(r) for r in m[0].int().tolist()}) > 30  # joints differ between frames


def test_spatiotemporal_mask_matches_the_paper_ratios():
    mask = spatiotemporal_mask(4, 120, 25, 0.5, 0.4, 6, gen())
    assert mask.removed.shape == (4, 120, 25)
    visible = (~mask.removed).float().mean().item()
    assert visible == pytest.approx(0.3)  # SPEC: 30 % of joint-frames stay visible
    kept = torch.zeros(4, 120, dtype=torch.bool)
    kept.scatter_(1, mask.keep, True)
    assert mask.removed[~kept].all()  # dropped frames are removed at every joint
    assert torch.equal(mask.removed.gather(1, mask.keep[:, :, None].expand(-1, -1, 25)), mask.joint_removed)


def test_masks_are_deterministic_given_the_generator():
    a = spatiotemporal_mask(2, 24, 17, 0.5, 0.4, 6, gen(7))
    b = spatiotemporal_mask(2, 24, 17, 0.5, 0.4, 6, gen(7))
    c = spatiotemporal_mask(2, 24, 17, 0.5, 0.4, 6, gen(8))
    assert torch.equal(a.removed, b.removed) and torch.equal(a.keep, b.keep)
    assert not torch.equal(a.removed, c.removed)


def test_missing_joint_mask_counts_and_stays_inside_present_entries():
    present = torch.zeros(2, 2, 30, dtype=torch.bool)
    present[0, 0, :20] = True  # sample 0: one person in 20 frames
    present[1] = True  # sample 1: two persons in all frames
    r = missing_joint_mask(present, 25, 0.1, gen())
    assert r.shape == (2, 2, 30, 25)
    assert r[0].sum() == round(0.1 * 20 * 25) and r[1].sum() == round(0.1 * 2 * 30 * 25)
    assert not (r & ~present[..., None]).any()
    assert torch.equal(r, missing_joint_mask(present, 25, 0.1, gen()))
    assert not missing_joint_mask(present, 25, 0.0, gen()).any()


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="multiple of tuple_len"):
        num_kept_frames(25, 0.5, 6)
    with pytest.raises(ValueError, match="ratio"):
        joint_mask(1, 6, 25, 1.5)
    with pytest.raises(ValueError, match="present"):
        missing_joint_mask(torch.ones(2, 3), 25, 0.1)
