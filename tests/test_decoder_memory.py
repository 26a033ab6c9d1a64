"""The decoder's keys and values (paper eq. 5-6) and the padding mask of pretraining (issue 12, items 2-3)."""

from __future__ import annotations

import pytest
import torch

from dcmae_core.config import build_config
from dcmae_core.model.cross_attention import CrossAttention
from dcmae_core.model.dcmae import DCMAE


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _model(overrides: tuple[str, ...] = ()) -> DCMAE:
    cfg = build_config("tiny", list(overrides))
    torch.manual_seed(0)
    return DCMAE(cfg.model, cfg.mask, cfg.diffusion, num_joints=25, num_persons=2, num_frames=cfg.data.num_frames)


def _keys_and_values(model: DCMAE, t: int) -> list[torch.Tensor]:
    """What every cross-attention of the decoder takes its keys and values from, decoding at timestep t."""
    seen: list[torch.Tensor] = []
    hooks = [
        m.register_forward_hook(lambda mod, args, out: seen.append(args[1].detach().clone()))
        for m in model.decoder.modules()
        if isinstance(m, CrossAttention)
    ]
    g = torch.Generator().manual_seed(0)
    memory = torch.randn(2, 24, 25, model.decoder.dim, generator=g)
    removed = torch.rand(2, 24, 25, generator=g) < 0.4
    x_t = torch.randn(2, 24, 25, 3, generator=g)
    model.eval()
    with torch.no_grad():
        model.decoder(memory, removed, x_t, torch.full((2,), t))
    for h in hooks:
        h.remove()
    return seen


def test_keys_and_values_do_not_depend_on_the_timestep():
    model = _model()
    early, late = _keys_and_values(model, 3), _keys_and_values(model, 900)
    assert len(early) == 2 * len(model.decoder.blocks)  # temporal and spatial attention of every block
    for a, b in zip(early, late, strict=True):
        assert torch.equal(a, b)


def test_the_old_decoder_put_the_timestep_in_its_keys():
    model = _model(("model.timestep_in_memory=true",))
    early, late = _keys_and_values(model, 3), _keys_and_values(model, 900)
    assert not torch.equal(early[0], late[0])


def test_a_masked_key_gets_no_attention_weight():
    torch.manual_seed(0)
    attn = CrossAttention(16, 2).eval()
    x, z = torch.randn(3, 5, 16), torch.randn(3, 7, 16)
    keep = torch.ones(3, 7, dtype=torch.bool)
    keep[:, 2] = keep[:, 5] = False
    keep[1, 0] = False
    out = attn(x, z, keep)
    z2 = z.clone()
    z2[~keep] = 100.0 * torch.randn(int((~keep).sum()), 16)  # whatever stands in a masked key
    assert torch.allclose(attn(x, z2, keep), out, atol=1e-6)
    only = attn(x[1:2], z[1:2, keep[1]])  # the same as attending to the kept keys alone
    assert torch.allclose(out[1:2], only, atol=1e-6)
    assert not torch.allclose(attn(x, z2), out, atol=1e-3)  # unmasked, the stand-ins do weigh


def _pretrain_with_absent_frames(overrides: tuple[str, ...] = ()):
    """One pretraining step of a batch where person 0 of sample 0 is absent in frames 6-11; returns the loss,
    the decoder's prediction and its gradient, the noised input the decoder saw, x and the absent mask."""
    model = _model(overrides)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 2, 24, 25, 3, generator=g)
    present = torch.ones(2, 2, 24, dtype=torch.bool)
    present[0, 0, 6:12] = False
    x[~present] = 0.0  # absent person-frames hold zeros, as the dataset gives them
    seen = {}

    def grab(mod, args, out):
        out.retain_grad()
        seen["pred"], seen["x_t"] = out, args[2]

    model.decoder.register_forward_hook(grab)
    out = model.forward_pretrain(
        x, torch.ones(2, 2, dtype=torch.bool), torch.Generator().manual_seed(2), present=present
    )
    out.loss.backward()
    return out, seen, x, present


def test_absent_frames_are_left_out_of_noise_and_loss():
    out, seen, x, present = _pretrain_with_absent_frames()
    absent = ~present.reshape(4, 24)  # (B, T): all four persons are valid, so B = N*M in order
    grad = seen["pred"].grad  # (B, T, V, C) d loss / d prediction
    removed = out.removed.reshape(4, 24, 25)
    assert removed[absent].any()  # the mask did remove entries in absent frames ...
    assert torch.all(grad[absent] == 0)  # ... but they carry no loss and no gradient
    assert grad[removed & ~absent[..., None]].abs().sum() > 0
    x0 = x.reshape(4, 24, 25, 3)
    assert torch.equal(seen["x_t"][absent], x0[absent])  # no noise where the person is absent
    assert not torch.equal(seen["x_t"][~absent], x0[~absent])
    # The loss is the MSE over the removed entries of present frames only.
    scored = removed & ~absent[..., None]
    mse = (seen["pred"] - x0).square()[scored].mean()
    assert torch.allclose(out.loss, mse, atol=1e-6)


def test_the_old_pretraining_counted_absent_frames():
    _, seen, _, present = _pretrain_with_absent_frames(("model.padding_mask=false",))
    assert seen["pred"].grad[~present.reshape(4, 24)].abs().sum() > 0


def test_dropped_and_absent_frames_are_no_keys_of_temporal_attention():
    model = _model()
    seen = []
    temporal = model.decoder.blocks[0].cross.temporal
    temporal.register_forward_hook(lambda mod, args, out: seen.append(args[2]))
    x = torch.randn(1, 2, 24, 25, 3)
    present = torch.ones(1, 2, 24, dtype=torch.bool)
    present[0, 1, :6] = False
    x[~present] = 0.0
    out = model.forward_pretrain(
        x, torch.ones(1, 2, dtype=torch.bool), torch.Generator().manual_seed(0), present=present
    )
    keep = seen[0].view(2, 25, 24)  # (B, V, T) as the temporal attention's rows
    dropped = out.removed.all(dim=-1).reshape(2, 24)  # (B, T) frames removed at every joint = dropped
    assert torch.equal(keep, (~dropped & present.reshape(2, 24))[:, None, :].expand(2, 25, 24))


def test_reconstruction_masks_absent_frames_as_pretraining_does():
    model = _model().eval()
    seen = []
    model.decoder.blocks[0].cross.temporal.register_forward_hook(lambda mod, args, out: seen.append(args[2]))
    x = torch.randn(1, 2, 24, 25, 3)
    present = torch.ones(1, 2, 24, dtype=torch.bool)
    present[0, 0, 18:] = False
    x[~present] = 0.0
    removed = (torch.rand(1, 2, 24, 25) < 0.2) & present[..., None]
    valid = torch.ones(1, 2, dtype=torch.bool)
    model.reconstruct(x, removed, valid, generator=torch.Generator().manual_seed(0), present=present)
    assert torch.equal(seen[0].view(2, 25, 24), present[0][:, None, :].expand(2, 25, 24))
    old = _model(("model.padding_mask=false",)).eval()
    old.decoder.blocks[0].cross.temporal.register_forward_hook(lambda mod, args, out: seen.append(args[2]))
    old.reconstruct(x, removed, valid, generator=torch.Generator().manual_seed(0), present=present)
    assert seen[-1] is None  # a model trained without the padding mask decodes as it was trained
