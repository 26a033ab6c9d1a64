"""The reconstruction baselines: linear interpolation of removed joints in time (plain, and relative to the
parent joint); spread sample names."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dcmae_core.baselines import interpolate_from_parent, interpolate_removed
from dcmae_core.data.synth import spread_names


def test_interpolation_is_linear_between_visible_frames_and_flat_at_the_ends() -> None:
    t = np.arange(10, dtype=np.float32)
    data = np.zeros((2, 10, 3, 3), dtype=np.float32)
    data[0, :, 0] = np.stack([t, 2 * t, -t], axis=-1)  # a joint moving on a line
    data[1] = 5.0
    removed = np.zeros((2, 10, 3), dtype=bool)
    removed[0, [0, 1, 4, 5, 9], 0] = True  # both ends and a gap
    removed[1, :, 2] = True  # never visible: nothing to interpolate from
    damaged = np.where(removed[..., None], np.float32(99.0), data)  # what was removed is garbage
    out = interpolate_removed(damaged, removed)
    np.testing.assert_allclose(out[0, [4, 5], 0], data[0, [4, 5], 0])  # exact on a line
    np.testing.assert_allclose(out[0, [0, 1], 0], np.repeat(data[0, 2:3, 0], 2, axis=0))  # held from frame 2
    np.testing.assert_allclose(out[0, 9, 0], data[0, 8, 0])
    np.testing.assert_array_equal(out[~removed], data[~removed])
    assert (out[1, :, 2] == 0).all()  # never visible: what a sensor reports, not the removed values


def test_interpolation_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="removed"):
        interpolate_removed(np.zeros((1, 5, 25, 3)), np.zeros((1, 5, 24), dtype=bool))


@pytest.mark.slow
def test_parent_relative_interpolation_follows_a_visible_parent_on_a_curve() -> None:
    """An upper arm swinging on a circle with the body walking, the wrist bending slowly: a hidden hand placed
    relative to its visible elbow stays close to the truth where plain interpolation cuts the chord; a hand whose
    elbow is also hidden, or that was never seen with it, falls back to plain interpolation; visible entries are
    untouched."""
    t = torch.arange(20, dtype=torch.float32)
    x = torch.zeros(1, 20, 3, 3)  # (M, T, V, C): root, elbow (child of root), hand (child of elbow)
    x[0, :, 0, 0] = 0.05 * t  # walking
    angle = 0.3 * t
    x[0, :, 1] = x[0, :, 0] + torch.stack([torch.cos(angle), torch.sin(angle), torch.zeros(20)], -1) * 0.3
    x[0, :, 2] = x[0, :, 1] + torch.stack([torch.cos(0.2 * angle), torch.sin(0.2 * angle), torch.zeros(20)], -1) * 0.25
    parents = (-1, 0, 1)
    removed = torch.zeros(1, 20, 3, dtype=torch.bool)
    removed[0, 5:12, 2] = True  # hand hidden, elbow visible
    damaged = torch.where(removed[..., None], torch.tensor(99.0), x)
    rel = interpolate_from_parent(damaged, removed, parents)
    plain = torch.from_numpy(interpolate_removed(damaged.numpy(), removed.numpy()))
    err = lambda y: (y - x).norm(dim=-1)[removed].mean()  # noqa: E731
    assert err(rel) < 0.5 * err(plain)
    torch.testing.assert_close(rel[~removed], x[~removed])

    removed[0, 5:12, 1] = True  # now the elbow is hidden too: the hand has no visible parent there
    damaged = torch.where(removed[..., None], torch.tensor(99.0), x)
    both = interpolate_from_parent(damaged, removed, parents)
    plain = torch.from_numpy(interpolate_removed(damaged.numpy(), removed.numpy()))
    torch.testing.assert_close(both, plain)

    removed[:] = False
    removed[0, :, 2] = True  # the hand never seen: nothing to take an offset from
    damaged = torch.where(removed[..., None], torch.tensor(99.0), x)
    never = interpolate_from_parent(damaged, removed, parents)
    torch.testing.assert_close(never, torch.from_numpy(interpolate_removed(damaged.numpy(), removed.numpy())))
    with pytest.raises(ValueError, match="parents"):
        interpolate_from_parent(x, removed, (-1, 0))


def test_spread_names_cover_cameras_performers_and_actions() -> None:
    names = spread_names([1, 2, 3], performers=(3, 6), per_action=2)
    assert len(names) == 6
    assert {n.action for n in names} == {1, 2, 3} and {n.performer for n in names} == {3, 6}
    assert {n.camera for n in names} == {1, 2, 3} and {n.replication for n in names} == {1, 2}
