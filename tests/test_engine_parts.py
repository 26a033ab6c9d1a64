"""Engine pieces that need no model: the epoch sampler, the learning-rate schedule, mask specs, the allocator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dcmae_core.config import build_config
from dcmae_core.layout import NTU25
from dcmae_core.mask_spec import MaskSpecError, parse_mask_spec
from dcmae_core.training.engine import EpochSampler
from dcmae_core.training.optimizer import lr_at


def test_sampler_is_a_function_of_seed_and_epoch_and_skips_a_prefix():
    s = EpochSampler(50, seed=3, batch_size=4)
    s.set_epoch(2)
    full = list(s)
    assert len(full) == 48 and len(set(full)) == 48
    s.set_epoch(2, skip_batches=5)
    assert list(s) == full[20:]
    s.set_epoch(3)
    assert list(s) != full


def test_sampler_shards_ranks_disjointly():
    shards = []
    for rank in range(2):
        s = EpochSampler(40, seed=1, rank=rank, world_size=2, batch_size=4)
        s.set_epoch(0)
        shards.append(set(s))
    assert not shards[0] & shards[1] and len(shards[0]) == len(shards[1]) == 20


def test_lr_schedule_warmup_then_cosine():
    cfg = build_config("tiny", ["optim.warmup_epochs=1", "optim.min_lr=0.0"])
    lrs = [lr_at(s, 100, 1.0, cfg.optim, steps_per_epoch=10) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[-1] < 0.01


def test_mask_specs():
    present = np.ones((2, 30), dtype=bool)
    present[1] = False  # one person
    m = parse_mask_spec("part:left arm;frames:5-9", present, NTU25)
    assert m.shape == (2, 30, 25)
    assert m[0, 5:10][:, list(NTU25.groups["left arm"])].all() and m.sum() == 5 * 6
    assert not m[1].any()
    occ = parse_mask_spec("occlusion:0.1", present, NTU25, seed=4)
    assert occ.sum() == round(0.1 * 30 * 25)
    assert np.array_equal(occ, parse_mask_spec("occlusion:0.1", present, NTU25, seed=4))
    assert parse_mask_spec("joints:1,2", present, NTU25)[0, :, :2].all()
    with pytest.raises(MaskSpecError, match="unknown mask item"):
        parse_mask_spec("elbows:3", present, NTU25)
    with pytest.raises(MaskSpecError, match="unknown body part"):
        parse_mask_spec("part:tail", present, NTU25)


_RETAINED = """
import os, sys
import numpy as np
if sys.argv[1] == "tuned":
    from dcmae_core.training.allocator import keep_freed_memory
    assert keep_freed_memory() and keep_freed_memory()  # idempotent
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
a = np.ones(64 * 2**20 // 8)  # a 64 MiB block of activations, touched
held = rss()
del a
print(held - rss())  # bytes given back to the system when it is freed
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc allocator tuning")
@pytest.mark.slow
def test_keep_freed_memory_keeps_blocks_for_the_next_step():
    """Training frees and re-allocates gigabytes per step; tuned, a freed block stays with the process for the
    next step instead of being unmapped and faulted in again (the CPU pretraining speed-up in docs/benchmarks.md)."""
    returned = {}
    for mode in ("default", "tuned"):
        out = subprocess.run(
            [sys.executable, "-c", _RETAINED, mode],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        returned[mode] = int(out.stdout.strip())
    assert returned["default"] > 48 * 2**20, returned  # glibc unmaps a block this large at once
    assert returned["tuned"] < 8 * 2**20, returned
