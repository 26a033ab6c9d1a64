"""Action recognition on real recordings: NW-UCLA cross-view and UTD-MHAD cross-subject top-1 of a checkpoint
finetuned on both (one head over both label sets), clean and with joints hidden by occlusion patterns.

Run from the project root:
    .venv/bin/python bench/bench_real_classification.py [--checkpoint PATH] [--patterns limb_span,lower_body]
        [--clips N] [--json OUT.json]

Test clips: every NW-UCLA view-3 clip and every UTD-MHAD clip of an even subject (read from the shared raw files,
not from a cache). Top-1 is given two ways: over the dataset's own classes (the protocol of the field: the
dataset of a clip is known), and over all classes the head knows. With patterns, each clip gets the pattern's
seeded mask and three arms are scored, as `evaluate --occlusion` does: the encoder on the damaged clip (hidden
joints zeroed), the clip filled by the model first (one step), and filled by linear interpolation first.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dcmae_core.baselines import interpolate_removed  # noqa: E402
from dcmae_core.data.kinect_datasets import read_kinect_file, test_split_files  # noqa: E402
from dcmae_core.inference import Predictor  # noqa: E402
from dcmae_core.layout import KINECT20  # noqa: E402
from dcmae_core.occlusion import occlusion_mask  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "real"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="default: the app's bundled checkpoint")
    ap.add_argument("--patterns", default="", help="comma-separated occlusion patterns (none: clean only)")
    ap.add_argument("--clips", type=int, default=0, help="score only this many clips per dataset (0 = all)")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(2)
    pred = Predictor.from_checkpoint(args.checkpoint, device="cpu")
    names = pred.class_names
    patterns = [p for p in args.patterns.split(",") if p]
    results: dict[str, dict] = {}
    t0 = time.perf_counter()
    for ds, files in test_split_files(REAL).items():
        own = np.array([n.startswith(ds + ":") for n in names])
        if not own.any():
            print(f"{ds}: the checkpoint knows none of its classes; skipped")
            continue
        if args.clips and args.clips < len(files):  # a seeded subset; more than the split holds: all of it
            files = [files[i] for i in np.random.default_rng(0).choice(len(files), args.clips, replace=False)]
        arms = ["clean"] + [f"{p} | {a}" for p in patterns for a in ("enc", "rec", "interp")]
        hits = {a: [0, 0] for a in arms}  # own classes, all classes
        for k, f in enumerate(files):
            data, present, info = read_kinect_file(f)
            label = names.index(f"{ds}: {info['action_name']}")
            inputs = {"clean": (data, None)}
            for p in patterns:
                removed = occlusion_mask(
                    p, torch.from_numpy(present[None]), KINECT20, torch.Generator().manual_seed(k)
                )[0].numpy()
                inputs[f"{p} | enc"] = (data, removed)
                inputs[f"{p} | rec"] = (pred.reconstruct(data, removed, layout=KINECT20), None)
                inputs[f"{p} | interp"] = (interpolate_removed(data, removed), None)
            for arm, (x, removed) in inputs.items():
                probs = pred.classify(x, removed, layout=KINECT20)
                hits[arm][0] += int(np.argmax(np.where(own, probs, -1)) == label)
                hits[arm][1] += int(np.argmax(probs) == label)
        n = len(files)
        results[ds] = {
            "clips": n,
            **{a: {"top1_own": 100 * h[0] / n, "top1_all": 100 * h[1] / n} for a, h in hits.items()},
        }
        print(f"{ds}: {n} test clips")
        for a, h in hits.items():
            print(
                f"  {a:28s} top-1 {100 * h[0] / n:5.1f} % (own classes)  {100 * h[1] / n:5.1f} % (all {len(names)})",
                flush=True,
            )
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
