"""Evaluation of a finetuned checkpoint: full accuracy and the missing-joint protocol (SPEC §2, paper Table 4).

For each occlusion ratio r (= the pattern random:r) and each named occlusion pattern (dcmae_core/occlusion.py),
every test sample gets the same seeded mask (a pure function of seed and the sample's index) for every arm:
"encoder only" classifies the damaged input (removed joints zeroed in metres, as a sensor reports them);
"REC" first fills them with the pretrained DCMAE's one-step reconstruction; "interpolation" fills them
linearly in time from the joint's visible frames (a baseline without a model).
person_part is scored only on the clips where it hides something (two persons, one in front of the other);
single-person clips are skipped rather than counted with an empty mask, and its arms' count says how many
clips were scored. Patterns' seconds are read at `fps` frames per second of the model's input frames.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from dcmae_core.baselines import interpolate_time
from dcmae_core.checkpoint import CheckpointError, load_checkpoint
from dcmae_core.config import Config, config_from_dict
from dcmae_core.data.dataset import SkeletonCache, SkeletonDataset
from dcmae_core.inference import _build_models
from dcmae_core.layout import Layout
from dcmae_core.occlusion import OcclusionPattern, occlusion_mask, parse_pattern
from dcmae_core.training.devices import resolve_device
from dcmae_core.training.engine import evaluate

log = logging.getLogger(__name__)


def occlusion_masks(
    batch: dict[str, torch.Tensor],
    pattern: float | str | OcclusionPattern,
    seed: int,
    layout: Layout,
    fps: float = 30.0,
    mean: torch.Tensor | None = None,
    std: torch.Tensor | None = None,
) -> torch.Tensor:
    """(N, M, T, V) bool, one seeded mask per sample, independent of batch size and order.

    pattern: a missing-joint ratio r (= random:r, the masks the protocol always used) or an occlusion pattern.
    mean, std (C,): the standardisation of batch["x"], to give person_part the positions in metres."""
    pat = parse_pattern(f"random:{pattern!r}" if isinstance(pattern, (int, float)) else pattern)
    x = None
    if pat.name == "person_part":
        if mean is None or std is None:
            raise ValueError("person_part needs the standardisation (mean, std) to read positions in metres")
        x = (batch["x"] * std.to(batch["x"].device) + mean.to(batch["x"].device)).float().cpu()  # (N, M, T, V, C)
    masks = []
    for i in range(batch["present"].shape[0]):
        g = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(batch["index"][i]))
        masks.append(
            occlusion_mask(
                pat, batch["present"][i : i + 1].cpu(), layout, g, fps=fps, x=None if x is None else x[i : i + 1]
            )
        )
    return torch.cat(masks).to(batch["x"].device)


def _clips_with_mask(
    ds: SkeletonDataset,
    pat: OcclusionPattern,
    seed: int,
    layout: Layout,
    fps: float,
    mean: torch.Tensor,
    std: torch.Tensor,
    batch_size: int,
    num_workers: int,
) -> list[int]:
    """Positions in `ds` of the clips where the pattern hides at least one joint (one pass over the data)."""
    keep: list[int] = []
    pos = 0
    for b in DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=num_workers):
        hit = occlusion_masks(b, pat, seed, layout, fps, mean, std).flatten(1).any(dim=1)  # (N,)
        keep.extend(pos + int(i) for i in hit.nonzero().flatten())
        pos += int(hit.shape[0])
    return keep


def damage(x: torch.Tensor, removed: torch.Tensor, zero_std: torch.Tensor) -> torch.Tensor:
    """Set removed entries to the standardised value of 0 m (what a sensor reports for a lost joint)."""
    return torch.where(removed[..., None], zero_std, x)


def evaluate_checkpoint(
    checkpoint: str | Path,
    cfg: Config | None = None,
    data_root: str | None = None,
    occlusion: list[float | str] | None = None,
    seed: int = 0,
    device: str = "auto",
    split: str | None = None,
    fps: float = 30.0,
) -> dict[str, Any]:
    """Accuracy of a finetuned checkpoint on its test split, plus each occlusion: a missing-joint ratio r
    (result key occlusion_{r:g}) or an occlusion pattern text (key occlusion_{canonical text}, e.g.
    occlusion_limb_span:0.5-2), each with the encoder-only, REC and interpolation arms."""
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
    loader = DataLoader(ds, batch_size=cfg.train.eval_batch_size, shuffle=False, num_workers=cfg.data.num_workers)
    k = len(ckpt["class_names"])
    classify = lambda b: clf(b["x"], b["person_valid"])  # noqa: E731
    result: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "data": str(root),
        "split": split,
        "full": evaluate(classify, loader, k, dev),
    }
    zero_std = torch.from_numpy(-mean / std).to(dev)  # (C,)
    mean_t, std_t = torch.from_numpy(mean), torch.from_numpy(std)
    layout = cache.layout
    for occ in occlusion or []:
        if isinstance(occ, (int, float)):
            pat, key = parse_pattern(f"random:{float(occ)!r}"), f"occlusion_{float(occ):g}"
        else:
            pat = parse_pattern(occ)
            key = f"occlusion_{pat.ratio:g}" if pat.name == "random" else f"occlusion_{pat}"
        occ_loader = loader
        if pat.name == "person_part":
            keep = _clips_with_mask(
                ds, pat, seed, layout, fps, mean_t, std_t, cfg.train.eval_batch_size, cfg.data.num_workers
            )
            if not keep:
                log.warning("%s hides nothing in any test clip (no two overlapping persons): skipped", pat)
                result[key] = {"skipped": "no test clip with one person in front of another"}
                continue
            occ_loader = DataLoader(
                Subset(ds, keep), batch_size=cfg.train.eval_batch_size, shuffle=False, num_workers=cfg.data.num_workers
            )

        def masks(b, pat=pat):
            return occlusion_masks(b, pat, seed, layout, fps, mean_t, std_t)

        arms = {}

        def enc_only(b, masks=masks):
            return clf(damage(b["x"], masks(b), zero_std), b["person_valid"])

        arms["encoder_only"] = evaluate(enc_only, occ_loader, k, dev)
        if dcmae is not None:

            def rec(b, masks=masks):
                removed = masks(b)
                g = torch.Generator(device=dev).manual_seed(int(seed))
                filled = dcmae.reconstruct(
                    damage(b["x"], removed, zero_std),
                    removed,
                    b["person_valid"],
                    method="one_step",
                    generator=g,
                    present=b["present"],
                )
                return clf(filled, b["person_valid"])

            arms["rec"] = evaluate(rec, occ_loader, k, dev)
        else:
            log.warning("checkpoint has no pretrained DCMAE weights: REC arm skipped")

        def interpolated(b, masks=masks):
            removed = masks(b)
            return clf(interpolate_time(damage(b["x"], removed, zero_std), removed, zero_std), b["person_valid"])

        arms["interpolation"] = evaluate(interpolated, occ_loader, k, dev)
        result[key] = arms
    return result
