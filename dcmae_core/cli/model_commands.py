"""CLI commands: model (`profile`: parameters, GMAC and measured speed of a preset's model)."""

from __future__ import annotations

import argparse
import json
import sys

from dcmae_core.cli.common import add_config_args, config_from_args


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this area's sub-commands on the top-level parser."""
    p = sub.add_parser("profile", help="parameters, GMAC and measured speed of the model of a preset")
    add_config_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1, ...")
    p.add_argument("--batch", type=int, default=8, help="pretraining batch for the throughput figure")
    p.add_argument("--repeats", type=int, default=2, help="timed repetitions (median); one warm-up before")
    p.add_argument("--joints", type=int, default=25, help="joints V (default NTU-25)")
    p.add_argument("--num-classes", type=int, default=60, help="classes of the linear head")
    p.add_argument(
        "--compile",
        nargs="?",
        const="blocks",
        default="off",
        choices=["off", "blocks", "full"],
        help="torch.compile as train.compile_mode does: each block (blocks, the default of a bare "
        "--compile) or encoder and decoder whole (full); the first two steps are timed apart",
    )
    p.add_argument("--no-speed", action="store_true", help="count parameters and GMAC only")
    p.set_defaults(func=run_profile)

    p = sub.add_parser(
        "slim-checkpoint", help="a checkpoint to ship: weights and what describes them, no optimiser state"
    )
    p.add_argument("src", help="finetuned (or pretraining) checkpoint, e.g. RUN/best.pt")
    p.add_argument("dst", help="output .pt")
    p.add_argument("--about", default="", help="one line in plain words: what the model learnt from; the app shows it")
    p.add_argument(
        "--fill-gate",
        type=float,
        default=None,
        help="frames: keep interpolation for gaps visible on both sides within this distance (the "
        "figure bench/calibrate_fill_gate.py measures on training data); 0 = model everywhere",
    )
    p.add_argument(
        "--motion-bank",
        nargs="+",
        default=None,
        metavar="CACHE",
        help="dataset caches whose training clips become the checkpoint's motion bank (dcmae_core/motion_bank.py): "
        "long both-sided gaps are then filled from the most similar recorded motion where a check passes",
    )
    p.set_defaults(func=run_slim)


def _bank_from_caches(roots: list[str], split: str):
    """A MotionBank of every valid person of the training clips of the named caches (one skeleton)."""
    from dcmae_core.data.dataset import SkeletonCache
    from dcmae_core.motion_bank import MotionBank

    caches = [SkeletonCache.open(r) for r in roots]
    layout = caches[0].layout
    for c in caches[1:]:
        if c.layout.name != layout.name:
            raise ValueError(f"{c.root} is in the {c.layout.name} skeleton, {caches[0].root} in {layout.name}")

    def clips():
        for c in caches:
            for i in c.split_indices(split)[0]:
                data, valid = c.sample(int(i))
                yield from (data[p] for p in range(len(valid)) if valid[p])

    return MotionBank.from_clips(clips(), layout)


def run_slim(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dcmae_core.checkpoint import load_checkpoint
    from dcmae_core.config import config_from_dict
    from dcmae_core.evaluation.demo import slim_checkpoint

    Path(args.dst).parent.mkdir(parents=True, exist_ok=True)
    if args.fill_gate is not None and args.fill_gate < 0:
        raise ValueError("--fill-gate must be 0 or more frames")
    bank = None
    if args.motion_bank:
        split = config_from_dict(load_checkpoint(Path(args.src))["config"]).data.split
        bank = _bank_from_caches(args.motion_bank, split)
        print(f"motion bank: {bank.num_clips} clips, {len(bank.frames)} frames")
    out = slim_checkpoint(
        Path(args.src),
        Path(args.dst),
        "python -m dcmae_core.train " + " ".join(sys.argv[1:]),
        about=args.about,
        fill_gate=args.fill_gate,
        motion_bank=bank,
    )
    print(f"wrote {out} ({Path(out).stat().st_size / 2**20:.1f} MiB)")
    return 0


def _human(r: dict) -> str:
    p, g = r["params"], r["gmac"]
    lines = [
        f"device {r['device']}   frames {r['preset_frames']}   V {r['num_joints']}   M {r['num_persons']}",
        f"params   encoder {p['encoder'] / 1e6:.2f} M   decoder {p['decoder'] / 1e6:.2f} M   "
        f"head {p['head'] / 1e6:.3f} M   total (pretraining) {p['total'] / 1e6:.2f} M",
        f"GMAC     pretrain {g['pretrain_per_sample']:.2f} /sample (M=2, masked)   inference "
        f"{g['inference_per_sample']:.2f} /sample (encoder, M=2)   [{r['convention']}]",
    ]
    if "ops" in r:
        o = r["ops"]["pretrain_step"]
        lines.append(
            f"ops      pretraining step (forward + backward): {o['kernels']} kernels, {o['top_level']} "
            f"top-level aten calls, {o['autograd_nodes']} autograd nodes   [CPU profiler; profiling.py]"
        )
        if "pretrain_step_compiled" in r["ops"]:
            o = r["ops"]["pretrain_step_compiled"]
            lines.append(
                f"ops      compiled ({r['ops']['compile']}): {o['total_kernels']} kernels = {o['kernels']} aten + "
                f"{o['compiled_kernels']} generated, {o['autograd_nodes']} autograd nodes"
            )
    if "pretrain" in r:
        mc, pre, inf, app = r["machine"], r["pretrain"], r["inference"], r["app_case"]
        mm = max(mc["matmul_fp32_gmacs_before"], mc["matmul_fp32_gmacs_after"])
        lines += [
            f"machine  fp32 matmul {mm:.1f} GMAC/s   threads {mc['threads']}   load "
            f"{mc['load_avg_1min_before']:.2f} -> {mc['load_avg_1min_after']:.2f}   amp {mc['amp']}",
            f"pretrain batch {pre['batch']}: {pre['samples_per_s']:.2f} samples/s   "
            f"{pre['gmacs']:.1f} GMAC/s = {100 * pre['share_of_matmul']:.0f} % of matmul   "
            f"peak {pre['peak_memory_mib']:.0f} MiB",
            f"infer    batch 1: {inf['latency_ms']:.1f} ms   {inf['gmacs']:.1f} GMAC/s = "
            f"{100 * inf['share_of_matmul']:.0f} % of matmul",
            f"app case reconstruct (one step) + classify: {app['reconstruct_classify_ms_2_persons']:.1f} ms "
            f"(2 persons), {app['reconstruct_classify_ms_1_person']:.1f} ms (1 person)",
        ]
    return "\n".join(lines) + "\n"


def run_profile(args: argparse.Namespace) -> int:
    from dcmae_core.evaluation.profiling import profile_model  # torch import only when the command runs

    if args.batch < 1 or args.repeats < 1 or args.joints < 1 or args.num_classes < 1:
        raise ValueError("--batch, --repeats, --joints and --num-classes must be at least 1")
    cfg = config_from_args(args)
    result = profile_model(
        cfg,
        num_joints=args.joints,
        num_classes=args.num_classes,
        device=args.device,
        batch=args.batch,
        repeats=args.repeats,
        compile=args.compile,
        speed=not args.no_speed,
    )
    result["preset"] = args.preset
    result["overrides"] = args.overrides
    sys.stdout.write(json.dumps(result) + "\n" if args.json else _human(result))
    return 0
