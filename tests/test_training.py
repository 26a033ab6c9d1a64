"""Pretrain -> finetune -> evaluate on the tiny preset, resume after a real kill, a 2-process gloo run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from free_port import free_port

from dcmae_core.checkpoint import load_checkpoint
from dcmae_core.config import build_config
from dcmae_core.evaluation.missing_joints import evaluate_checkpoint
from dcmae_core.training.stages import run_finetune, run_pretrain

ROOT = Path(__file__).resolve().parent.parent


def _events(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]


@pytest.fixture(scope="module")
def pretrained(tiny_cache, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("pre")
    cfg = build_config("tiny", [f"data.root={tiny_cache}", "train.pretrain_epochs=2"])
    res = run_pretrain(cfg, run)
    assert res["finished"]
    return run


@pytest.mark.slow
def test_pretrain_writes_a_self_describing_run(pretrained):
    for name in ("config.json", "metrics.jsonl", "command.txt", "last.pt", "best.pt"):
        assert (pretrained / name).exists(), name
    assert list((pretrained / "tb").glob("events.out.tfevents.*")), "no TensorBoard event file"
    ev = _events(pretrained)
    assert ev[0]["event"] == "start" and ev[-1]["event"] == "end"
    losses = [e["loss"] for e in ev if e["event"] == "step"]
    assert losses and all(map(lambda x: x == x, losses))
    ckpt = load_checkpoint(pretrained / "last.pt")
    assert ckpt["kind"] == "pretrain" and ckpt["layout"]["name"] == "ntu25"
    assert len(ckpt["stats"]["mean"]) == 3 and ckpt["class_names"]


@pytest.mark.slow
def test_finetune_few_labels_and_evaluate_missing_joints(pretrained, tiny_cache, tmp_path):
    cfg = build_config("tiny", [f"data.root={tiny_cache}", "train.finetune_epochs=2", "data.label_ratio=0.5"])
    res = run_finetune(cfg, tmp_path, pretrained=str(pretrained / "last.pt"))
    assert res["finished"]
    saved = json.loads((tmp_path / "label_indices.json").read_text())
    again = json.loads((tmp_path / "label_indices.json").read_text())
    assert saved == again and 0 < len(saved["indices"])
    ev = [e for e in _events(tmp_path) if e["event"] == "epoch"]
    assert len(ev) == 2 and all(0.0 <= e["top1"] <= 1.0 for e in ev)
    out = evaluate_checkpoint(tmp_path / "best.pt", occlusion=[0.1])
    full, occ = out["full"], out["occlusion_0.1"]
    assert full["count"] > 0 and len(full["confusion"]) == len(full["per_class"])
    assert set(occ) == {"encoder_only", "rec", "interpolation"}
    assert sum(map(sum, occ["rec"]["confusion"])) == full["count"] == sum(map(sum, occ["interpolation"]["confusion"]))


def _last_weights(run: Path) -> dict[str, torch.Tensor]:
    ckpt = load_checkpoint(run / "last.pt")
    train = {f"train_weights.{k}": v for k, v in ckpt.get("train_weights", {}).items()}
    return {**ckpt["dcmae"], **train}


@pytest.mark.slow
@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_resume_after_kill_gives_the_same_weights(tiny_cache, tmp_path, ema):
    """Also with train.ema: the averaged weights and the trained ones both continue exactly."""
    args = [
        "--preset",
        "tiny",
        "--data",
        str(tiny_cache),
        "--set",
        "train.pretrain_epochs=3",
        "--set",
        "train.checkpoint_every=2",
        "--set",
        "train.batch_size=2",
        "--set",
        f"train.ema={ema}",
    ]
    cmd = [sys.executable, "-m", "dcmae_core.train", "pretrain", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [*cmd, "--out", str(tmp_path / "whole")], check=True, env=env, cwd=ROOT, capture_output=True, timeout=300
    )
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [*cmd, "--out", str(killed)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while not (killed / "last.pt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not any(e["event"] == "end" for e in _events(killed)), "the run finished before it was killed"
    step = load_checkpoint(killed / "last.pt")["train_state"]
    assert step["epoch_step"] > 0, "the kill should land mid-epoch"
    subprocess.run(
        [*cmd, "--out", str(killed), "--resume"], check=True, env=env, cwd=ROOT, capture_output=True, timeout=300
    )
    a, b = _last_weights(tmp_path / "whole"), _last_weights(killed)
    assert a.keys() == b.keys() and any(k.startswith("train_weights.") for k in a) == (ema > 0)
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after resume"


@pytest.mark.slow
def test_two_process_gloo_run(tiny_cache, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        f"--master_port={free_port()}",
        "-m",
        "dcmae_core.train",
        "pretrain",
        "--preset",
        "tiny",
        "--data",
        str(tiny_cache),
        "--out",
        str(tmp_path),
        "--set",
        "train.pretrain_epochs=1",
        "--set",
        "train.device=cpu",
    ]
    res = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    ev = _events(tmp_path)
    start = ev[0]
    single = build_config("tiny").train.batch_size
    assert start["event"] == "start" and ev[-1]["event"] == "end"
    # Each of the 2 ranks sees half the training samples: half the steps of a single-process epoch.
    assert start["steps_per_epoch"] == start["train_samples"] // (2 * single)
    assert load_checkpoint(tmp_path / "last.pt")["dcmae"]


@pytest.mark.slow
def test_resume_from_a_save_at_the_epochs_last_step_finishes(tiny_cache, tmp_path):
    """A kill right after an in-loop save at an epoch's last step (before the end-of-epoch save) left a
    checkpoint that every --resume ran zero batches from and then failed on (KeyError: 'loss')."""
    from dcmae_core.checkpoint import save_checkpoint
    from dcmae_core.config import build_config
    from dcmae_core.training.stages import run_pretrain

    cfg = build_config("tiny", [f"data.root={tiny_cache}", "train.pretrain_epochs=1", "train.batch_size=4"])
    done = run_pretrain(cfg, tmp_path / "whole")
    ckpt = load_checkpoint(tmp_path / "whole" / "last.pt")
    steps = ckpt["train_state"]["step"]
    stuck = tmp_path / "stuck"
    stuck.mkdir()
    ckpt["train_state"].update(epoch=0, epoch_step=steps, history=[])  # all batches done, epoch not closed
    save_checkpoint(stuck / "last.pt", {k: v for k, v in ckpt.items() if k not in ("path", "format", "version")})
    out = run_pretrain(cfg, stuck, resume=True)
    assert out["finished"] and out["state"]["epoch"] == 1 and out["state"]["step"] == steps
    assert (stuck / "best.pt").exists() and done["finished"]
    last = load_checkpoint(stuck / "last.pt")
    for k, v in ckpt["dcmae"].items():  # no batch was run twice
        assert torch.equal(last["dcmae"][k], v)


@pytest.mark.slow
def test_finetune_goes_on_from_a_finetuned_checkpoint(pretrained, tiny_cache, tmp_path):
    """--pretrained with a finetuned checkpoint starts from its classifier: the encoder always, the head when
    the classes match; a fresh start (a pretraining checkpoint) does not."""
    from dcmae_core.model.factory import build_classifier, build_dcmae
    from dcmae_core.training.stages import _start_from_finetuned

    cfg = build_config("tiny", [f"data.root={tiny_cache}", "train.finetune_epochs=1"])
    first = tmp_path / "first"
    assert run_finetune(cfg, first, pretrained=str(pretrained / "last.pt"))["finished"]
    done = load_checkpoint(first / "last.pt")
    second = tmp_path / "second"
    assert run_finetune(cfg, second, pretrained=str(first / "last.pt"))["finished"]
    # the start of the second run equals the end of the first: check through the helper on fresh classifiers
    names = list(done["class_names"])
    tiny = build_config("tiny")
    fresh = build_classifier(tiny, build_dcmae(tiny, num_joints=25).encoder, len(names))
    _start_from_finetuned(fresh, done, names, "first")
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, done["classifier"][k]), k
    other = build_classifier(tiny, build_dcmae(tiny, num_joints=25).encoder, len(names) + 1)
    head_before = other.head.weight.clone()
    _start_from_finetuned(other, done, names + ["new action"], "first")
    assert torch.equal(other.head.weight, head_before)  # new classes: fresh head
    assert torch.equal(other.encoder.stem.weight, done["classifier"]["encoder.stem.weight"])
    # and the second run really started there: its first-epoch loss is far below a fresh finetune's
    loss_of = lambda run: [e["loss"] for e in _events(run) if e["event"] == "step"][0]  # noqa: E731
    assert loss_of(second) < loss_of(first), (loss_of(second), loss_of(first))
