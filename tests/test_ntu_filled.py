"""Filled .skeleton files: the original's number format, the official CRLF, filled joints untracked, a sidecar."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dcmae_core.data.ntu import read_skeleton, write_skeleton
from dcmae_core.data.ntu_types import COLOR_CAMERA
from dcmae_core.data.ntu_write import mark_filled, sidecar_path, significant_digits, write_filled_skeleton


@pytest.mark.slow
def test_written_with_its_own_digits_a_file_is_the_same_bytes(ntu_files: list[Path], tmp_path: Path) -> None:
    for p in ntu_files:
        skel = read_skeleton(p)
        assert significant_digits(skel) == 7  # how the official release writes its numbers
        write_skeleton(tmp_path / p.name, skel, digits=7)
        official = p.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # some copies have LF
        assert (tmp_path / p.name).read_bytes() == official, p.name


def test_filled_joints_are_untracked_projected_and_listed(ntu_files: list[Path], tmp_path: Path) -> None:
    src = ntu_files[-2]  # S001C003P008R002A058: two bodies
    skel = read_skeleton(src)
    rng = np.random.default_rng(0)
    filled = [rng.random(b.tracking.shape) < 0.1 for b in skel.bodies]  # (n_k, V) per body
    xyz = [b.xyz + 0.05 for b in skel.bodies]  # the "fill": 5 cm off everywhere (only filled joints are used)
    out = tmp_path / "filled.skeleton"
    side = write_filled_skeleton(
        out, skel, xyz, filled, {"method": "one_step", "checkpoint": "m.pt"}, joint_names=[f"j{i}" for i in range(25)]
    )
    raw = out.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n") and raw.endswith(b"\r\n")  # CRLF like NTU's files
    back = read_skeleton(out)
    for b0, b1, hit, pts in zip(skel.bodies, back.bodies, filled, xyz, strict=True):
        assert hit.any() and (~hit).any()
        np.testing.assert_array_equal(b1.tracking[hit], 0)
        np.testing.assert_array_equal(b1.tracking[~hit], b0.tracking[~hit])
        np.testing.assert_array_equal(b1.xyz[~hit], b0.xyz[~hit])  # kept exactly
        np.testing.assert_allclose(b1.xyz[hit], pts[hit], rtol=1e-6, atol=1e-6)  # 7 digits
        for field in ("depth_xy", "color_xy"):  # never the hidden joint's recorded pixels
            np.testing.assert_array_equal(getattr(b1, field)[~hit], getattr(b0, field)[~hit])
            assert (np.abs(getattr(b1, field)[hit] - getattr(b0, field)[hit]) > 1e-3).any(axis=-1).all()
        fx, cx, fy, cy = COLOR_CAMERA
        p = pts[hit]
        np.testing.assert_allclose(b1.color_xy[hit][:, 0], cx + fx * p[:, 0] / p[:, 2], atol=1e-2)
        np.testing.assert_array_equal(b1.orientation[hit], 0)
    # the digits did not grow: every number has at most 7 significant digits
    assert significant_digits(back) == 7
    assert side == sidecar_path(out) and side.name == "filled.skeleton.json"
    doc = json.loads(side.read_text())
    assert doc["method"] == "one_step" and doc["checkpoint"] == "m.pt"
    assert doc["num_filled"] == sum(int(h.sum()) for h in filled) == len(doc["entries"])
    f, k, j = doc["entries"][0]
    row = int(np.searchsorted(skel.bodies[k].frames, f))
    assert skel.bodies[k].frames[row] == f and filled[k][row, j]
    assert doc["body_ids"] == [str(b.body_id) for b in skel.bodies]


def test_mark_filled_rejects_wrong_shapes(ntu_files: list[Path]) -> None:
    skel = read_skeleton(ntu_files[0])
    b = skel.bodies[0]
    with pytest.raises(ValueError, match="one xyz"):
        mark_filled(skel, [], [])
    with pytest.raises(ValueError, match="do not match"):
        mark_filled(skel, [b.xyz[:3]] * len(skel.bodies), [np.zeros(b.tracking.shape, bool)] * len(skel.bodies))
