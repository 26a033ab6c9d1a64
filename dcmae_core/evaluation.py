"""Evaluation of a finetuned checkpoint: full accuracy and the missing-joint protocol (SPEC §2, paper Table 4).

For each occlusion ratio r, every test sample gets the same seeded mask (a pure function of seed and the
sample's index) for every arm: "encoder only" classifies the damaged input (removed joints zeroed in metres,
as a sensor reports them); "REC" first fills them with the pretrained DCMAE's one-step reconstruction;
"interpolation" fills them linearly in time from the joint's visible frames (a baseline without a model).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from dcmae_core.baselines import interpolate_time
from dcmae_core.checkpoint import CheckpointError, load_checkpoint
from dcmae_core.config import Config, config_from_dict
from dcmae_core.data.dataset import SkeletonCache, SkeletonDataset
from dcmae_core.engine import evaluate
from dcmae_core.inference import _build_models
from dcmae_core.model.masking import missing_joint_mask
from dcmae_core.runs import resolve_device

log = logging.getLogger(__name__)


def occlusion_masks(batch: dict[str, torch.Tensor], ratio: float, seed: int, num_joints: int) -> torch.Tensor:
    """(N, M, T, V) bool, one seeded mask per sample, independent of batch size and order."""
    masks = []
    for i in range(batch["present"].shape[0]):
        g = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(batch["index"][i]))
        masks.append(missing_joint_mask(batch["present"][i : i + 1].cpu(), num_joints, ratio, g))
    return torch.cat(masks).to(batch["x"].device)


def damage(x: torch.Tensor, removed: torch.Tensor, zero_std: torch.Tensor) -> torch.Tensor:
    """Set removed entries to the standardised value of 0 m (what a sensor reports for a lost joint)."""
    return torch.where(removed[..., None], zero_std, x)


def evaluate_checkpoint(checkpoint: str | Path, cfg: Config | None = None, data_root: str | None = None,
                        occlusion: list[float] | None = None, seed: int = 0, device: str = "auto",
                        split: str | None = None) -> dict[str, Any]:
    """Accuracy of a finetuned checkpoint on its test split, plus the missing-joint protocol per ratio."""
    ckpt = load_checkpoint(checkpoint)
    if ckpt.get("classifier") is None:
        raise CheckpointError(f"{checkpoint} holds no classifier; evaluate a finetuned checkpoint")
    cfg = cfg or config_from_dict(ckpt["config"])
    root = data_root or cfg.data.root or ckpt.get("dataset", {}).get("root", "")
    if not root:
        raise ValueError("no dataset: pass --data DIR")
    split = split or cfg.data.split
    dev = resolve_device(device)
    dcmae, clf = _build_models(ckpt, cfg)
    clf.to(dev).eval()
    if dcmae is not None:
        dcmae.to(dev).eval()
    cache = SkeletonCache.open(root)
    if list(cache.class_names) != list(ckpt["class_names"]):
        raise ValueError(f"dataset {root} has other classes than checkpoint {checkpoint} was trained on")
    _, test_idx = cache.split_indices(split)
    mean = np.asarray(ckpt["stats"]["mean"], dtype=np.float32)
    std = np.asarray(ckpt["stats"]["std"], dtype=np.float32)
    ds = SkeletonDataset(cache, test_idx, cfg.data, train=False, mean=mean, std=std, seed=seed)
    loader = DataLoader(ds, batch_size=cfg.train.eval_batch_size, shuffle=False,
                        num_workers=cfg.data.num_workers)
    k = len(ckpt["class_names"])
    classify = lambda b: clf(b["x"], b["person_valid"])  # noqa: E731
    result: dict[str, Any] = {"checkpoint": str(checkpoint), "data": str(root), "split": split,
                              "full": evaluate(classify, loader, k, dev)}
    zero_std = torch.from_numpy(-mean / std).to(dev)  # (C,)
    for r in occlusion or []:
        arms = {}

        def enc_only(b, r=r):
            removed = occlusion_masks(b, r, seed, cache.layout.num_joints)
            return clf(damage(b["x"], removed, zero_std), b["person_valid"])

        arms["encoder_only"] = evaluate(enc_only, loader, k, dev)
        if dcmae is not None:
            def rec(b, r=r):
                removed = occlusion_masks(b, r, seed, cache.layout.num_joints)
                g = torch.Generator(device=dev).manual_seed(int(seed))
                filled = dcmae.reconstruct(damage(b["x"], removed, zero_std), removed, b["person_valid"],
                                           method="one_step", generator=g)
                return clf(filled, b["person_valid"])

            arms["rec"] = evaluate(rec, loader, k, dev)
        else:
            log.warning("checkpoint has no pretrained DCMAE weights: REC arm skipped")

        def interpolated(b, r=r):
            removed = occlusion_masks(b, r, seed, cache.layout.num_joints)
            return clf(interpolate_time(damage(b["x"], removed, zero_std), removed, zero_std), b["person_valid"])

        arms["interpolation"] = evaluate(interpolated, loader, k, dev)
        result[f"occlusion_{r:g}"] = arms
    return result
