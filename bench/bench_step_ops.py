"""Pretraining step, old code vs new, in one run: operators per step (CPU profiler) and samples/s.

    python bench/bench_step_ops.py --old-tree /tmp/old --presets tiny demo paper --batch 32 --rounds 3

`--old-tree` is a folder holding another version's `dcmae_core/` (e.g. `git archive BASE dcmae_core | tar -x -C
/tmp/old`). Each measurement runs in a fresh child process with that tree (or this checkout) first on
PYTHONPATH, and old and new children alternate round by round, so both see the same machine load. Operator
counts use `count_ops` of this checkout's dcmae_core/evaluation/profiling.py for both versions (one
definition); `--compile blocks|full` adds a third variant, this checkout with that train.compile_mode (its first
steps, the compile, are timed separately; its operator count includes the kernels inductor generated). Prints
one JSON object per measurement and a summary table (medians over rounds).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _new_profiling():
    """This checkout's profiling module, loaded by path so that an old tree on sys.path uses the same counter."""
    spec = importlib.util.spec_from_file_location("new_profiling", HERE / "dcmae_core" / "evaluation" / "profiling.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def child(args: argparse.Namespace) -> None:
    import torch

    from dcmae_core.config import build_config
    from dcmae_core.model.factory import build_dcmae

    try:  # the tree under test: runs.py before the split of issue 14, allocator.py after, training/ since
        from dcmae_core.training.allocator import keep_freed_memory
    except ImportError:
        try:
            from dcmae_core.allocator import keep_freed_memory
        except ImportError:
            from dcmae_core.runs import keep_freed_memory

    keep_freed_memory()  # as the training commands and `profile` run on the CPU
    prof = _new_profiling()
    cfg = build_config(args.preset)
    v, m, c = 25, 2, 3
    torch.manual_seed(0)
    model = build_dcmae(cfg, v, m, c, parents=tuple(range(-1, v - 1)))
    model.train()
    gen = torch.Generator().manual_seed(0)
    out = {
        "tree": args.label,
        "preset": args.preset,
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "load_before": os.getloadavg()[0],
    }
    if args.what == "ops":
        x1 = torch.randn(1, m, cfg.data.num_frames, v, c)
        ones = torch.ones(1, m, dtype=torch.bool)
        if args.compile != "off":  # generated kernels counted too; the compile happens in the warm-up
            from dcmae_core.training.engine import compile_for_training

            prof.record_compiled_kernels()
            compile_for_training(model, args.compile)
            model.forward_pretrain(x1, ones, gen).loss.backward()
        start = time.perf_counter()
        model.forward_pretrain(x1, ones, gen).loss.backward()  # warm-up outside the profile
        model.zero_grad(set_to_none=True)
        out["warmup_s"] = time.perf_counter() - start
        ops = prof.count_ops(lambda: model.forward_pretrain(x1, ones, gen).loss.backward())
        out.update(ops)
        print(json.dumps(out), flush=True)
        return
    x = torch.randn(args.batch, m, cfg.data.num_frames, v, c)
    valid = torch.ones(args.batch, m, dtype=torch.bool)
    if args.compile != "off":
        from dcmae_core.training.engine import compile_for_training

        compile_for_training(model, args.compile)

    def step() -> None:
        model.forward_pretrain(x, valid, gen).loss.backward()
        model.zero_grad(set_to_none=True)

    start = time.perf_counter()
    step()
    step()
    out["first_two_steps_s"] = time.perf_counter() - start
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    sec = statistics.median(times)
    gmac = prof.count_gmac(lambda: model.forward_pretrain(x[:1], valid[:1], gen).loss.backward())
    model.zero_grad(set_to_none=True)
    mm = prof.matmul_gmacs(torch.device("cpu"))
    out.update(
        compile=args.compile,
        seconds_per_step=sec,
        samples_per_s=args.batch / sec,
        share_of_matmul=gmac * args.batch / sec / mm,
        matmul_gmacs=mm,
        load_after=os.getloadavg()[0],
    )
    print(json.dumps(out), flush=True)


def run_child(tree: Path, label: str, preset: str, what: str, batch: int, steps: int, compile_mode: str) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{HERE}"}
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--label",
        label,
        "--preset",
        preset,
        "--what",
        what,
        "--batch",
        str(batch),
        "--steps",
        str(steps),
        "--compile",
        compile_mode,
    ]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if res.returncode:
        raise RuntimeError(f"{label} {preset} {what} failed:\n{res.stderr[-3000:]}")
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("{")][-1]
    print(line, flush=True)
    return json.loads(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old-tree", type=Path, required=False, help="folder holding the old dcmae_core/")
    ap.add_argument("--presets", nargs="+", default=["tiny", "demo", "paper"])
    ap.add_argument("--speed-presets", nargs="+", default=["demo"], help="presets whose speed is timed")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per child (median)")
    ap.add_argument("--rounds", type=int, default=3, help="old/new alternations of the speed measurement")
    ap.add_argument(
        "--compile", default="off", choices=["off", "blocks", "full"], help="also time this checkout compiled so"
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--label", default="new", help=argparse.SUPPRESS)
    ap.add_argument("--preset", default="demo", help=argparse.SUPPRESS)
    ap.add_argument("--what", default="time", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    trees = [("new", HERE)] + ([("old", args.old_tree.resolve())] if args.old_tree else [])
    variants = [(label, tree, "off") for label, tree in trees]
    if args.compile != "off":
        variants.append((f"new+compile={args.compile}", HERE, args.compile))
    ops = {
        (label, p): run_child(tree, label, p, "ops", 1, 0, mode) for p in args.presets for label, tree, mode in variants
    }
    speed: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.rounds):
        for p in args.speed_presets:
            for label, tree, mode in variants:
                speed.setdefault((label, p), []).append(run_child(tree, label, p, "time", args.batch, args.steps, mode))
    print("\n| preset | code | kernels/step | of which generated | top-level aten calls | autograd nodes |")
    print("|---|---|---:|---:|---:|---:|")
    for (label, p), r in ops.items():
        total, gen_k = r.get("total_kernels", r["kernels"]), r.get("compiled_kernels", 0)
        print(f"| {p} | {label} | {total} | {gen_k} | {r['top_level']} | {r['autograd_nodes']} |")
    print(f"\n| preset | code | batch | samples/s (median of {args.rounds}) | share of matmul | first 2 steps s |")
    print("|---|---|---:|---:|---:|---:|")
    for (label, p), rows in speed.items():
        sps = statistics.median(r["samples_per_s"] for r in rows)
        share = statistics.median(r["share_of_matmul"] for r in rows)
        first = statistics.median(r["first_two_steps_s"] for r in rows)
        print(f"| {p} | {label} | {args.batch} | {sps:.1f} | {100 * share:.0f} % | {first:.1f} |")


if __name__ == "__main__":
    main()
