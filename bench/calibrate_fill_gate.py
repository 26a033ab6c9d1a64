"""Where does the model's fill beat linear interpolation? Calibrates `fill_gate` on training data.

Run from the project root:
    .venv/bin/python bench/calibrate_fill_gate.py --checkpoint RUN/best.pt --data CACHE [--clips 200]

Takes a seeded choice of the cache's *training* split (never its test split), hides joints with the occlusion
patterns whose gaps have visible frames on both sides (random joints, bursts of lost frames, a limb hidden for
0.5–2 s), fills them with the model (no gate) and with interpolation, and prints, by the distance of each hidden
entry to its nearest visible frame, the mean error of both. Then it tries gates g (interpolation up to g frames
from a visible frame, the model's correction ramping in over the next g frames) and prints the one with the
lowest total error: the value for `slim-checkpoint --fill-gate`. Clips are taken at the recording's rate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dcmae_core.baselines import GAP_SCALE, interp_prior  # noqa: E402
from dcmae_core.data.dataset import SkeletonCache  # noqa: E402
from dcmae_core.inference import Predictor  # noqa: E402
from dcmae_core.occlusion import occlusion_mask  # noqa: E402

PATTERNS = ("random:0.1", "random:0.3", "frame_burst", "limb_span:0.5-1", "limb_span:1-2")
GATES = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True, help="dataset cache; its training split is used")
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    pred = Predictor.from_checkpoint(args.checkpoint, device="cpu")
    pred.fill_gate = 0.0  # the model everywhere: what the gate is chosen from
    cache = SkeletonCache.open(args.data)
    train, _ = cache.split_indices("xsub")
    pick = np.random.default_rng(args.seed).choice(train, size=min(args.clips, len(train)), replace=False)
    rows: list[np.ndarray] = []  # per removed entry: truth (3), model (3), interp (3), gap frames, both sides
    for k, i in enumerate(pick):
        data, valid = cache.sample(int(i))
        present = (np.abs(data).sum(axis=(2, 3)) > 0) & valid[:, None]
        pattern = PATTERNS[k % len(PATTERNS)]
        removed = occlusion_mask(
            pattern, torch.from_numpy(present[None]), cache.layout, torch.Generator().manual_seed(k)
        )[0].numpy()
        if not removed.any():
            continue
        fill = pred.reconstruct(data, removed, layout=cache.layout)
        prior = interp_prior(torch.from_numpy(data), torch.from_numpy(removed)).numpy()
        c = data.shape[-1]
        rows.append(
            np.concatenate(
                [
                    data[removed],
                    fill[removed],
                    prior[removed][:, :c],
                    prior[removed][:, c + 2 : c + 3] * GAP_SCALE,
                    prior[removed][:, c : c + 1],
                ],
                axis=1,
            )
        )
    r = np.concatenate(rows)
    truth, model, interp, gap, both = r[:, :3], r[:, 3:6], r[:, 6:9], r[:, 9], r[:, 10] > 0.5
    e_model = 100 * np.linalg.norm(model - truth, axis=1)
    e_interp = 100 * np.linalg.norm(interp - truth, axis=1)
    print(f"{len(pick)} training clips of {args.data}, {len(r)} hidden entries ({both.mean():.0%} with both sides)")
    print("distance to the nearest visible frame | entries | model cm | interpolation cm")
    for lo, hi in ((1, 1), (2, 2), (3, 4), (5, 8), (9, 15), (16, 30), (31, 10**6)):
        sel = both & (gap >= lo) & (gap <= hi)
        if sel.any():
            print(
                f"  {lo:3d}-{min(hi, 999):<4d} | {sel.sum():7d} | {e_model[sel].mean():6.2f} | "
                f"{e_interp[sel].mean():6.2f}"
            )
    best = None
    for g in GATES:
        w = np.ones_like(gap) if g == 0 else np.where(both, np.clip((gap - g) / g, 0, 1), 1.0)
        err = 100 * np.linalg.norm(interp + w[:, None] * (model - interp) - truth, axis=1).mean()
        print(f"gate {g:3d} frames: mean error {err:.3f} cm")
        if best is None or err < best[1]:
            best = (g, err)
    print(
        f"best gate: {best[0]} frames ({best[1]:.3f} cm; interpolation alone {e_interp.mean():.3f} cm, "
        f"model alone {e_model.mean():.3f} cm)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
