"""The SkeletonMAE baseline and the decoder's two STTA readings (issue 12, items 6-7)."""

from __future__ import annotations

import pytest

from dcmae_core.config import build_config
from dcmae_core.evaluation.experiments import SKELETONMAE
from dcmae_core.model.factory import build_dcmae
from dcmae_core.model.stta import TOKEN_KERNEL, STTABlock


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("preset", ["paper", "demo"])
def test_the_baseline_decoder_is_8_encoder_style_stta_blocks(preset):
    cfg = build_config(preset, SKELETONMAE)
    model = build_dcmae(cfg, 25)
    blocks = model.decoder.blocks
    assert len(blocks) == 8 and model.schedule is None and model.decoder.mask_token is not None
    d, enc = cfg.model.decoder_dim, model.encoder.blocks[-1]
    qk = enc.qk_dim * d // enc.out_dim  # the encoder's query/key width per channel, at decoder width
    for b in blocks:
        assert b.cross is None
        s = b.stta
        assert (s.num_heads, s.qk_dim, s.out_conv.kernel) == (cfg.model.encoder_heads, qk, TOKEN_KERNEL)
        # The very block the encoder would have at this width.
        assert _count(s) == _count(STTABlock(d, d, qk, cfg.model.encoder_heads, enc.att0.shape[-1]))


@pytest.mark.slow
def test_the_paper_preset_keeps_the_slim_decoder_and_full_is_a_switch():
    slim = build_dcmae(build_config("paper"), 25)
    full = build_dcmae(build_config("paper", ["model.decoder_stta=full"]), 25)
    assert len(slim.decoder.blocks) == len(full.decoder.blocks) == 9
    assert slim.decoder.blocks[0].stta.num_heads == 1 and slim.decoder.blocks[0].stta.out_conv.kernel == 1
    assert full.decoder.blocks[0].stta.num_heads == 3 and full.decoder.blocks[0].stta.out_conv.kernel == 5
    # docs/bench_model.md: 14.46 M (slim, the paper's 14 M) against 23.93 M (full).
    assert round(_count(slim) / 1e6, 2) == 14.46 and round(_count(full) / 1e6, 2) == 23.93
