"""Why zeroing a few joints raises the demo checkpoint's accuracy (issue 12, item 9; docs/demo/report.md).

    python tools/missing_joint_gain.py dcmae_core/resources/checkpoints/dcmae_demo.pt CACHE

CACHE: the demo's prepared corpus (`make_corpus(OUT, 1200, 0)` of dcmae_core/evaluation/demo.py, i.e. OUT/cache
of a demo run). Classifies the test split clean and with the protocol's seeded missing joints (ratios 0, 5, 10, 20 %)
filled three ways: 0 m (as evaluation does: what a sensor reports), the data mean, the value plus noise.
Then the two classes where the gain comes from: pickup and sitting down.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from torch.utils.data import DataLoader

from dcmae_core.checkpoint import load_checkpoint
from dcmae_core.config import config_from_dict
from dcmae_core.data.dataset import SkeletonCache, SkeletonDataset
from dcmae_core.evaluation.missing_joints import damage, occlusion_masks
from dcmae_core.model.factory import models_from_checkpoint


def main(checkpoint: str, root: str) -> None:
    ckpt = load_checkpoint(checkpoint)
    cfg = config_from_dict(ckpt["config"])
    clf = models_from_checkpoint(ckpt, cfg)[1].eval()
    cache = SkeletonCache.open(root)
    mean, std = (np.asarray(ckpt["stats"][k], np.float32) for k in ("mean", "std"))
    ds = SkeletonDataset(cache, cache.split_indices(cfg.data.split)[1], cfg.data, train=False, mean=mean, std=std)
    batches = list(DataLoader(ds, batch_size=64, shuffle=False))
    labels = torch.cat([b["label"] for b in batches])
    zero_m = torch.from_numpy(-mean / std)  # (C,) 0 m in standardised units
    gen = torch.Generator().manual_seed(0)

    @torch.no_grad()
    def logits(ratio: float, fill: str) -> torch.Tensor:
        out = []
        for b in batches:
            removed = occlusion_masks(b, ratio, 0, cache.layout)  # (N, M, T, V), the protocol's masks
            if fill == "0 m":
                x = damage(b["x"], removed, zero_m)
            elif fill == "mean":
                x = damage(b["x"], removed, torch.zeros(3))
            else:  # the true value plus noise of 0.3 standard deviations
                x = torch.where(removed[..., None], b["x"] + 0.3 * torch.randn(b["x"].shape, generator=gen), b["x"])
            out.append(clf(x, b["person_valid"]))
        return torch.cat(out)  # (N_test, K)

    pick, sit = cache.class_names.index("pickup"), cache.class_names.index("sitting down")
    is_pick, is_sit = labels == pick, labels == sit
    clean = float((logits(0.0, "0 m").argmax(1) == labels).float().mean())
    print(f"{len(labels)} test clips; clean top-1 {100 * clean:.1f} %")
    for ratio in (0.0, 0.05, 0.1, 0.2):
        for fill in ("0 m", "mean", "noise"):
            lg = logits(ratio, fill)
            right = lg.argmax(1) == labels
            print(
                f"missing {ratio:4.0%} filled with {fill:5s}: top-1 {100 * float(right.float().mean()):5.1f} %; "
                f"pickup right {int(right[is_pick].sum())}/{int(is_pick.sum())}, sitting down right "
                f"{int(right[is_sit].sum())}/{int(is_sit.sum())}, pickup - sitting-down logit on pickup clips "
                f"{float((lg[is_pick, pick] - lg[is_pick, sit]).mean()):+.2f}; top-1 without pickup "
                f"{100 * float(right[~is_pick].float().mean()):.1f} %"
            )


if __name__ == "__main__":
    torch.set_num_threads(2)
    main(*sys.argv[1:3])
