"""The one place that builds the models from a config: training, inference, checkpoints, profiling, benches."""

from __future__ import annotations

import copy
from typing import Any

from dcmae_core.config import Config
from dcmae_core.layout import Layout
from dcmae_core.model.dcmae import DCMAE, DCMAEClassifier
from dcmae_core.model.stta import STTAEncoder


def build_dcmae(
    cfg: Config,
    num_joints: int,
    num_persons: int = 2,
    in_channels: int = 3,
    parents: tuple[int, ...] | None = None,
    num_frames: int | None = None,
) -> DCMAE:
    """The pretraining / reconstruction model; num_frames defaults to cfg.data.num_frames."""
    return DCMAE(
        cfg.model,
        cfg.mask,
        cfg.diffusion,
        num_joints=num_joints,
        num_persons=num_persons,
        in_channels=in_channels,
        num_frames=cfg.data.num_frames if num_frames is None else num_frames,
        parents=parents,
    )


def build_classifier(cfg: Config, encoder: STTAEncoder, num_classes: int) -> DCMAEClassifier:
    """The finetuning classifier on a copy of `encoder` (a pretrained DCMAE's, or a fresh one), without the
    encoder's mask embedding: classification never masks joints, and a parameter that never gets a gradient
    stops DistributedDataParallel at its second step."""
    return DCMAEClassifier(copy.deepcopy(encoder).drop_mask_embed(), num_classes, cfg.model.head_dropout)


def models_from_checkpoint(ckpt: dict[str, Any], cfg: Config) -> tuple[DCMAE | None, DCMAEClassifier | None]:
    """The DCMAE and the classifier a checkpoint holds weights for (None where it holds none), with those
    weights loaded. Raises RuntimeError / KeyError / ValueError when the weights do not fit the config."""
    layout = Layout.from_dict(ckpt["layout"])
    dcmae = clf = None
    base = build_dcmae(
        cfg,
        layout.num_joints,
        int(ckpt["num_persons"]),
        int(ckpt["in_channels"]),
        layout.parents,
        int(ckpt["num_frames"]),
    )
    if ckpt.get("dcmae") is not None:
        dcmae = base
        dcmae.load_state_dict(ckpt["dcmae"])
    if ckpt.get("classifier") is not None:
        clf = build_classifier(cfg, base.encoder, len(ckpt["class_names"]))
        clf.load_state_dict(ckpt["classifier"])
    return dcmae, clf
