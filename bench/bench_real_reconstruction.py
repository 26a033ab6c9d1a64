"""Fills of hidden joints on real recordings: the model against linear interpolation and zeros, per occlusion pattern.

Run from the project root (defaults: the bundled checkpoint, the shared real data):
    .venv/bin/python bench/bench_real_reconstruction.py [--checkpoint PATH] [--clips 120] [--iterative-clips 20]
        [--json OUT.json]

Clips: the test splits of NW-UCLA (view 3) and UTD-MHAD (even subjects), a seeded choice of `--clips` of each,
and every real NTU `.skeleton` file in ../shared/data/ntu_samples (NTU-25: the model's Kinect-v1 joints are
mapped, the five NTU-only joints filled by `Predictor`'s rule). Each clip gets each pattern of
`dcmae_core.occlusion` with a seed of its own (the same for every method); each NTU file gets `--ntu-masks`
seeded masks per pattern (ten files with one mask each would be ten limb spans, too few to compare methods).
Also `--kg-clips` Kinder-Gator takes (the first 10 s of each, a seeded choice): the model was pretrained on
them, but the motion bank holds none of their motions, so they show what the bank does on motion it never saw.
The error is the Euclidean distance in cm between the fill and the recorded position, averaged over all removed
(frame, joint) entries of the dataset. Methods: the model's one-step fill (the app's default), the same without the
checkpoint's motion bank (where it has one; `--bank-check-ratio` changes the bank's mirrored-limb check, e.g. `inf`
to switch it off; its match distance, `motion_bank.MATCH_RMS`, still applies), its iterative fill
(`--iterative-steps` DDPM steps, on the first `--iterative-clips` masks only, one per clip first, whose
interpolation error is printed beside it), linear interpolation in time, the same relative to the parent joint where
that one is visible (what the default fill keeps inside its gate, `baselines.interpolate_from_parent`), and zeros
(the centred origin, what a sensor's lost joint becomes).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dcmae_core.baselines import interpolate_from_parent, interpolate_removed  # noqa: E402
from dcmae_core.data.kinect_datasets import read_kinect_file, test_split_files  # noqa: E402
from dcmae_core.data.ntu import read_skeleton  # noqa: E402
from dcmae_core.data.preprocess import preprocess_skeleton  # noqa: E402
from dcmae_core.inference import Predictor  # noqa: E402
from dcmae_core.layout import KINECT20, NTU25, Layout  # noqa: E402
from dcmae_core.motion_bank import OUTCOMES  # noqa: E402
from dcmae_core.occlusion import occlusion_applies, occlusion_mask  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "real"
NTU = ROOT.parent / "shared" / "data" / "ntu_samples"
KG_FRAMES = 300  # Kinder-Gator takes are long: their first 10 s
PATTERNS = ("random:0.1", "frame_burst", "limb_span:0.5-1", "limb_span:1-2", "limb_clip", "lower_body", "person_part")


def test_clips(n: int, seed: int, kg: int = 0) -> dict[str, list[tuple[str, np.ndarray, np.ndarray, Layout]]]:
    """{dataset: [(name, data (M, T, V, 3), present (M, T), layout)]}; `kg`: also that many Kinder-Gator takes."""
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {}
    for name, files in test_split_files(REAL).items():
        pick = sorted(rng.choice(len(files), size=min(n, len(files)), replace=False)) if files else []
        clips = []
        for i in pick:
            data, present, _ = read_kinect_file(files[i])
            if data.shape[1] >= 10:
                clips.append((files[i].stem, data, present, KINECT20))
        out[name] = clips
    ntu = []
    for f in sorted(NTU.glob("*.skeleton")):
        pre = preprocess_skeleton(read_skeleton(f))
        ntu.append((f.stem, pre.data, pre.present & pre.person_valid[:, None], NTU25))
    out["NTU (real files)"] = ntu
    if kg:
        files = sorted((REAL / "kinder_gator").rglob("*.csv"))
        pick = sorted(np.random.default_rng(seed).choice(len(files), size=min(kg, len(files)), replace=False))
        clips = []
        for i in pick:
            data, present, _ = read_kinect_file(files[i])
            clips.append((files[i].stem, data[:, :KG_FRAMES], present[:, :KG_FRAMES], KINECT20))
        out["Kinder-Gator (not in the bank)"] = clips
    return out


def masks(clips, pattern: str, repeats: int):
    """(clip, removed (M, T, V)) for each clip and each of `repeats` seeded masks of `pattern` (the first seed of
    clip k is 1000 + k, as with one mask per clip); clips the pattern does not apply to, or where it hides
    nothing, are left out."""
    for r in range(repeats):  # round by round, so the first masks (the iterative fill's) cover every clip
        for k, clip in enumerate(clips):
            _name, data, present, layout = clip
            pres = torch.from_numpy(present[None])
            if not bool(occlusion_applies(pattern, pres)[0]):
                continue
            gen = torch.Generator().manual_seed(1000 + k + 7919 * r)
            removed = occlusion_mask(pattern, pres, layout, gen, x=torch.from_numpy(data[None]))[0].numpy()
            if removed.any():
                yield clip, removed


def run(
    predictor: Predictor,
    plain: Predictor | None,
    clips,
    pattern: str,
    iterative_clips: int,
    iterative_steps: int,
    repeats: int = 1,
) -> dict:
    """`plain`: the same predictor without its motion bank (None: it has none). `repeats`: masks per clip."""
    errs: dict[str, list[np.ndarray]] = {
        "model": [],
        "no_bank": [],
        "iterative": [],
        "interp_iter": [],
        "interpolation": [],
        "parent_relative": [],
        "zeros": [],
    }
    used = 0
    seconds = {"model": 0.0, "no_bank": 0.0}  # time spent in the one-step fill, with and without the bank
    bank_spans: dict[str, int] = {}  # the bank's spans by outcome (motion_bank.OUTCOMES), summed over the masks
    for (_name, data, _present, layout), removed in masks(clips, pattern, repeats):
        used += 1
        t0 = time.perf_counter()
        fills = {
            "model": predictor.reconstruct(data, removed, layout=layout),
            "interpolation": interpolate_removed(data, removed),
            "parent_relative": interpolate_from_parent(
                torch.from_numpy(data), torch.from_numpy(removed), layout.parents
            ).numpy(),
            "zeros": np.zeros_like(data),
        }
        t1 = time.perf_counter()
        for key, n in predictor.last_bank_report.items():
            bank_spans[key] = bank_spans.get(key, 0) + n
        if plain is not None:
            fills["no_bank"] = plain.reconstruct(data, removed, layout=layout)
        t2 = time.perf_counter()
        seconds["model"] += t1 - t0  # (the two interpolations inside are ~1 ms)
        seconds["no_bank"] += t2 - t1
        if used <= iterative_clips:
            fills["iterative"] = predictor.reconstruct(
                data, removed, method="iterative", num_steps=iterative_steps, layout=layout
            )
            fills["interp_iter"] = fills["interpolation"]
        for key, fill in fills.items():
            errs[key].append(np.linalg.norm(fill - data, axis=-1)[removed])
    res = {"clips": used, "seconds": seconds, "bank_spans": bank_spans}  # "clips": masks scored (clips x repeats)
    for key, e in errs.items():
        res[key] = float(100 * np.concatenate(e).mean()) if e else None
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="default: the app's bundled checkpoint")
    ap.add_argument("--clips", type=int, default=120, help="test clips drawn per Kinect dataset")
    ap.add_argument("--iterative-clips", type=int, default=20, help="clips per pattern also filled iteratively")
    ap.add_argument("--iterative-steps", type=int, default=20, help="DDPM steps of the iterative fill")
    ap.add_argument("--patterns", default=",".join(PATTERNS), help="comma-separated occlusion patterns")
    ap.add_argument("--seed", type=int, default=0, help="seed of the clip choice")
    ap.add_argument(
        "--kg-clips", type=int, default=60, help="Kinder-Gator takes (motion the bank does not hold; 0: none)"
    )
    ap.add_argument("--ntu-masks", type=int, default=10, help="seeded masks per pattern for each NTU file")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    ap.add_argument(
        "--bank-check-ratio",
        type=float,
        default=None,
        help="the motion bank's mirrored-limb ratio (inf: no such check)",
    )
    args = ap.parse_args()
    torch.set_num_threads(2)
    predictor = Predictor.from_checkpoint(args.checkpoint, device="cpu")
    plain = None
    if predictor.motion_bank is not None:
        if args.bank_check_ratio is not None:
            predictor.motion_bank.proxy_ratio = args.bank_check_ratio
        plain = copy.copy(predictor)
        plain.motion_bank = None
    t0 = time.perf_counter()
    data = test_clips(args.clips, args.seed, args.kg_clips)
    results: dict[str, dict] = {}
    bank = predictor.motion_bank
    bank_text = "none" if bank is None else f"{bank.num_clips} clips, check ratio {bank.proxy_ratio}"
    print(
        f"checkpoint: {args.checkpoint or 'bundled'} ({predictor.layout.name}, fill prior "
        f"{predictor.config.model.fill_prior}, motion bank {bank_text})"
    )
    print(
        "| data | pattern | masks | model, one step | without the bank | interpolation | parent-relative "
        "interpolation | zeros | model vs interp | iterative (n) / interp on those |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for ds, clips in data.items():
        for pattern in args.patterns.split(","):
            repeats = args.ntu_masks if ds.startswith("NTU") else 1
            r = run(predictor, plain, clips, pattern, args.iterative_clips, args.iterative_steps, repeats)
            results[f"{ds} | {pattern}"] = r
            if not r["clips"]:
                print(f"| {ds} | {pattern} | 0 | – | – | – | – | – | – | – |")
                continue
            no_bank = f"{r['no_bank']:.1f}" if r["no_bank"] is not None else "–"
            gain = 100 * (1 - r["model"] / r["interpolation"])
            it = (
                f"{r['iterative']:.1f} / {r['interp_iter']:.1f} ({min(r['clips'], args.iterative_clips)})"
                if r["iterative"] is not None
                else "–"
            )
            print(
                f"| {ds} | {pattern} | {r['clips']} | {r['model']:.1f} | {no_bank} | {r['interpolation']:.1f} | "
                f"{r['parent_relative']:.1f} | {r['zeros']:.1f} | {gain:+.0f} % | {it} |",
                flush=True,
            )
    if plain is not None:
        print("motion bank, spans by outcome (" + ", ".join(f"{k}: {v}" for k, v in OUTCOMES.items()) + "):")
        for key, r in results.items():
            if r["clips"] and r["bank_spans"]:
                print(f"  {key}: " + ", ".join(f"{k} {r['bank_spans'].get(k, 0)}" for k in OUTCOMES))
        n = sum(r["clips"] for r in results.values())
        with_bank = sum(r["seconds"]["model"] for r in results.values())
        without = sum(r["seconds"]["no_bank"] for r in results.values())
        print(
            f"one-step fill per mask: {1000 * with_bank / n:.0f} ms with the bank, {1000 * without / n:.0f} ms without"
        )
    print(
        f"({time.perf_counter() - t0:.0f} s; errors in cm, mean over removed entries; 'model vs interp' is "
        f"how much lower the model's error is)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
