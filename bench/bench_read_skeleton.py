"""Benchmark `read_skeleton` against plain line-by-line readers on the real NTU samples.

Run from the project root:  .venv/bin/python bench/bench_read_skeleton.py [folder] [--repeats N]

Two references, both written here: `read_skeleton_dicts`, the dict-per-joint reader that NTU tools in
the field use (the `read_skeleton` + `read_xyz` pattern of ST-GCN / 2s-AGCN style preprocessing, here
filling all 11 joint values), and `read_skeleton_lines`, a lean list-based line reader. Prints files/s
and MB/s (best pass of N, readers interleaved so that machine load hits all alike), checks that all
give the same numbers, and exits 1 if read_skeleton is < 5x faster than the dict-per-joint reader.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dcmae_core.data.ntu import read_skeleton  # noqa: E402

JOINT_KEYS = [
    "x",
    "y",
    "z",
    "depthX",
    "depthY",
    "colorX",
    "colorY",
    "orientationW",
    "orientationX",
    "orientationY",
    "orientationZ",
    "trackingState",
]
BODY_KEYS = [
    "bodyID",
    "clipedEdges",
    "handLeftConfidence",
    "handLeftState",
    "handRightConfidence",
    "handRightState",
    "isResticted",
    "leanX",
    "leanY",
    "trackingState",
]


def read_skeleton_dicts(path: Path) -> dict[int, np.ndarray]:
    """The field's reader: a dict per frame, body and joint, then loops that copy values into arrays.

    Returns body id -> (n, V, 11) joint values. (The field's version also parses bodyID with float(),
    which loses the id's last digits; here it is kept as int so that results can be compared.)
    """
    with open(path) as fh:
        seq = {"numFrame": int(fh.readline()), "frameInfo": []}
        for _ in range(seq["numFrame"]):
            frame = {"numBody": int(fh.readline()), "bodyInfo": []}
            for _ in range(frame["numBody"]):
                values = fh.readline().split()
                body = {k: float(v) for k, v in zip(BODY_KEYS[1:], values[1:], strict=True)}
                body["bodyID"] = int(values[0])
                body["numJoint"] = int(fh.readline())
                body["jointInfo"] = [
                    {k: float(v) for k, v in zip(JOINT_KEYS, fh.readline().split(), strict=True)}
                    for _ in range(body["numJoint"])
                ]
                frame["bodyInfo"].append(body)
            seq["frameInfo"].append(frame)
    out: dict[int, list[np.ndarray]] = {}
    for frame in seq["frameInfo"]:
        for body in frame["bodyInfo"]:
            arr = np.zeros((body["numJoint"], 11))
            for j, joint in enumerate(body["jointInfo"]):
                for c, key in enumerate(JOINT_KEYS[:11]):
                    arr[j, c] = joint[key]
            out.setdefault(body["bodyID"], []).append(arr)
    return {k: np.stack(v) for k, v in out.items()}


def read_skeleton_lines(path: Path) -> dict[int, np.ndarray]:
    """A lean line reader: readline + split + float() per line into lists, one np.asarray per body."""
    bodies: dict[int, list[list[list[float]]]] = {}
    with open(path) as fh:
        for _ in range(int(fh.readline())):
            for _ in range(int(fh.readline())):
                info = fh.readline().split()
                _ = [float(v) for v in info[1:]]
                joints = [[float(v) for v in fh.readline().split()] for _ in range(int(fh.readline()))]
                bodies.setdefault(int(info[0]), []).append([j[:11] for j in joints])
    return {k: np.asarray(v) for k, v in bodies.items()}


def best_pass(reader: Callable[[Path], object], files: list[Path], repeats: int) -> float:
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
    ap.add_argument("--repeats", type=int, default=15, help="passes per reader; the best one counts")
    ap.add_argument(
        "--keep-freed-memory",
        action="store_true",
        help="tune the allocator as `prepare` workers run (dcmae_core.training.allocator.keep_freed_memory)",
    )
    args = ap.parse_args()
    if args.keep_freed_memory:
        from dcmae_core.training.allocator import keep_freed_memory

        print(f"allocator tuned: {keep_freed_memory()}")
    files = sorted(Path(args.folder).glob("*.skeleton"))
    if not files:
        print(f"no .skeleton files in {args.folder}", file=sys.stderr)
        return 2
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    readers = {
        "dict-per-joint reader": read_skeleton_dicts,
        "lean line reader": read_skeleton_lines,
        "read_skeleton": read_skeleton,
    }

    for p in files:  # the same numbers from every reader
        refs = [read_skeleton_dicts(p), read_skeleton_lines(p)]
        for b in read_skeleton(p).bodies:
            ours = np.concatenate([b.xyz, b.depth_xy, b.color_xy, b.orientation], axis=-1)
            if not all(np.array_equal(ours, ref[b.body_id]) for ref in refs):
                print(f"MISMATCH in {p.name} body {b.body_id}", file=sys.stderr)
                return 1

    best = dict.fromkeys(readers, float("inf"))
    for _ in range(3):  # interleave the readers
        for name, reader in readers.items():
            best[name] = min(best[name], best_pass(reader, files, max(1, args.repeats // 3)))
    n = len(files)
    print(f"{n} files, {megabytes:.2f} MB in {args.folder}")
    for name, t in best.items():
        print(f"{name:22s} {n / t:8.1f} files/s {megabytes / t:7.2f} MB/s")
    fast = best["read_skeleton"]
    vs_dicts, vs_lines = best["dict-per-joint reader"] / fast, best["lean line reader"] / fast
    print(
        f"speed-up: {vs_dicts:.1f}x over the dict-per-joint reader (required >= 5x), "
        f"{vs_lines:.1f}x over the lean line reader"
    )
    return 0 if vs_dicts >= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
