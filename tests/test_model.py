"""DCMAE model: shapes for any V and M, loss masking, absent persons, ablations, gradients, overfitting."""

from __future__ import annotations

import pytest
import torch

from dcmae_core.config import build_config
from dcmae_core.model.dcmae import DCMAE, DCMAEClassifier
from dcmae_core.model.masking import missing_joint_mask
from dcmae_core.model.objectives import masked_mse
from dcmae_core.model.stta import AxisConvBN, ShiftSum


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread, and the test machine's cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make(v: int = 25, m: int = 2, overrides: list[str] | None = None) -> tuple[DCMAE, int]:
    cfg = build_config("tiny", overrides)
    torch.manual_seed(0)
    model = DCMAE(
        cfg.model, cfg.mask, cfg.diffusion, num_joints=v, num_persons=m, in_channels=3, num_frames=cfg.data.num_frames
    )
    return model, cfg.data.num_frames


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("v,m", [(25, 2), (25, 1), (17, 2), (17, 1)])
def test_shapes_for_any_joint_and_person_count(v, m):
    model, t = make(v, m)
    x = torch.randn(3, m, t, v, 3)
    valid = torch.ones(3, m, dtype=torch.bool)
    if m == 2:
        valid[1, 1] = False
    out = model.forward_pretrain(x, valid, gen())
    assert out.loss.dim() == 0 and torch.isfinite(out.loss)
    assert out.pred.shape == (3, m, t, v, 3) and out.removed.shape == (3, m, t, v)
    assert not out.removed[~valid].any()  # absent persons carry no masked entries
    model.eval()
    for method in ("one_step", "iterative"):
        y = model.reconstruct(x, out.removed, valid, method=method, num_steps=4, generator=gen())
        assert y.shape == x.shape
        assert torch.equal(y[~out.removed], x[~out.removed])  # visible entries untouched
        assert not torch.equal(y[out.removed], x[out.removed])
    logits = DCMAEClassifier(model.encoder, 11)(x, valid)
    assert logits.shape == (3, 11)


def test_masked_mse_ignores_visible_entries_and_absent_persons():
    g = gen()
    pred, target = torch.randn(2, 2, 12, 5, 3, generator=g), torch.randn(2, 2, 12, 5, 3, generator=g)
    removed = torch.rand(2, 2, 12, 5, generator=g) < 0.4
    removed[1, 1] = False  # an absent person: nothing of it is masked
    loss = masked_mse(pred, target, removed)
    pred2, target2 = pred.clone(), target.clone()
    pred2[~removed] = 1e6
    target2[~removed] = float("nan")
    assert torch.equal(masked_mse(pred2, target2, removed), loss)
    pred2[removed] += 1.0
    assert not torch.equal(masked_mse(pred2, target, removed), loss)  # masked entries do count
    assert masked_mse(pred, target, torch.zeros_like(removed)) == 0


def test_absent_person_data_does_not_change_the_loss():
    model, t = make()
    x = torch.randn(2, 2, t, 25, 3, generator=gen(1))
    valid = torch.tensor([[True, False], [True, True]])
    loss = model.forward_pretrain(x, valid, gen(5)).loss
    x2 = x.clone()
    x2[0, 1] = torch.randn(t, 25, 3) * 10
    assert torch.equal(model.forward_pretrain(x2, valid, gen(5)).loss, loss)
    x2[1, 1] += 1.0  # a present person does change it
    assert not torch.equal(model.forward_pretrain(x2, valid, gen(5)).loss, loss)


def test_classifier_pools_only_present_persons():
    model, t = make()
    clf = DCMAEClassifier(model.encoder, 5).eval()
    x = torch.randn(1, 2, t, 25, 3)
    valid = torch.tensor([[True, False]])
    a = clf(x, valid)
    x[0, 1] = 100.0
    assert torch.allclose(clf(x, valid), a)
    with pytest.raises(ValueError, match="no valid person"):
        clf(x, torch.zeros(1, 2, dtype=torch.bool))


def _names(model: DCMAE) -> dict[str, int]:
    return {n: p.numel() for n, p in model.named_parameters()}


def test_ablation_switches_remove_exactly_their_modules():
    full = _names(make()[0])
    no_cross = _names(make(overrides=["model.cross_attention=false"])[0])
    assert set(no_cross) == {n for n in full if ".cross." not in n}
    assert any(".cross." in n for n in full)
    no_diff = _names(make(overrides=["model.diffusion=false"])[0])
    diff_only = {n for n in full if n.startswith(("decoder.coord_embed.", "decoder.time_embed."))}
    assert diff_only and set(no_diff) == (set(full) - diff_only) | {"decoder.mask_token"}
    mae = make(overrides=["model.diffusion=false", "model.cross_attention=false"])[0]
    assert mae.schedule is None and all(".cross." not in n for n in _names(mae))
    deeper = _names(make(overrides=["model.decoder_depth=3"])[0])
    assert sum(deeper.values()) > sum(full.values())
    assert {n for n in full if n.startswith("encoder.")} == {n for n in deeper if n.startswith("encoder.")}


@pytest.mark.parametrize("overrides", [[], ["model.diffusion=false", "model.cross_attention=false"]])
def test_gradients_reach_encoder_and_decoder(overrides):
    model, t = make(overrides=overrides)
    x = torch.randn(2, 2, t, 25, 3)
    model.forward_pretrain(x, torch.ones(2, 2, dtype=torch.bool), gen()).loss.backward()
    for part in (model.encoder, model.decoder):
        grads = [p.grad for p in part.parameters() if p.grad is not None]
        assert grads and sum(float(g.abs().sum()) for g in grads) > 0
    assert model.encoder.blocks[0].qk.weight.grad.abs().sum() > 0
    assert model.decoder.blocks[-1].stta.ff.linear.weight.grad.abs().sum() > 0


