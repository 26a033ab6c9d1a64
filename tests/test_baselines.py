"""The reconstruction baselines: linear interpolation of removed joints in time; spread sample names."""

from __future__ import annotations

import numpy as np
import pytest

from dcmae_core.baselines import interpolate_removed
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


def test_spread_names_cover_cameras_performers_and_actions() -> None:
    names = spread_names([1, 2, 3], performers=(3, 6), per_action=2)
    assert len(names) == 6
    assert {n.action for n in names} == {1, 2, 3} and {n.performer for n in names} == {3, 6}
    assert {n.camera for n in names} == {1, 2, 3} and {n.replication for n in names} == {1, 2}
