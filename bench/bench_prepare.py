"""Benchmark `prepare`: time and peak memory for N generated NTU files (default 5,000).

Files are made by jittering the real samples in ../shared/data/ntu_samples with `ntu.write_skeleton`
into a temporary folder; `python -m dcmae_core.train prepare` then runs as a subprocess whose whole
process tree (main + workers) is sampled for resident memory. Everything is deleted at the end.

    .venv/bin/python bench/bench_prepare.py [--files 5000] [--workers 2]
"""

from __future__ import annotations

import argparse
import copy
import itertools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "data" / "ntu_samples"
sys.path.insert(0, str(ROOT))

from dcmae_core.data.ntu import read_skeleton, write_skeleton  # noqa: E402


def generate(folder: Path, count: int, seed: int = 0) -> int:
    """Write `count` jittered copies of the real samples with distinct NTU-60 names; returns bytes written."""
    rng = np.random.default_rng(seed)
    sources = [read_skeleton(p) for p in sorted(SAMPLES.glob("*.skeleton"))]
    names = itertools.product(range(1, 18), range(1, 4), range(1, 41), range(1, 3), range(1, 61))
    order = rng.permutation(17 * 3 * 40 * 2 * 60)[:count]
    all_names = list(names)
    total = 0
    for k, pick in enumerate(order):
        s, c, p, r, a = all_names[pick]
        skel = copy.deepcopy(sources[k % len(sources)])
        for body in skel.bodies:
            body.xyz = body.xyz + rng.normal(0.0, 0.005, body.xyz.shape)  # 5 mm jitter
        path = folder / f"S{s:03d}C{c:03d}P{p:03d}R{r:03d}A{a:03d}.skeleton"
        write_skeleton(path, skel)
        total += path.stat().st_size
    return total


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_prepare_"))
    try:
        raw, out = tmp / "raw", tmp / "cache"
        raw.mkdir()
        t0 = time.perf_counter()
        size = generate(raw, args.files)
        t_gen = time.perf_counter() - t0
        print(f"generated {args.files} files ({size / 1e6:.0f} MB) in {t_gen:.1f} s", flush=True)
        cmd = [sys.executable, "-m", "dcmae_core.train", "prepare", "--ntu-dir", str(raw), "--out", str(out),
               "--workers", str(args.workers)]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.DEVNULL)
        peak_tree = 0
        while proc.poll() is None:
            peak_tree = max(peak_tree, tree_rss(proc.pid))
            time.sleep(0.1)
        elapsed = time.perf_counter() - t0
        if proc.returncode:
            print(f"prepare failed with exit code {proc.returncode}")
            return 1
        peak_one = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # largest single process
        cache_mb = sum(f.stat().st_size for f in out.iterdir()) / 1e6
        print(f"prepare: {args.files} files, {args.workers} workers: {elapsed:.1f} s "
              f"({args.files / elapsed:.0f} files/s)")  # fmt: skip
        print(f"peak RSS: whole process tree {peak_tree / 2**20:.0f} MiB (sampled every 0.1 s), "
              f"largest single process {peak_one / 2**20:.0f} MiB")  # fmt: skip
        print(f"cache size: {cache_mb:.0f} MB")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
