"""Config system: defaults < preset < overrides, type checks, unknown keys rejected with the valid ones."""

from __future__ import annotations

import pytest

from dcmae_core.config import Config, ConfigError, build_config, config_from_dict, list_presets


def test_presets_exist_and_load():
    assert {"paper", "demo", "tiny"} <= set(list_presets())
    for name in ("paper", "demo", "tiny"):
        cfg = build_config(name)
        assert isinstance(cfg, Config)


def test_paper_preset_is_the_papers_recipe():
    cfg = build_config("paper")
    assert cfg.mask.frame_ratio == 0.5 and cfg.mask.joint_ratio == 0.4
    assert cfg.diffusion.num_steps == 1000 and cfg.diffusion.schedule == "linear"
    assert cfg.model.decoder_depth == 9 and cfg.model.decoder_dim == 256
    assert cfg.optim.name == "sgd" and cfg.optim.pretrain_lr == 0.001 and cfg.optim.finetune_lr == 0.01
    assert cfg.train.batch_size == 32 and cfg.train.pretrain_epochs == 90


def test_overrides_are_typed():
    cfg = build_config(
        "tiny",
        [
            "train.batch_size=7",
            "model.cross_attention=false",
            "mask.joint_ratio=0.3",
            "model.encoder_dims=4,8",
            "model.encoder_qk_dims=[2, 2]",
            "diffusion.schedule=cosine",
        ],
    )
    assert cfg.train.batch_size == 7
    assert cfg.model.cross_attention is False
    assert cfg.mask.joint_ratio == 0.3
    assert cfg.model.encoder_dims == [4, 8] and cfg.model.encoder_qk_dims == [2, 2]
    assert cfg.diffusion.schedule == "cosine"


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.batchsize=3", "valid keys of [train]: pretrain_epochs"),
        ("trian.batch_size=3", "valid: data, model, mask, diffusion, optim, train"),
        ("train.batch_size=three", "expected an integer"),
        ("model.diffusion=maybe", "expected true/false"),
        ("diffusion.schedule=quadratic", "is not one of 'linear', 'cosine'"),
        ("train.batch_size", "section.key=value"),
        ("data.scale=1.5", "data.scale must lie in [0, 1)"),
    ],
)
def test_bad_overrides_name_the_problem(override, message):
    with pytest.raises(ConfigError) as info:
        build_config("tiny", [override])
    assert message in str(info.value)


def test_unknown_preset_lists_presets():
    with pytest.raises(ConfigError) as info:
        build_config("nosuch")
    assert "paper" in str(info.value)


def test_cross_field_validation():
    with pytest.raises(ConfigError, match="same length"):
        build_config("tiny", ["model.encoder_dims=8,8,8"])


def test_round_trip_through_dict():
    cfg = build_config("demo", ["train.seed=5"])
    again = config_from_dict(cfg.to_dict())
    assert again == cfg


def test_a_saved_config_without_the_issue_12_keys_keeps_its_old_behaviour():
    """Checkpoints saved before the β scaling, the timestep-free memory and the padding mask existed were
    trained with the rescaled β range, the timestep in K/V and no padding mask: loading them keeps that; a new
    config (and one saved with the keys) gets the fixed behaviour."""
    new = build_config("tiny")
    assert new.diffusion.beta_scaling == "plain"
    assert new.model.timestep_in_memory is False and new.model.padding_mask is True
    assert config_from_dict(new.to_dict()).to_dict() == new.to_dict()
    old = new.to_dict()
    del old["diffusion"]["beta_scaling"], old["model"]["timestep_in_memory"], old["model"]["padding_mask"]
    loaded = config_from_dict(old)
    assert loaded.diffusion.beta_scaling == "rescaled"
    assert loaded.model.timestep_in_memory is True and loaded.model.padding_mask is False
