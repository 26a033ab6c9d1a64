"""Model cost and speed: parameters, GMAC (torch.utils.flop_counter), measured throughput and latency.

Convention: 1 multiply-accumulate (MAC) = 2 FLOPs, and GMAC = FlopCounterMode's FLOPs / 2 / 1e9 (the paper's
"GFLOPs" are MACs, SPEC §3). FlopCounterMode counts matmuls, convolutions and attention, not elementwise work.
Speeds are read against the same run's fp32 matmul rate (a big torch.mm), so they are a share of what this
machine's matmul kernels reach: achieved GMAC/s ÷ matmul GMAC/s.

Operator counts (issue 15) come from torch.profiler on one pretraining step, forward and backward:
- `kernels`: aten calls that do work: a call whose name is not in METADATA_OPS (views and other calls that
  only make a tensor header) and that calls no other working aten op (so `linear` -> `addmm` counts once, as
  `addmm`). This is what a step launches.
- `top_level`: aten calls made by Python or by an autograd node directly (composites such as `linear` count
  once here), the dispatcher round trips a step pays for.
- `autograd_nodes`: backward functions the autograd engine ran.
- `compiled_kernels`: kernels that torch.compile generated (inductor's fused C++ loops, Triton kernels), which
  run in place of many aten calls; they are seen only when the model was compiled after
  `record_compiled_kernels()`. `total_kernels` = `kernels` + `compiled_kernels`, the figure to compare
  between an eager and a compiled step.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from dcmae_core.config import Config
from dcmae_core.model.factory import build_classifier, build_dcmae

log = logging.getLogger(__name__)


def count_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_gmac(fn: Callable[[], Any]) -> float:
    """GMAC (FLOPs / 2 / 1e9) of everything `fn` runs, backward included if it calls backward."""
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops() / 2e9


# Aten calls that launch no kernel: they only build a tensor header (a view of the same storage, a fresh
# uninitialised buffer) or are no-ops on this input. Leaf calls of these names are left out of `kernels`.
METADATA_OPS = frozenset(
    {
        "alias",
        "as_strided",
        "chunk",
        "contiguous",
        "detach",
        "detach_",
        "diagonal",
        "empty",
        "empty_like",
        "empty_strided",
        "expand",
        "expand_as",
        "flatten",
        "lift_fresh",
        "narrow",
        "new_empty",
        "new_empty_strided",
        "permute",
        "_reshape_alias",
        "reshape",
        "resolve_conj",
        "resolve_neg",
        "select",
        "slice",
        "split",
        "split_with_sizes",
        "squeeze",
        "t",
        "to",
        "transpose",
        "unbind",
        "unflatten",
        "unsqueeze",
        "_unsafe_view",
        "view",
        "view_as",
    }
)


def record_compiled_kernels() -> None:
    """Make the kernels that inductor generates from now on visible to the CPU profiler (each is wrapped in a
    profiler record, a no-op when no profiler runs); call it before the model is compiled."""
    import torch._inductor.config as inductor_config

    inductor_config.cpp.enable_kernel_profile = True


def _is_compiled_kernel(name: str) -> bool:
    """An inductor-generated kernel's profiler record: `graph_<n>_cpp_fused_...` (CPU) or `triton_...`."""
    return "cpp_fused" in name or name.startswith("triton_")


