"""CUDA correctness checks of the model and the inference API (run on a GPU machine; see bench/gpu_checks.sh).

Each check prints one line `CHECK name: ok|FAIL detail` and the script exits non-zero if any failed:
- the same weights, inputs and mask give the same pretraining loss and reconstruction on CUDA (fp32) as on the
  CPU (relative error well under 1e-3; TF32 matmuls are switched off for this comparison);
- bf16 autocast stays within bf16 accuracy of fp32 (relative error under 3e-2) and never gives NaN;
- a few bf16 training steps on one batch reduce the loss (optimiser, autocast and backward work on the card);
- a checkpoint written from CUDA tensors loads on the CPU; `Predictor` runs on CUDA and agrees with the CPU;
- train.compile_mode=blocks gives the eager loss on the card; the host syncs left in a pretraining step are listed.
"""

from __future__ import annotations

import copy
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from dcmae_core.checkpoint import load_checkpoint, write_untrained_checkpoint
from dcmae_core.config import build_config
from dcmae_core.inference import Predictor
from dcmae_core.model.factory import build_dcmae
from dcmae_core.training.engine import compile_for_training

FAILED: list[str] = []


def check(name: str, ok: bool, detail: str) -> None:
    print(f"CHECK {name}: {'ok' if ok else 'FAIL'} {detail}", flush=True)
    if not ok:
        FAILED.append(name)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double().cpu(), b.double().cpu()
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def main() -> int:
    dry = "--dry-run-cpu" in sys.argv  # exercises this script's code on a machine without a GPU
    if not torch.cuda.is_available() and not dry:
        print("no CUDA device: nothing to check")
        return 1
    dev = torch.device("cpu" if dry else "cuda")
    amp_dtype = torch.bfloat16
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__}, {'cpu (dry run)' if dry else torch.cuda.get_device_name(dev)}", flush=True)
    cfg = build_config("demo")
    torch.manual_seed(0)
    t, m, v = cfg.data.num_frames, 2, 25
    model = build_dcmae(cfg, v, m, num_frames=t)
    fresh = copy.deepcopy(model)
    x = torch.randn(4, m, t, v, 3)
    valid = torch.tensor([[True, True], [True, False], [True, True], [True, False]])
    removed = (torch.rand(4, m, t, v) < 0.3) & valid[:, :, None, None]

    # 1. fp32 CPU vs CUDA: same loss (same generator draws) and same one-step reconstruction.
    model.train()
    loss_cpu = model.forward_pretrain(x, valid, torch.Generator().manual_seed(1)).loss.detach()
    model.eval()
    with torch.no_grad():
        rec_cpu = model.reconstruct(x, removed, valid, "one_step", generator=torch.Generator().manual_seed(2))
    gpu = copy.deepcopy(fresh).to(dev)  # same weights and BatchNorm statistics as `model` had before its forward
    gpu.train()
    loss_gpu = gpu.forward_pretrain(x.to(dev), valid.to(dev), torch.Generator().manual_seed(1)).loss.detach()
    gpu.eval()
    with torch.no_grad():
        rec_gpu = gpu.reconstruct(
            x.to(dev), removed.to(dev), valid.to(dev), "one_step", generator=torch.Generator().manual_seed(2)
        )
    e_loss, e_rec = rel(loss_gpu, loss_cpu), rel(rec_gpu, rec_cpu)
    check("fp32 cuda == cpu", e_loss < 1e-3 and e_rec < 1e-3, f"loss rel err {e_loss:.2e}, reconstruction {e_rec:.2e}")

    # 2. bf16 autocast vs fp32 on the card.
    with torch.no_grad(), torch.autocast(dev.type, dtype=amp_dtype):
        rec_bf16 = gpu.reconstruct(
            x.to(dev), removed.to(dev), valid.to(dev), "one_step", generator=torch.Generator().manual_seed(2)
        )
    e_bf = rel(rec_bf16.float(), rec_gpu)
    check("bf16 autocast", e_bf < 3e-2 and bool(torch.isfinite(rec_bf16).all()), f"reconstruction rel err {e_bf:.2e}")

    # 3. bf16 training steps on one batch lower the loss.
    torch.backends.cuda.matmul.allow_tf32 = True
    gpu.train()
    opt = torch.optim.AdamW(gpu.parameters(), lr=2e-3)
    xb, vb = x.to(dev), valid.to(dev)
    losses = []
    for _ in range(60):
        with torch.autocast(dev.type, dtype=amp_dtype):
            loss = gpu.forward_pretrain(xb, vb, torch.Generator().manual_seed(3)).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    check(
        "bf16 training",
        losses[-1] < 0.5 * losses[0] and np.isfinite(losses).all(),
        f"loss {losses[0]:.4f} -> {losses[-1]:.4f} in 60 steps (same batch, same mask)",
    )

    # 4. A checkpoint saved on the card loads on the CPU; the Predictor agrees across devices.
    with tempfile.TemporaryDirectory() as tmp:
        path = write_untrained_checkpoint(Path(tmp) / "ckpt.pt", preset="demo")
        ckpt = load_checkpoint(path)
        check("checkpoint load", "dcmae" in ckpt, f"keys {sorted(ckpt)[:6]}")
        p_cpu = Predictor.from_checkpoint(path, device="cpu")
        p_gpu = Predictor.from_checkpoint(path, device=str(dev))
        sample = np.random.default_rng(0).normal(size=(2, 90, 25, 3)).astype(np.float32)
        mask = np.zeros(sample.shape[:3], dtype=bool)
        mask[:, :, [5, 6, 7]] = True
        r_cpu, r_gpu = p_cpu.reconstruct(sample, mask), p_gpu.reconstruct(sample, mask)
        e_pred = float(np.linalg.norm(r_gpu - r_cpu) / np.linalg.norm(r_cpu))
        c_cpu, c_gpu = p_cpu.classify(sample), p_gpu.classify(sample)
        same_top = int(np.argmax(c_cpu)) == int(np.argmax(c_gpu))
        check(
            "predictor cuda",
            e_pred < 3e-2 and same_top,
            f"device {p_gpu.device}, reconstruction rel err {e_pred:.2e}, same top-1 {same_top}",
        )
    # 5. train.compile_mode=blocks (issue 15) on the card: the eager model's loss, same weights and draws.
    torch.backends.cuda.matmul.allow_tf32 = False
    comp = compile_for_training(copy.deepcopy(fresh).to(dev), "blocks")
    comp.train()
    loss_comp = comp.forward_pretrain(x.to(dev), valid.to(dev), torch.Generator().manual_seed(1)).loss.detach()
    e_comp = rel(loss_comp, loss_gpu)
    check("compile blocks", e_comp < 1e-3, f"loss rel err {e_comp:.2e} against eager")

    # 6. Host syncs left in one eager pretraining step (forward + backward), with where they come from.
    if dev.type == "cuda":
        gpu.train()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                gpu.forward_pretrain(xb, vb, torch.Generator(device=dev).manual_seed(4)).loss.backward()
            finally:
                torch.cuda.set_sync_debug_mode("default")
        syncs = [f"{Path(w.filename).name}:{w.lineno}" for w in caught if "synchroniz" in str(w.message)]
        print(f"INFO syncs in a pretraining step: {len(syncs)} at {sorted(set(syncs))}", flush=True)
    print(f"{len(FAILED)} failed: {FAILED}" if FAILED else "all CUDA checks passed", flush=True)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
