"""Benchmark `read_skeleton` against a plain line-by-line reader on the real NTU samples.

Run from the project root:  .venv/bin/python bench/bench_read_skeleton.py [folder] [--repeats N]
Prints files/s and MB/s of both readers (best of N passes over all files, readers interleaved so that
machine load hits both alike), checks that both give the same numbers, and exits 1 if the speed-up is < 5x.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dcmae_core.data.ntu import read_skeleton  # noqa: E402


def read_skeleton_lines(path: Path) -> dict[int, np.ndarray]:
    """Reference reader: one readline + split + float() per line, as most NTU scripts do.

    Returns body id -> (n, V, 11) joint values (tracking state left out), the bodies' frames in file order.
    """
    bodies: dict[int, list[list[list[float]]]] = {}
    with open(path) as fh:
        num_frames = int(fh.readline())
        for _ in range(num_frames):
            for _ in range(int(fh.readline())):
                info = fh.readline().split()
                body_id = int(info[0])
                _ = [float(v) for v in info[1:]]
                joints = [[float(v) for v in fh.readline().split()] for _ in range(int(fh.readline()))]
                bodies.setdefault(body_id, []).append([j[:11] for j in joints])
    return {k: np.asarray(v) for k, v in bodies.items()}


def best_pass(reader, files: list[Path], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for p in files:
            reader(p)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default=str(ROOT.parent / "shared" / "data" / "ntu_samples"))
    ap.add_argument("--repeats", type=int, default=20, help="passes per reader; the best one counts")
    args = ap.parse_args()
    files = sorted(Path(args.folder).glob("*.skeleton"))
    if not files:
        print(f"no .skeleton files in {args.folder}", file=sys.stderr)
        return 2
    megabytes = sum(p.stat().st_size for p in files) / 1e6

    for p in files:  # same numbers from both readers
        ref, skel = read_skeleton_lines(p), read_skeleton(p)
        for b in skel.bodies:
            ours = np.concatenate([b.xyz, b.depth_xy, b.color_xy, b.orientation], axis=-1)
            if not np.array_equal(ours, ref[b.body_id]):
                print(f"MISMATCH in {p.name} body {b.body_id}", file=sys.stderr)
                return 1

    slow = fast = float("inf")
    for _ in range(3):  # interleave the readers
        slow = min(slow, best_pass(read_skeleton_lines, files, max(1, args.repeats // 3)))
        fast = min(fast, best_pass(read_skeleton, files, max(1, args.repeats // 3)))
    n = len(files)
    print(f"{n} files, {megabytes:.2f} MB in {args.folder}")
    print(f"line-by-line reader: {n / slow:8.1f} files/s {megabytes / slow:7.1f} MB/s")
    print(f"read_skeleton:       {n / fast:8.1f} files/s {megabytes / fast:7.1f} MB/s")
    speedup = slow / fast
    print(f"speed-up: {speedup:.1f}x (required >= 5x)")
    return 0 if speedup >= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