def count_ops(fn: Callable[[], Any]) -> dict[str, Any]:
    """Aten operator counts of one call of `fn` on the CPU profiler (see the module docstring).

    -> {"kernels", "compiled_kernels", "total_kernels", "top_level", "autograd_nodes", "all_aten",
    "top_kernels": [[name, count], ...] (ten most frequent aten kernels)}."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    kernels: collections.Counter[str] = collections.Counter()
    top = nodes = every = compiled = 0
    works: dict[int, bool] = {}

    def does_work(e) -> bool:  # e or something inside it is a kernel
        if e.id not in works:
            inner = [does_work(c) for c in e.cpu_children if c.name.startswith("aten::")]
            works[e.id] = any(inner) or e.name[len("aten::") :] not in METADATA_OPS
        return works[e.id]

    for e in prof.events():
        if e.name.startswith("autograd::engine::evaluate_function"):
            nodes += 1
        if not e.name.startswith("aten::"):
            compiled += _is_compiled_kernel(e.name)
            continue
        every += 1
        parent = e.cpu_parent
        if parent is None or not parent.name.startswith("aten::"):
            top += 1
        name = e.name[len("aten::") :]
        if name not in METADATA_OPS and not any(does_work(c) for c in e.cpu_children if c.name.startswith("aten::")):
            kernels[name] += 1
    return {
        "kernels": sum(kernels.values()),
        "compiled_kernels": compiled,
        "total_kernels": sum(kernels.values()) + compiled,
        "top_level": top,
        "autograd_nodes": nodes,
        "all_aten": every,
        "top_kernels": [[k, n] for k, n in kernels.most_common(10)],
    }


def step_split(
    model: torch.nn.Module, step: Callable[[], torch.Tensor], device: torch.device, repeats: int = 3
) -> dict[str, float]:
    """Median milliseconds of one pretraining step's parts: encoder and decoder forward (module hooks), the
    rest of the forward (masks, noise, loss), backward. `step` runs the forward and returns the loss; the
    gradients are dropped after each call."""
    marks: dict[str, float] = {}

    def mark(name: str):
        def hook(*_args) -> None:
            _sync(device)
            marks[name] = time.perf_counter()

        return hook

    handles = []
    for name in ("encoder", "decoder"):
        mod = getattr(model, name)
        handles += [
            mod.register_forward_pre_hook(mark(name + "_start")),
            mod.register_forward_hook(mark(name + "_end")),
        ]
    rows: list[dict[str, float]] = []
    try:
        for _ in range(repeats + 1):  # the first call warms up
            _sync(device)
            start = time.perf_counter()
            loss = step()
            _sync(device)
            mid = time.perf_counter()
            loss.backward()
            _sync(device)
            end = time.perf_counter()
            model.zero_grad(set_to_none=True)
            enc = marks["encoder_end"] - marks["encoder_start"]
            dec = marks["decoder_end"] - marks["decoder_start"]
            rows.append(
                {
                    "encoder_forward_ms": enc * 1e3,
                    "decoder_forward_ms": dec * 1e3,
                    "other_forward_ms": (mid - start - enc - dec) * 1e3,
                    "backward_ms": (end - mid) * 1e3,
                }
            )
    finally:
        for h in handles:
            h.remove()
    return {k: statistics.median(r[k] for r in rows[1:]) for k in rows[0]}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], Any], device: torch.device, repeats: int, warmup: int = 1) -> float:
    """Median seconds of `repeats` calls of fn after `warmup` calls."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_gmacs(
    device: torch.device, dtype: torch.dtype = torch.float32, size: int | None = None, repeats: int = 5
) -> float:
    """Best-of-`repeats` GMAC/s of a size x size torch.mm (size^3 MACs)."""
    size = size or (8192 if device.type == "cuda" else 2048)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    torch.mm(a, b)
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return size**3 / best / 1e9


def _peak_memory_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB -> MiB (process peak RSS)


