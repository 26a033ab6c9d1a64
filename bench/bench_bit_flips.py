"""Single-bit flips of a checkpoint re-saved with its checksum: how many are refused, how many load unchanged,
how many load changed (must be 0); and what the checksum costs on load.

    python bench/bench_bit_flips.py dcmae_core/resources/checkpoints/dcmae_demo.pt --flips 200
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dcmae_core.checkpoint import CheckpointError, content_checksum, load_checkpoint, save_checkpoint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--flips", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = {k: v for k, v in load_checkpoint(args.checkpoint).items() if k not in ("path", "format", "version")}
        path = save_checkpoint(Path(tmp) / "c.pt", data)  # a copy that carries the checksum
        ref = load_checkpoint(path)
        t0 = time.perf_counter()
        content_checksum(ref)
        hash_s = time.perf_counter() - t0
        raw = bytearray(path.read_bytes())
        rng = np.random.default_rng(args.seed)
        refused = same = changed = 0
        for pos in rng.integers(0, len(raw), args.flips):
            bad = bytearray(raw)
            bad[pos] ^= 1 << int(rng.integers(0, 8))
            flipped = Path(tmp) / "f.pt"
            flipped.write_bytes(bytes(bad))
            try:
                got = load_checkpoint(flipped)
            except CheckpointError:
                refused += 1
                continue
            equal = all(
                torch.equal(got[p][k], v) for p in ("dcmae", "classifier") if ref.get(p) for k, v in ref[p].items()
            )
            same, changed = same + equal, changed + (not equal)
    print(
        f"{args.checkpoint}: {len(raw) / 1e6:.1f} MB, checksum {hash_s * 1e3:.0f} ms; {args.flips} flips: "
        f"{refused} refused, {same} loaded unchanged, {changed} loaded changed"
    )


if __name__ == "__main__":
    main()
