"""Pure functions of app/render.py, app/masking.py and the bridge's seeded masks (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from app import core_bridge, masking, render
from app.state import Sequence
from dcmae_core.layout import NTU25

V = NTU25.num_joints


def _present(m=2, t=40, second=False):
    p = np.zeros((m, t), bool)
    p[0] = True
    if second:
        p[1, 10:30] = True
    return p


def test_geometry_sizes_ghosts_and_hidden_bodies():
    rng = np.random.default_rng(0)
    xyz = rng.normal(size=(2, V, 3)).astype(np.float32)
    ghost = np.zeros((2, V), bool)
    ghost[0, 7] = True  # left hand
    lp, lc, pp, pc = render.skeleton_geometry(xyz, NTU25.parents, np.array([True, False]), ghost=ghost)
    b = len(NTU25.bones)
    assert lp.shape == (2 * b * 2, 3) and lc.shape == (2 * b * 2, 4)
    assert pp.shape == (2 * V, 3) and pc.shape == (2 * V, 4)
    assert pc[7, 3] == pytest.approx(render.GHOST_ALPHA) and pc[6, 3] == 1.0
    assert (pc[V:, 3] == 0).all() and (lc[2 * b :, 3] == 0).all()  # hidden body: fully transparent
    # bones touching the ghost joint are faded, others not
    faded = lc[: 2 * b : 2, 3] < 1
    touching = (NTU25.bones == 7).any(axis=1)
    assert np.array_equal(faded, touching)
    # display frame: (-x, z, y)
    assert np.allclose(pp[0], [-xyz[0, 0, 0], xyz[0, 0, 2], xyz[0, 0, 1]])


def test_shown_restricts_to_joints_and_their_bones():
    xyz = np.zeros((1, V, 3), np.float32)
    shown = np.zeros((1, V), bool)
    shown[0, 3] = True  # head
    _, lc, _, pc = render.skeleton_geometry(xyz, NTU25.parents, np.array([True]), shown=shown)
    assert np.flatnonzero(pc[:, 3] > 0).tolist() == [3]
    assert (lc[:, 3] > 0).sum() == 2  # one bone (head-neck), two vertices


def test_projection_and_picking():
    pts = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    front = render.orthographic(pts, -90.0, 0.0)  # camera on -y looking +y, z up
    assert np.allclose(front, [[0, 0], [1, 0], [0, 1]], atol=1e-9)
    screen = render.project_points(pts, np.eye(4), 200, 100)  # identity: NDC = xy
    assert np.allclose(screen[0], [100, 50]) and np.allclose(screen[1], [200, 50])
    assert render.nearest_point(screen, (198, 52), 5) == 1
    assert render.nearest_point(screen, (150, 90), 5) == -1
    assert render.nearest_point(screen, (198, 52), 5, candidates=np.array([True, False, True])) == -1


def test_errors_colours_and_topk():
    orig = np.zeros((2, 3, V, 3))
    rec = orig.copy()
    rec[0, 1, 4, 0] = 0.05  # 5 cm
    mask = np.zeros((2, 3, V), bool)
    mask[0, 1, 4] = mask[0, 1, 5] = True
    fe = render.frame_errors_cm(orig, rec, mask)
    assert np.isnan(fe[0]) and np.isnan(fe[2]) and fe[1] == pytest.approx(2.5)
    cols = render.error_colormap(np.array([0.0, 10.0, np.nan]), 10.0)
    assert not np.allclose(cols[0], cols[1]) and np.allclose(cols[2], [0.5, 0.5, 0.5, 1])
    assert render.error_scale(render.joint_errors_cm(orig, rec), mask) == 5.0
    probs = np.array([0.1, 0.6, 0.3])
    assert render.top_k(probs, ["a", "b", "c"], k=2) == [("b", 0.6), ("c", pytest.approx(0.3))]
    with pytest.raises(ValueError, match="class names"):
        render.top_k(probs, ["a"])


def _sequence(present: np.ndarray) -> Sequence:
    m, t = present.shape
    data = np.random.default_rng(0).normal(size=(m, t, V, 3)).astype(np.float32) * present[:, :, None, None]
    return Sequence(
        name="synthetic",
        title="",
        data=data,
        present=present,
        joint_names=NTU25.joint_names,
        parents=NTU25.parents,
        groups=dict(NTU25.groups),
    )


def test_pretrain_mask_follows_the_paper_ratios():
    """The app's pretraining mask is the core's (reconstruct --mask random:MT,MJ), seeded."""
    present = _present(t=40, second=True)
    seq = _sequence(present)
    m = core_bridge.mask_spec("random:0.5,0.4", seq, seed=3)
    assert not m[~present].any()
    dropped = m[0].all(axis=1)  # frames where person 1 lost every joint
    assert dropped.sum() == 20
    kept = ~dropped
    assert (m[0][kept].sum(axis=1) == round(0.4 * V)).all()
    assert np.array_equal(m, core_bridge.mask_spec("random:0.5,0.4", seq, seed=3))
    assert not np.array_equal(m, core_bridge.mask_spec("random:0.5,0.4", seq, seed=4))


def test_missing_joint_mask_exact_share_and_seed():
    present = _present(t=50, second=True)
    seq = _sequence(present)
    m = core_bridge.occlusion("random:0.1", seq, seed=1)
    n = present.sum() * V
    assert m.sum() == round(0.1 * n) and not m[~present].any()
    assert np.array_equal(m, core_bridge.occlusion("random:0.1", seq, seed=1))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        core_bridge.occlusion("random:1.5", seq, seed=1)


def test_part_invert_and_spec():
    present = _present(t=10, second=True)
    arm = masking.part_mask(present, V, NTU25.groups["left arm"], frames=(2, 5), persons=[0])
    assert arm.sum() == 3 * len(NTU25.groups["left arm"])
    inv = masking.invert_mask(arm, present)
    assert not (inv & arm).any() and (inv | arm)[present].all() and not inv[~present].any()
    spec = masking.body_part_mask("left-arm+head", present, V, NTU25.groups)
    assert spec[0, 0].sum() == len(NTU25.groups["left arm"]) + len(NTU25.groups["head"])
    with pytest.raises(ValueError, match="left-arm"):
        masking.body_part_mask("tail", present, V, NTU25.groups)
    with pytest.raises(ValueError, match="frame range"):
        masking.part_mask(present, V, [0], frames=(5, 50))


@pytest.mark.slow
def test_void_qt_calls_keep_none_alive():
    """PySide6 6.12.0 on CPython 3.11 dropped a reference to None on every void call and aborted the
    interpreter ("none_dealloc") after ~30k draw calls; pyproject keeps such builds out. Run in a child
    process so that a bad build fails this test instead of killing the test session."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from PySide6.QtCore import QPointF\n"
        "from PySide6.QtGui import QImage, QPainter\n"
        "img = QImage(8, 8, QImage.Format.Format_RGB32); p = QPainter(img)\n"
        "before = sys.getrefcount(None)\n"
        "for _ in range(100_000): p.drawLine(QPointF(0, 0), QPointF(4, 4))\n"
        "p.end(); print(sys.getrefcount(None) - before)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"Qt draw calls crashed the interpreter: {res.stderr[-500:]}"
    assert abs(int(res.stdout.strip())) < 1000