def test_decoder_checkpointing_gives_the_same_loss_and_gradients():
    """Recomputing decoder activations in backward changes memory, not the maths."""
    x = torch.randn(2, 2, make()[1], 25, 3)
    valid = torch.tensor([[True, True], [True, False]])
    grads, kept = [], []
    for flag in ("false", "true"):
        model, _ = make(overrides=[f"model.checkpoint_decoder={flag}"])
        saved: list[int] = []

        def pack(t: torch.Tensor, saved: list[int] = saved) -> torch.Tensor:
            saved.append(t.numel())
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = model.forward_pretrain(x, valid, gen(3)).loss
        loss.backward()
        grads.append(
            (float(loss.detach()), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
        )
        kept.append(sum(saved))
    assert kept[1] < 0.6 * kept[0]  # far fewer activations kept for backward
    (loss_a, ga), (loss_b, gb) = grads
    assert loss_a == pytest.approx(loss_b, rel=1e-6)
    assert ga.keys() == gb.keys() and any(n.startswith("decoder.blocks.") for n in gb)
    for name in ga:
        assert torch.allclose(ga[name], gb[name], rtol=1e-4, atol=1e-6), name


@pytest.mark.slow
def test_tiny_model_overfits_one_batch():
    model, t = make()
    x = torch.randn(1, 2, t, 25, 3, generator=gen(3))
    valid = torch.tensor([[True, False]])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    losses = []
    for _ in range(50):
        loss = model.forward_pretrain(x, valid, gen(11)).loss  # same mask, t and noise every step
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10, (losses[0], losses[-1])


def test_reconstruct_with_missing_joint_mask_and_bad_input():
    model, t = make(overrides=["model.diffusion=false"])
    model.eval()
    x = torch.randn(1, 2, t, 25, 3)
    present = torch.ones(1, 2, t, dtype=torch.bool)
    removed = missing_joint_mask(present, 25, 0.1, gen())
    calls = []
    y = model.reconstruct(
        x, removed, torch.ones(1, 2, dtype=torch.bool), method="iterative", callback=lambda i, n: calls.append((i, n))
    )
    assert y.shape == x.shape and calls == [(1, 1)]
    with pytest.raises(ValueError, match="multiple of tuple_len"):
        model.reconstruct(x[:, :, :7], removed[:, :, :7], torch.ones(1, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="V=25"):
        model.forward_pretrain(torch.randn(1, 2, t, 17, 3), torch.ones(1, 2, dtype=torch.bool))
    nobody = torch.zeros(1, 2, dtype=torch.bool)
    assert torch.equal(model.reconstruct(x, removed, nobody), x)
    with pytest.raises(ValueError, match="no valid person"):
        model.forward_pretrain(x, nobody)
    with pytest.raises(ValueError, match="method"):
        model.reconstruct(x, removed, torch.ones(1, 2, dtype=torch.bool), method="magic")  # type: ignore[arg-type]


@pytest.mark.parametrize("axis,kernel", [(1, 5), (2, 3), (2, 5)])
def test_axis_conv_equals_sttformer_conv2d(axis, kernel):
    """The channels-last matmul + shifted-sum conv computes exactly STTFormer's Conv2d (1,K) / (K,1)."""
    conv = AxisConvBN(4, 6, kernel, axis=axis).double().eval()
    with torch.no_grad():
        conv.bn.running_mean.normal_()
        conv.bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 9, 3, 4, dtype=torch.double, requires_grad=True)  # (B, L, P, D)
    w = conv.weight.view(4, kernel, 6).permute(2, 0, 1)  # (D_out, D_in, K)
    w = w[:, :, :, None] if axis == 1 else w[:, :, None, :]
    pad = (kernel // 2, 0) if axis == 1 else (0, kernel // 2)
    ref = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), w, conv.bias, padding=pad)  # (B, D_out, L, P)
    ref = torch.nn.functional.batch_norm(
        ref, conv.bn.running_mean, conv.bn.running_var, conv.bn.weight, conv.bn.bias
    ).permute(0, 2, 3, 1)
    assert torch.allclose(conv(x), ref, atol=1e-12)
    assert torch.autograd.gradcheck(
        lambda z, b: ShiftSum.apply(z, b, axis),
        (
            torch.randn(2, 4, 3, kernel, 2, dtype=torch.double, requires_grad=True),
            torch.randn(2, dtype=torch.double, requires_grad=True),
        ),
    )


def test_stta_1x1_layers_are_initialised_as_sttformer():
    """STTFormer's conv_init: kaiming normal with fan-out (std √(2 / out)), zero bias, for every 1x1 conv."""
    from dcmae_core.model.stta import STTAEncoder

    torch.manual_seed(0)
    enc = STTAEncoder(build_config("paper").model, 25)
    layers = [enc.stem] + [m for b in enc.blocks for m in (b.qk, b.ff.linear, *(r.linear for r in (b.res,) if r))]
    for layer in layers:
        out = layer.weight.shape[0]
        assert torch.all(layer.bias == 0)
        rel = 0.15 if layer is enc.stem else 0.05  # the stem has only 3 * 64 weights
        assert float(layer.weight.detach().std()) == pytest.approx((2.0 / out) ** 0.5, rel=rel)
