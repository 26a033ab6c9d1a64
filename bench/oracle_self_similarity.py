"""Could a hidden limb be filled from the same clip's own visible frames? An upper bound on the real NTU files.

    python bench/oracle_self_similarity.py [--pattern limb_span:1-2] [--ntu-masks 10]

For every mask of `bench_real_reconstruction.py` on the NTU files (same seeds), the hidden limb is filled with the
limb's pose relative to its root joint taken from visible frames of the same person, chosen *with hindsight*
(knowing the hidden truth), so no real method of this kind can do better:
- frame oracle: for each hidden frame, the visible frame whose limb pose fits it best;
- shift oracle: the whole span copied from one visible stretch of the same length (the best shift), blended so
  that it meets the visible frames on both sides.
Prints the mean error on the hidden entries in cm next to linear interpolation's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_real_reconstruction as brr

from dcmae_core.baselines import interpolate_removed


def root_of(joints: np.ndarray, parents: tuple[int, ...]) -> int:
    """The first ancestor of the hidden joints that is not hidden itself."""
    root = parents[int(joints[0])]
    while root in joints:
        root = parents[root]
    return root


def shift_oracle(rel: np.ndarray, vis: np.ndarray, a: int, b: int) -> np.ndarray | None:
    """rel (T, J, 3) limb relative to its root, vis (T,) usable frames, hidden span [a, b) -> best-fitting copy of
    a visible stretch (L, J, 3) with its offsets blended to the span's visible neighbours, or None."""
    t_len, span = rel.shape[0], b - a
    w = ((np.arange(span) + 1) / (span + 1))[:, None, None]
    best, best_err = None, np.inf
    for d in range(-t_len, t_len):
        s0, s1 = a + d, b + d
        if d == 0 or s0 < 0 or s1 > t_len or not vis[s0:s1].all():
            continue
        before = rel[a - 1] - rel[s0 - 1] if a > 0 and s0 > 0 else 0.0
        after = rel[b] - rel[s1] if b < t_len and s1 < t_len else before
        fill = rel[s0:s1] + (1 - w) * before + w * after
        err = np.linalg.norm(fill - rel[a:b], axis=-1).mean()
        if err < best_err:
            best, best_err = fill, err
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pattern", default="limb_span:1-2")
    ap.add_argument("--ntu-masks", type=int, default=10, help="seeded masks per NTU file, as the benchmark")
    args = ap.parse_args()
    clips = brr.test_clips(0, 0)["NTU (real files)"]
    errs: dict[str, list[np.ndarray]] = {"interpolation": [], "frame oracle": [], "shift oracle": []}
    spans = 0
    for (_name, data, present, layout), removed in brr.masks(clips, args.pattern, args.ntu_masks):
        interp = interpolate_removed(data, removed)
        for m in np.flatnonzero(removed.any(axis=(1, 2))):
            rm = removed[m]  # (T, V)
            joints, frames = np.flatnonzero(rm.any(0)), np.flatnonzero(rm.any(1))
            a, b = int(frames[0]), int(frames[-1]) + 1
            x = data[m]  # (T, V, 3)
            root = root_of(joints, layout.parents)
            rel = x[:, joints] - x[:, root : root + 1]  # (T, J, 3)
            vis = present[m].copy()
            vis[a:b] = False
            e_int = np.linalg.norm(interp[m, a:b][:, joints] - x[a:b, joints], axis=-1)
            errs["interpolation"].append(e_int)
            spans += 1
            shifted = shift_oracle(rel, vis, a, b)
            errs["shift oracle"].append(e_int if shifted is None else np.linalg.norm(shifted - rel[a:b], axis=-1))
            cand = np.flatnonzero(vis)
            if cand.size == 0:
                errs["frame oracle"].append(e_int)
                continue
            fit = np.linalg.norm(rel[cand][None] - rel[a:b][:, None], axis=-1).mean(-1)  # (L, candidates)
            best = rel[cand[fit.argmin(1)]]  # (L, J, 3)
            errs["frame oracle"].append(np.linalg.norm(best - rel[a:b], axis=-1))
    print(f"NTU files, {args.pattern}, {spans} hidden spans (with hindsight; no fill of this kind can do better):")
    base = float(np.concatenate([e.ravel() for e in errs["interpolation"]]).mean())
    for key, e in errs.items():
        cm = 100 * float(np.concatenate([v.ravel() for v in e]).mean())
        print(f"  {key:14s} {cm:5.2f} cm   ({100 * (1 - cm / (100 * base)):+.0f} % against interpolation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
