"""How well a checkpoint fills removed joints, against zeros and linear interpolation in time.

Run from the project root:
    .venv/bin/python bench/bench_reconstruction.py [--checkpoint PATH] [--ratio 0.1] [--method one_step]

The clips are fresh synthetic ones (2 per solo action) of the NTU-60 X-Sub test performers, made with
another seed than the demo corpus, so a model trained on that corpus never saw them; the joints are removed
by the missing-joint protocol (seeded). Prints the mean, median and 90th percentile of the error (cm) on the
removed joints for the model, for zeros and for interpolation.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dcmae_core.baselines import interpolate_removed  # noqa: E402
from dcmae_core.data.preprocess import preprocess_skeleton  # noqa: E402
from dcmae_core.data.synth import generate_sample, spread_names  # noqa: E402
from dcmae_core.data.synth_actions import SOLO_ACTIONS  # noqa: E402
from dcmae_core.inference import Predictor  # noqa: E402
from dcmae_core.model.masking import missing_joint_mask  # noqa: E402

HELD_OUT = (3, 6, 7, 10)  # NTU-60 X-Sub test performers


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="default: the bundled demo checkpoint")
    ap.add_argument("--ratio", type=float, default=0.1, help="share of (frame, joint) entries removed")
    ap.add_argument("--method", default="one_step", choices=("one_step", "iterative"))
    ap.add_argument("--seed", type=int, default=7, help="clip seed (the demo corpus uses 0)")
    args = ap.parse_args()

    predictor = Predictor.from_checkpoint(args.checkpoint, device="cpu")
    errors: dict[str, list[np.ndarray]] = {"model": [], "zeros": [], "interpolation": []}
    t0 = time.perf_counter()
    for i, name in enumerate(spread_names(sorted(SOLO_ACTIONS), HELD_OUT)):
        data = preprocess_skeleton(generate_sample(name, seed=args.seed)).data  # (M, T, V, 3)
        present = np.abs(data).sum(axis=(2, 3)) > 0  # (M, T)
        removed = missing_joint_mask(
            torch.from_numpy(present[None]), data.shape[2], args.ratio, torch.Generator().manual_seed(i)
        )[0].numpy()
        fills = {
            "model": predictor.reconstruct(data, removed, method=args.method),
            "zeros": np.zeros_like(data),
            "interpolation": interpolate_removed(data, removed),
        }
        for key, fill in fills.items():
            errors[key].append(np.linalg.norm(fill - data, axis=-1)[removed])
    print(
        f"checkpoint {args.checkpoint or 'bundled demo'}; {i + 1} clips, {args.ratio:.0%} removed, "
        f"{args.method}; {time.perf_counter() - t0:.1f} s"
    )
    for key, errs in errors.items():
        e = 100 * np.concatenate(errs)
        print(f"{key:14s} mean {e.mean():5.1f} cm   median {np.median(e):5.1f} cm   p90 {np.percentile(e, 90):5.1f} cm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