def profile_model(
    cfg: Config,
    num_joints: int = 25,
    in_channels: int = 3,
    num_persons: int = 2,
    num_classes: int = 60,
    device: str = "auto",
    batch: int = 8,
    repeats: int = 2,
    compile: str = "off",
    speed: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Parameters, GMAC per sample and (if `speed`) measured speed of the model that `cfg` describes.

    Pretraining: forward_pretrain + backward on `batch` samples with `num_persons` present persons.
    Inference: the classifier (encoder on all num_frames frames) on one sample. App case: one_step
    reconstruction + classification of one clip with 2 and with 1 present persons (eval mode).
    """
    # imported here so that bench/bench_step_ops.py can load this file's counters over a tree without training/
    from dcmae_core.training.devices import resolve_device

    dev = resolve_device(device)
    if dev.type == "cpu" and speed:
        from dcmae_core.training.allocator import keep_freed_memory

        keep_freed_memory()  # as the training commands run (allocator.keep_freed_memory)
    torch.manual_seed(seed)
    t_len, m, v, c = cfg.data.num_frames, num_persons, num_joints, in_channels
    model = build_dcmae(cfg, v, m, c, parents=tuple(range(-1, v - 1))).to(dev)  # a chain: sizes as any tree
    clf = build_classifier(cfg, model.encoder, num_classes).to(dev)
    n_enc, n_dec, n_head = count_params(model.encoder), count_params(model.decoder), count_params(clf.head)
    out: dict[str, Any] = {
        "preset_frames": t_len,
        "num_joints": v,
        "num_persons": m,
        "device": str(dev),
        "convention": "GMAC = multiply-accumulates = FLOPs/2 (torch.utils.flop_counter)",
        "params": {
            "encoder": n_enc,
            "decoder": n_dec,
            "head": n_head,
            "total": n_enc + n_dec,
            "classifier": n_enc + n_head,
        },
    }
    gen = torch.Generator().manual_seed(seed)

    def batch_of(n: int, persons: int = m) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, m, t_len, v, c, generator=gen).to(dev)
        valid = torch.zeros(n, m, dtype=torch.bool, device=dev)
        valid[:, :persons] = True
        return x, valid

    use_amp = dev.type == "cuda" and torch.cuda.is_bf16_supported()
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else contextlib.nullcontext
    x1, v1 = batch_of(1)
    model.train()
    with torch.no_grad():
        out["gmac"] = {"pretrain_per_sample": count_gmac(lambda: model.forward_pretrain(x1, v1, gen))}
    clf.eval()
    with torch.no_grad():
        out["gmac"]["inference_per_sample"] = count_gmac(lambda: clf(x1, v1))
    out["gmac"]["pretrain_step_per_sample"] = count_gmac(  # forward + backward
        lambda: model.forward_pretrain(x1, v1, gen).loss.backward()
    )
    model.zero_grad(set_to_none=True)
    if dev.type == "cpu":  # the profiler's CPU events; on CUDA they would count launches differently
        # Counted at batch 1: the operators of a step do not depend on the batch size, only their sizes do.
        out["ops"] = {
            "pretrain_step": count_ops(lambda: model.forward_pretrain(x1, v1, gen).loss.backward()),
            "batch": 1,
            "metadata_ops": sorted(METADATA_OPS),
        }
        model.zero_grad(set_to_none=True)
    if not speed:
        return out

    run_model, run_clf = model, clf
    compile_s = 0.0
    if compile != "off":  # as training compiles (train.compile_mode); the classifier shares the encoder
        from dcmae_core.training.engine import compile_for_training

        if dev.type == "cpu":
            record_compiled_kernels()
        compile_for_training(model, compile)
    out["machine"] = {
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_avg_1min_before": os.getloadavg()[0],
        "amp": "bf16" if use_amp else "off",
        "compile": compile,
        "matmul_fp32_gmacs_before": matmul_gmacs(dev),
    }
    xb, vb = batch_of(batch)

    def train_step() -> None:
        with amp():
            loss = run_model.forward_pretrain(xb, vb, gen).loss
        loss.backward()
        run_model.zero_grad(set_to_none=True)

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    if compile != "off":  # the compile happens in the first steps: timed apart from the steady state
        start = time.perf_counter()
        train_step()
        train_step()
        _sync(dev)
        compile_s = time.perf_counter() - start
        if dev.type == "cpu":  # the compiled step's operators, counted at the timed batch (no recompile)
            out["ops"]["pretrain_step_compiled"] = count_ops(train_step)
            out["ops"]["compile"] = compile
    sec = time_call(train_step, dev, repeats)
    pre_mem = _peak_memory_mib(dev)
    step_gmac = out["gmac"]["pretrain_step_per_sample"] * batch
    pre = {
        "batch": batch,
        "seconds_per_step": sec,
        "samples_per_s": batch / sec,
        "gmacs": step_gmac / sec,
        "peak_memory_mib": pre_mem,
        "first_two_steps_s": compile_s,
    }

    def forward_loss() -> torch.Tensor:
        with amp():
            return run_model.forward_pretrain(xb, vb, gen).loss

    pre["split_ms"] = step_split(run_model, forward_loss, dev, repeats)

    run_model.eval()
    run_clf.eval()

    def infer() -> None:
        with torch.no_grad(), amp():
            run_clf(x1, v1)

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    lat = time_call(infer, dev, max(repeats, 5))
    inf = {
        "batch": 1,
        "latency_ms": lat * 1e3,
        "gmacs": out["gmac"]["inference_per_sample"] / lat,
        "peak_memory_mib": _peak_memory_mib(dev),
    }

    def app_case(persons: int) -> float:
        x, valid = batch_of(1, persons)
        removed = torch.rand(1, m, t_len, v, generator=gen).to(dev) < cfg.mask.occlusion
        removed &= valid[:, :, None, None]

        def run() -> None:
            with torch.no_grad(), amp():
                y = run_model.reconstruct(x, removed, valid, "one_step", generator=gen)
                run_clf(y, valid)

        return time_call(run, dev, max(repeats, 5)) * 1e3

    app = {"reconstruct_classify_ms_2_persons": app_case(min(2, m)), "reconstruct_classify_ms_1_person": app_case(1)}
    mm_after = matmul_gmacs(dev)
    mm = max(out["machine"]["matmul_fp32_gmacs_before"], mm_after)
    out["machine"].update(matmul_fp32_gmacs_after=mm_after, load_avg_1min_after=os.getloadavg()[0])
    if use_amp:
        out["machine"]["matmul_bf16_gmacs"] = matmul_gmacs(dev, torch.bfloat16)
    pre["share_of_matmul"] = pre["gmacs"] / mm
    inf["share_of_matmul"] = inf["gmacs"] / mm
    out.update(pretrain=pre, inference=inf, app_case=app)
    model.train()
    return out
