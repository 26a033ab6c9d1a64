"""The interpolation prior of the decoder, native-rate windows, pattern batches in pretraining, and the
Predictor's mapping between NTU-25 and Kinect-v1 skeletons."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dcmae_core.baselines import interp_prior, interpolate_removed, interpolate_time
from dcmae_core.config import build_config
from dcmae_core.data.transforms import native_window
from dcmae_core.inference import Predictor
from dcmae_core.layout import KINECT20, NTU25, find_layout, joint_map
from dcmae_core.model.dcmae import DCMAE
from dcmae_core.occlusion import occlusion_mask
from dcmae_core.training.stages import pretrain_loss_fn

PRIOR = ["model.fill_prior=interp"]


def _model(v: int, overrides=(), m: int = 1) -> DCMAE:
    cfg = build_config("tiny", [*PRIOR, *overrides])
    torch.manual_seed(0)
    return DCMAE(cfg.model, cfg.mask, cfg.diffusion, num_joints=v, num_persons=m, num_frames=cfg.data.num_frames)


def _walk(t: int, v: int, m: int = 1) -> torch.Tensor:
    """(1, M, T, V, 3) smooth motion, different per joint."""
    tt = torch.linspace(0, 2, t)[:, None, None]
    jj = torch.arange(v, dtype=torch.float32)[None, :, None]
    cc = torch.arange(3, dtype=torch.float32)[None, None, :]
    x = torch.sin(tt * (1 + 0.1 * jj) + cc) + 0.05 * jj
    return x[None, None].expand(1, m, t, v, 3).clone()


def test_prior_features_name_what_interpolation_knows():
    x = torch.arange(6, dtype=torch.float32).view(6, 1, 1).expand(6, 2, 3).clone()  # (T=6, V=2, C=3)
    removed = torch.zeros(6, 2, dtype=torch.bool)
    removed[2:4, 0] = True  # a gap with both sides
    removed[4:, 1] = True  # the end: one side only
    p = interp_prior(x, removed)  # (6, 2, 6)
    assert torch.allclose(p[..., :3], interpolate_time(x, removed))
    assert p[2, 0, 3] == 1 and p[2, 0, 4] == 0  # both sides visible
    assert p[5, 1, 3] == 0 and p[5, 1, 4] == 1  # one side only
    assert p[2, 0, 5] == pytest.approx(1 / 30) and p[5, 1, 5] == pytest.approx(2 / 30)  # frames to the nearest
    assert (p[0, :, 3] == 1).all() and (p[0, :, 5] == 0).all()  # visible entries: their own neighbours
    never = torch.ones(6, 2, dtype=torch.bool)
    q = interp_prior(x, never)
    assert (q[..., :3] == 0).all() and (q[..., 3:5] == 0).all() and (q[..., 5] == 4.0).all()


def test_fresh_prior_model_fills_like_interpolation_and_ignores_hidden_values():
    model = _model(20).eval()
    x = _walk(24, 20)
    removed = torch.zeros(1, 1, 24, 20, dtype=torch.bool)
    removed[0, 0, 6:15, 4:8] = True  # the left arm for 9 frames
    pv = torch.ones(1, 1, dtype=torch.bool)
    y = model.reconstruct(x, removed, pv, generator=torch.Generator().manual_seed(0))
    expect = interpolate_time(x[0], removed[0])[None]
    assert torch.allclose(y, expect, atol=1e-5)  # zero-initialised correction: the prior itself
    x2 = x.clone()
    x2[removed] = 99.0  # what is hidden must not leak into the fill
    y2 = model.reconstruct(x2, removed, pv, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(y2[removed[..., None].expand_as(y2)], y[removed[..., None].expand_as(y)])


def test_prior_model_learns_a_correction():
    model = _model(20)
    x = _walk(24, 20)
    pv = torch.ones(1, 1, dtype=torch.bool)
    occ = torch.zeros(1, 1, 24, 20, dtype=torch.bool)
    occ[0, 0, :, 12:16] = True  # a leg hidden for the whole clip: interpolation has nothing
    out = model.forward_pretrain(x, pv, torch.Generator().manual_seed(0), occlusion=occ)
    assert out.removed.equal(occ)  # the pattern replaced the paper's mask, every frame kept
    out.loss.backward()
    assert model.decoder.head.weight.grad.abs().sum() > 0
    assert model.decoder.prior_embed.weight.grad is not None


def test_pretraining_uses_patterns_when_asked():
    cfg = build_config("tiny", [*PRIOR, "mask.pattern_prob=1", "mask.patterns=lower_body"])
    model = DCMAE(cfg.model, cfg.mask, cfg.diffusion, num_joints=20, num_persons=1, num_frames=24)
    seen = {}
    original = model.forward_pretrain

    def spy(x, pv, generator=None, occlusion=None, present=None):
        seen["occlusion"] = occlusion
        return original(x, pv, generator=generator, occlusion=occlusion, present=present)

    model.forward_pretrain = spy
    batch = {
        "x": _walk(24, 20),
        "person_valid": torch.ones(1, 1, dtype=torch.bool),
        "present": torch.ones(1, 1, 24, dtype=torch.bool),
    }
    loss, _ = pretrain_loss_fn(cfg, KINECT20)(model, batch, torch.Generator().manual_seed(0))
    legs = torch.from_numpy(KINECT20.group_mask(["left leg", "right leg"]))
    assert seen["occlusion"] is not None and seen["occlusion"][0, 0].equal(legs.expand(24, 20))
    assert torch.isfinite(loss)
    cfg0 = build_config("tiny", [*PRIOR])  # pattern_prob 0: the paper's mask only
    pretrain_loss_fn(cfg0, KINECT20)(model, batch, torch.Generator().manual_seed(0))
    assert seen["occlusion"] is None


def test_native_window_keeps_the_recording_rate():
    data = np.arange(100, dtype=np.float32).reshape(1, 100, 1, 1).repeat(3, axis=3) + 1
    x, present = native_window(data, 24, train=False)
    assert x.shape == (1, 24, 1, 3) and np.all(np.diff(x[0, :, 0, 0]) == 1)  # consecutive frames
    assert x[0, 0, 0, 0] == 1 + (100 - 24) // 2  # the centred window
    x, _ = native_window(data, 24, train=True, rng=np.random.default_rng(3))
    assert np.all(np.diff(x[0, :, 0, 0]) == 1)
    short, present = native_window(data[:, :10], 24, train=False)
    assert np.all(short[0, 10:] == short[0, 9]) and present.all()  # held last frame


def test_joint_map_between_ntu_and_kinect():
    n2k = joint_map(NTU25, KINECT20)
    assert [NTU25.joint_names[i] for i in n2k[[0, 2, 3, 7]]] == ["spine base", "spine shoulder", "head", "left hand"]
    k2n = joint_map(KINECT20, NTU25)
    assert (k2n < 0).sum() == 5 and k2n[2] == -1 and k2n[20] == 2  # neck missing; spine shoulder = centre
    assert find_layout(KINECT20.joint_names) is KINECT20 and find_layout(("a", "b")) is None
    with pytest.raises(ValueError, match="no joint correspondence"):
        joint_map(KINECT20, NTU25.__class__("x", ("a",), (-1,), 0))


def _predictor(layout, overrides=(), persons: int = 2) -> Predictor:
    cfg = build_config("tiny", [*PRIOR, *overrides])
    model = DCMAE(
        cfg.model,
        cfg.mask,
        cfg.diffusion,
        num_joints=layout.num_joints,
        num_persons=persons,
        num_frames=cfg.data.num_frames,
    )
    ckpt = {
        "config": cfg.to_dict(),
        "layout": layout.to_dict(),
        "class_names": [],
        "num_persons": persons,
        "num_frames": cfg.data.num_frames,
        "in_channels": 3,
        "stats": {"mean": [0, 0, 0], "std": [1, 1, 1]},
        "dcmae": model.state_dict(),
        "classifier": None,
    }
    return Predictor(ckpt, device="cpu")


def test_kinect_model_fills_ntu_files_and_ntu_only_joints(ntu_files):
    from dcmae_core.data.ntu import read_skeleton
    from dcmae_core.data.preprocess import preprocess_skeleton

    pre = preprocess_skeleton(read_skeleton(ntu_files[0]))
    data = pre.data[:1, :60]  # (1, 60, 25, 3)
    removed = np.zeros(data.shape[:3], dtype=bool)
    left_arm = list(NTU25.groups["left arm"])  # includes the hand tip and thumb Kinect v1 lacks
    removed[0, 20:40, left_arm] = True
    pred = _predictor(KINECT20)
    out = pred.reconstruct(data, removed, layout=NTU25)
    assert out.shape == data.shape and np.isfinite(out).all()
    assert np.array_equal(out[~removed], data[~removed])  # nothing visible changes
    interp = interpolate_removed(data, removed)
    shared = [j for j in left_arm if j < 12]  # shoulder .. hand: the fresh model's fill = interpolation
    assert np.allclose(out[0, 20:40][:, shared], interp[0, 20:40][:, shared], atol=1e-4)
    tip = 21  # left hand tip: carried with the hand at its interpolated offset
    off = interpolate_removed((data[:, :, tip] - data[:, :, 7])[:, :, None], removed[:, :, tip][:, :, None])[:, :, 0]
    assert np.allclose(out[0, 20:40, tip], out[0, 20:40, 7] + off[0, 20:40], atol=1e-4)
    assert np.abs(out[0, 20:40, tip] - data[0, 20:40, tip]).max() < 0.3  # within 30 cm of the recorded tip


def test_a_one_person_model_fills_each_of_two_actors_from_that_actor(ntu_files):
    from dcmae_core.data.ntu import read_skeleton
    from dcmae_core.data.preprocess import preprocess_skeleton

    pre = preprocess_skeleton(read_skeleton(ntu_files[-2]))  # A058 handshaking: two people
    data = pre.data[:, :48]
    assert pre.person_valid.all()
    removed = np.zeros(data.shape[:3], dtype=bool)
    removed[:, 10:30, 4:8] = True  # the left arm of both
    out = _predictor(KINECT20, persons=1).reconstruct(data, removed, layout=NTU25)
    interp = interpolate_removed(data, removed)  # the fresh model's fill, per actor
    assert np.allclose(out[1, 10:30, 4:8], interp[1, 10:30, 4:8], atol=1e-4)
    assert np.allclose(out[0, 10:30, 4:8], interp[0, 10:30, 4:8], atol=1e-4)


def test_ntu_model_fills_kinect_data_and_the_methods():
    pred = _predictor(NTU25)
    data = _walk(30, 20)[0].numpy() + 0.5  # (1, 30, 20, 3)
    removed = np.zeros(data.shape[:3], dtype=bool)
    removed[0, 10:20, 8:12] = True
    out = pred.reconstruct(data, removed, layout=KINECT20)
    assert out.shape == data.shape and np.array_equal(out[~removed], data[~removed])
    interp = pred.reconstruct(data, removed, method="interpolate", layout=KINECT20)
    assert np.allclose(interp, interpolate_removed(data, removed))
    with pytest.raises(ValueError, match="unknown fill method"):
        pred.reconstruct(data, removed, method="magic")


def test_pattern_fill_is_seeded_and_leaves_absent_persons():
    present = torch.ones(2, 1, 40, dtype=torch.bool)
    a = occlusion_mask("limb_span", present, KINECT20, torch.Generator().manual_seed(5))
    b = occlusion_mask("limb_span", present, KINECT20, torch.Generator().manual_seed(5))
    assert a.equal(b) and a.any()


def test_relative_loss_weighs_entries_by_how_well_the_reference_does():
    from dcmae_core.model.objectives import relative_masked_mse

    target = torch.zeros(1, 4, 3)
    removed = torch.ones(1, 4, dtype=torch.bool)
    reference = torch.tensor([[[0.0, 0, 0], [0, 0, 0], [1, 0, 0], [1, 0, 0]]])  # exact on two entries
    pred = torch.full((1, 4, 3), 0.1, requires_grad=True)
    rel = relative_masked_mse(pred, target, removed, reference, floor=0.1)
    per_entry = 0.03 / torch.tensor([0.01, 0.01, 1.01, 1.01])  # |pred|² / (|ref|² + floor²)
    assert torch.allclose(rel, per_entry.sum() / 12)
    rel.backward()
    g = pred.grad[0, :, 0]
    assert g[0] > 10 * g[2]  # an entry the reference gets right counts far more
    # the scale does not depend on what else is in the batch: one long-gap entry alone scores the same
    alone = relative_masked_mse(pred.detach()[:, 2:], target[:, 2:], removed[:, 2:], reference[:, 2:], 0.1)
    assert torch.allclose(alone, per_entry[2:].sum() / 6)
    assert relative_masked_mse(reference, target, removed, reference, 0.1) <= 1 / 3  # the reference itself
    with pytest.raises(ValueError, match="positive floor"):
        relative_masked_mse(pred, target, removed, reference, floor=0.0)


def test_real_preset_trains_with_the_relative_loss():
    cfg = build_config("real")
    assert cfg.model.fill_prior == "interp" and cfg.model.relative_loss_floor > 0 and cfg.data.window == "native"
    model = DCMAE(
        cfg.model,
        cfg.mask,
        cfg.diffusion,
        num_joints=20,
        num_persons=1,
        num_frames=cfg.data.num_frames,
        parents=KINECT20.parents,
    )
    out = model.forward_pretrain(
        _walk(cfg.data.num_frames, 20), torch.ones(1, 1, dtype=torch.bool), torch.Generator().manual_seed(0)
    )
    assert torch.isfinite(out.loss) and out.loss > 0


def test_skeleton_prior_hangs_a_hidden_limb_from_its_parent():
    cfg = build_config("tiny", [*PRIOR, "model.skeleton_prior=true"])
    model = DCMAE(
        cfg.model, cfg.mask, cfg.diffusion, num_joints=20, num_persons=1, num_frames=24, parents=KINECT20.parents
    ).eval()
    x = _walk(24, 20)
    removed = torch.zeros(1, 1, 24, 20, dtype=torch.bool)
    leg = list(KINECT20.groups["left leg"])  # hip 12 (parent: hip centre 0), knee, ankle, foot
    removed[..., leg] = True  # the whole window: interpolation has nothing
    removed[0, 0, 5:9, 8] = True  # and a short gap elsewhere
    y = model.reconstruct(x, removed, torch.ones(1, 1, dtype=torch.bool), generator=torch.Generator().manual_seed(0))
    for j in leg:  # fresh model: offsets 0, so every hidden leg joint sits on the (visible) hip centre
        assert torch.allclose(y[0, 0, :, j], x[0, 0, :, 0], atol=1e-5)
    assert torch.allclose(y[0, 0, 5:9, 8], interpolate_time(x[0], removed[0])[0, 5:9, 8], atol=1e-5)
    model.decoder.rest_offset.data[leg] = torch.tensor([0.0, -1.0, 0.0])  # each joint 1 unit below its parent
    y = model.reconstruct(x, removed, torch.ones(1, 1, dtype=torch.bool), generator=torch.Generator().manual_seed(0))
    assert torch.allclose(y[0, 0, :, leg[-1]] - x[0, 0, :, 0], torch.tensor([0.0, -4.0, 0.0]), atol=1e-5)
    with pytest.raises(ValueError, match="parents"):
        DCMAE(cfg.model, cfg.mask, cfg.diffusion, num_joints=20, num_persons=1, num_frames=24)
