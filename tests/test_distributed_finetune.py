"""Finetuning under DistributedDataParallel (gloo, CPU): two processes train as one on the same global batch.

The pretraining 2-process run is in test_training.py. Finetuning failed there at its second step ("Expected to
have finished reduction ...") while the classifier carried the encoder's mask embedding, which never gets a
gradient; the classifier no longer owns it (model/factory.build_classifier).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from free_port import free_port
from torch.nn.parallel import DistributedDataParallel as DDP

from dcmae_core.checkpoint import load_checkpoint
from dcmae_core.config import build_config
from dcmae_core.model.factory import build_classifier, build_dcmae
from dcmae_core.training.engine import classification_loss

ROOT = Path(__file__).resolve().parent.parent
STEPS, HALF = 3, 2  # optimiser steps; samples per process (the global batch is 2 * HALF)


def _setup() -> tuple[torch.nn.Module, list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]]:
    """The tiny classifier (same weights in every process) and STEPS global batches (x, person_valid, label)."""
    cfg = build_config("tiny")
    torch.manual_seed(0)
    clf = build_classifier(cfg, build_dcmae(cfg, 25).encoder, 6)
    g = torch.Generator().manual_seed(1)
    batches = [
        (
            torch.randn(2 * HALF, 2, cfg.data.num_frames, 25, 3, generator=g),
            torch.tensor([[True, True], [True, False]] * HALF),
            torch.randint(0, 6, (2 * HALF,), generator=g),
        )
        for _ in range(STEPS)
    ]
    return clf, batches


def _rank_main(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    clf, batches = _setup()
    net = DDP(clf)
    opt = torch.optim.SGD(clf.parameters(), lr=0.1, momentum=0.9)
    part = slice(rank * HALF, (rank + 1) * HALF)  # this process's half of every global batch
    for x, valid, label in batches:
        opt.zero_grad()
        classification_loss(net(x[part], valid[part]), label[part])[0].backward()
        opt.step()
    if rank == 0:
        torch.save({k: p.detach() for k, p in clf.named_parameters()}, out)
    # Both ranks leave together: rank 1 tearing gloo down while rank 0 still saved aborted it once in a full
    # suite run ('terminate called without an active exception', SIGABRT; not reproduced in 16 runs alone).
    dist.barrier()
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_train_the_classifier_as_one_on_the_same_global_batch(tmp_path):
    out = tmp_path / "ddp.pt"
    mp.spawn(_rank_main, args=(free_port(), str(out)), nprocs=2, join=True)
    ddp = torch.load(out, weights_only=True)
    clf, batches = _setup()
    opt = torch.optim.SGD(clf.parameters(), lr=0.1, momentum=0.9)
    for x, valid, label in batches:
        opt.zero_grad()
        # BatchNorm normalises each process's samples by their own statistics (no SyncBatchNorm on CPU), so one
        # process forwards the two halves separately: the global batch's mean loss is the mean of the halves'.
        halves = [
            classification_loss(clf(x[s], valid[s]), label[s])[0] for s in (slice(0, HALF), slice(HALF, 2 * HALF))
        ]
        (sum(halves) / 2).backward()
        opt.step()
    assert "encoder.mask_embed" not in ddp
    for k, p in clf.named_parameters():
        assert torch.allclose(ddp[k], p.detach(), atol=1e-5), k
    assert not torch.allclose(ddp["head.weight"], _setup()[0].head.weight)  # it did train


def _torchrun(stage: str, args: list[str], out: Path, port: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        f"--master_port={port}",
        "-m",
        "dcmae_core.train",
        stage,
        "--preset",
        "tiny",
        "--out",
        str(out),
        "--set",
        "train.device=cpu",
        *args,
    ]
    res = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    events = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if x.strip()]
    assert events[-1]["event"] == "end"


@pytest.mark.slow
@pytest.mark.parametrize("joint_ratio", ["0", "0.4"])
def test_torchrun_pretrain_then_finetune(tiny_cache, tmp_path, joint_ratio):
    """The documented workflow under torchrun, also with pretraining masking whole frames only."""
    data = ["--data", str(tiny_cache)]
    _torchrun(
        "pretrain",
        [*data, "--set", "train.pretrain_epochs=1", "--set", f"mask.joint_ratio={joint_ratio}"],
        tmp_path / "pre",
        free_port(),
    )
    pre = str(tmp_path / "pre" / "last.pt")
    _torchrun(
        "finetune", [*data, "--set", "train.finetune_epochs=2", "--pretrained", pre], tmp_path / "fine", free_port()
    )
    ckpt = load_checkpoint(tmp_path / "fine" / "last.pt")
    assert "encoder.mask_embed" not in ckpt["classifier"] and ckpt["train_state"]["epoch"] == 2
