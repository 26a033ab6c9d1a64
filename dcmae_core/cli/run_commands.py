"""CLI commands: pretrain, finetune, evaluate, reconstruct, classify (thin wrappers over the library)."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path

import numpy as np

from dcmae_core.cli.common import add_config_args, config_from_args, output_file
from dcmae_core.inference import METHODS
from dcmae_core.training.run_folder import EXIT_STOPPED

log = logging.getLogger(__name__)


def _run_args(p: argparse.ArgumentParser) -> None:
    add_config_args(p)
    p.add_argument("--data", help="prepared dataset folder (sets data.root)")
    p.add_argument("--out", required=True, help="run folder (config.json, metrics.jsonl, checkpoints, tb/)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run already in --out (its checkpoints, metrics and events are deleted)",
    )
    p.add_argument("--jsonl", action="store_true", help="also print each metrics line as JSON on stdout")
    p.add_argument("--epochs", type=int, help="shortcut for train.pretrain_epochs / train.finetune_epochs")
    p.add_argument("--device", help="shortcut for train.device (auto, cpu, cuda, cuda:1)")


def _cfg(args: argparse.Namespace, stage: str):
    extra = []
    if args.data:
        extra.append(f"data.root={args.data}")
    if args.epochs is not None:
        extra.append(f"train.{stage}_epochs={args.epochs}")
    if args.device:
        extra.append(f"train.device={args.device}")
    if getattr(args, "labels", None) is not None:
        extra.append(f"data.label_ratio={args.labels}")
    args.overrides = extra + list(args.overrides)
    return config_from_args(args)


def cmd_pretrain(args: argparse.Namespace) -> int:
    from dcmae_core.training.stages import run_pretrain

    res = run_pretrain(_cfg(args, "pretrain"), args.out, resume=args.resume, jsonl=args.jsonl, overwrite=args.overwrite)
    log.info("pretraining %s: %s", "finished" if res["finished"] else "stopped", args.out)
    return 0 if res["finished"] else EXIT_STOPPED


def cmd_finetune(args: argparse.Namespace) -> int:
    from dcmae_core.training.stages import run_finetune

    res = run_finetune(
        _cfg(args, "finetune"),
        args.out,
        pretrained=args.pretrained,
        resume=args.resume,
        jsonl=args.jsonl,
        overwrite=args.overwrite,
    )
    log.info(
        "finetuning %s: best top-1 %.4f, run %s",
        "finished" if res["finished"] else "stopped",
        res["state"]["best"],
        args.out,
    )
    return 0 if res["finished"] else EXIT_STOPPED


def _occlusions(text: str | None) -> list:
    """'0.05,0.1,limb_span,frame_burst:3,0.2-0.4' -> [0.05, 0.1, 'limb_span', 'frame_burst:3,0.2-0.4']:
    bare numbers stay missing-joint ratios (random:R), names are occlusion patterns."""
    from dcmae_core.occlusion import parse_patterns

    if not text:
        return []
    return [p.ratio if p.name == "random" else str(p) for p in parse_patterns(text)]


def cmd_evaluate(args: argparse.Namespace) -> int:
    from dcmae_core.evaluation.missing_joints import evaluate_checkpoint

    res = evaluate_checkpoint(
        args.checkpoint,
        data_root=args.data,
        occlusion=_occlusions(args.occlusion),
        seed=args.seed,
        device=args.device or "auto",
        split=args.split,
    )
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"checkpoint {res['checkpoint']}  data {res['data']}  split {res['split']}  samples {res['full']['count']}")
    print(f"full:   top-1 {100 * res['full']['top1']:.2f} %   top-5 {100 * res['full']['top5']:.2f} %")
    for key, arms in res.items():
        if not key.startswith("occlusion_"):
            continue
        name = key.removeprefix("occlusion_")
        try:
            head = f"missing joints {100 * float(name):g} %:"
        except ValueError:
            head = f"{name}:"
        if "skipped" in arms:
            print(f"{head}  skipped ({arms['skipped']})")
            continue
        line = f"{head}  encoder only {100 * arms['encoder_only']['top1']:.2f} %"
        if "rec" in arms:
            line += f"   REC {100 * arms['rec']['top1']:.2f} %"
        if "interpolation" in arms:
            line += f"   interpolation {100 * arms['interpolation']['top1']:.2f} %"
        if arms["encoder_only"]["count"] != res["full"]["count"]:
            line += f"   ({arms['encoder_only']['count']} samples)"
        print(line)
    return 0


KINECT_SUFFIXES = (".json", ".mat", ".csv")  # NW-UCLA, UTD-MHAD, Kinder-Gator (Kinect v1, 20 joints)


def _load_sample(path: str):
    """-> (data (M, T, V, 3) centred metres, present (M, T), layout, (skeleton, Preprocessed) or None)."""
    if Path(path).suffix.lower() in KINECT_SUFFIXES:
        from dcmae_core.data.kinect_datasets import read_kinect_file
        from dcmae_core.layout import KINECT20

        data, present, _ = read_kinect_file(path)
        return data, present, KINECT20, None
    from dcmae_core.data.ntu import read_skeleton
    from dcmae_core.data.preprocess import preprocess_skeleton
    from dcmae_core.layout import NTU25

    skel = read_skeleton(path)
    pre = preprocess_skeleton(skel)
    return pre.data, pre.present & pre.person_valid[:, None], NTU25, (skel, pre)


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from dcmae_core.data.preprocess import write_filled_file
    from dcmae_core.inference import Predictor
    from dcmae_core.mask_spec import parse_mask_spec
    from dcmae_core.motion_bank import describe_report

    out = output_file(args.output, (".skeleton", ".npy"))
    pred = Predictor.from_checkpoint(args.checkpoint, device=args.device or "auto")
    data, present, layout, ntu = _load_sample(args.file)
    if ntu is None and out.suffix != ".npy":
        raise ValueError(f"{args.file} is a Kinect-v1 file: write the result as .npy (M, T, V, C), not {out.name}")
    removed = parse_mask_spec(args.mask, present, layout, seed=args.seed, x=data[..., :3])
    if not removed.any():
        raise ValueError(
            f"the mask {args.mask!r} removes no joint of {args.file} (no person present where it "
            f"applies); nothing to reconstruct"
        )
    filled = pred.reconstruct(data, removed, method=args.method, num_steps=args.steps, seed=args.seed, layout=layout)
    if out.suffix == ".npy":
        np.save(out, filled.astype(np.float32))
    else:
        about = {
            "method": args.method,
            "mask": args.mask,
            "seed": args.seed,
            "checkpoint": None if args.method == "interpolate" else str(args.checkpoint or "bundled"),
        }
        write_filled_file(out, ntu[0], ntu[1], filled, removed, about, list(layout.joint_names))
    if args.save_mask:
        Path(args.save_mask).write_text(
            json.dumps(
                {
                    "spec": args.mask,
                    "seed": args.seed,
                    "shape": list(removed.shape),
                    "removed": np.argwhere(removed).tolist(),
                }
            )
        )
    how = METHODS[args.method]
    if args.method != "interpolate" and pred.motion_bank is not None and pred.fill_gate > 0:
        how += f", motion bank of {pred.motion_bank.num_clips} recorded clips"
    print(
        f"reconstructed {int(removed.sum())} joint positions in {data.shape[1]} frames ({how}) -> {out}",
        file=sys.stderr,
    )
    bank_line = describe_report(pred.last_bank_report)
    if bank_line:
        print(bank_line, file=sys.stderr)
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from dcmae_core.inference import Predictor

    pred = Predictor.from_checkpoint(args.checkpoint, device=args.device or "auto")
    data, _, layout, _ = _load_sample(args.file)
    probs = pred.classify(data, layout=layout)
    top = pred.top_k(probs, 5)
    if args.json:
        print(json.dumps({"file": args.file, "top5": [{"action": n, "prob": p} for n, p in top]}))
    else:
        for rank, (name, p) in enumerate(top, 1):
            print(f"{rank}. {name:<40s} {100 * p:6.2f} %")
    return 0


def _command_line(args: argparse.Namespace) -> str:
    return "python -m dcmae_core.train " + shlex.join(getattr(args, "argv", sys.argv[1:]))


def cmd_experiment(args: argparse.Namespace) -> int:
    from dcmae_core.evaluation.experiments import SweepStopped, run_experiment

    args.overrides = [f"data.root={args.data}", *args.overrides]
    cfg = config_from_args(args)
    try:
        text = run_experiment(args.table, cfg, Path(args.out), jsonl=args.jsonl, command=_command_line(args))
    except SweepStopped as exc:
        print(f"stopped: {exc}", file=sys.stderr)
        return EXIT_STOPPED
    print(text)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from dcmae_core.evaluation.demo import run_demo
    from dcmae_core.evaluation.experiments import SweepStopped

    try:
        report = run_demo(
            args.out,
            preset=args.preset,
            count=args.count,
            seed=args.seed,
            overrides=args.overrides,
            jsonl=args.jsonl,
            install=args.install_checkpoint,
            command=_command_line(args),
        )
    except SweepStopped as exc:
        print(f"stopped: {exc}", file=sys.stderr)
        return EXIT_STOPPED
    print(report.read_text())
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pretrain", help="self-supervised DCMAE pretraining (masked diffusion reconstruction)")
    _run_args(p)
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("finetune", help="encoder + linear head on labels (--labels 0.05 for few-label)")
    _run_args(p)
    p.add_argument(
        "--pretrained",
        help="pretraining checkpoint (e.g. RUN/last.pt), or a finetuned one to go on "
        "from (its encoder; its head when the classes match); omit: from scratch",
    )
    p.add_argument("--labels", type=float, help="share of training labels used (sets data.label_ratio)")
    p.set_defaults(func=cmd_finetune)

    p = sub.add_parser("evaluate", help="accuracy of a finetuned checkpoint; --occlusion for missing joints")
    p.add_argument("--checkpoint", required=True, help="finetuned checkpoint (RUN/best.pt)")
    p.add_argument("--data", help="prepared dataset folder (default: the one the checkpoint was trained on)")
    p.add_argument("--split", help="xsub, xview or xset (default: the checkpoint's)")
    p.add_argument(
        "--occlusion",
        help="missing-joint ratios and/or occlusion patterns, comma-separated, e.g. "
        "0.05,0.10 or limb_span,lower_body,random:0.1 (a bare number R is random:R; "
        "docs/occlusion.md); each gets encoder only vs REC vs interpolation",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the occlusion masks")
    p.add_argument("--device", help="auto, cpu, cuda")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("reconstruct", help="fill masked joints of a .skeleton file and write it back")
    p.add_argument(
        "file", help="NTU .skeleton file, or a Kinect-v1 file: NW-UCLA .json, UTD-MHAD .mat, Kinder-Gator .csv"
    )
    p.add_argument("-o", "--output", required=True, help="output .skeleton (same frames) or .npy (M, T, V, C)")
    p.add_argument(
        "--mask",
        default="occlusion:0.1",
        help="mask spec: occlusion:R | random:MT,MJ | part:NAME[,NAME] | joints:J,.. | frames:A-B | "
        "person:P | an occlusion pattern (random:R, limb_span[:A-B], frame_burst[:K,A-B], limb_clip, "
        "lower_body, person_part; docs/occlusion.md), combined with ';' "
        "(default: occlusion:0.1, the missing-joint protocol)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of random masks and of the diffusion noise")
    p.add_argument(
        "--method",
        choices=list(METHODS),
        default="one_step",
        help="one_step: the model's x0 prediction from t=T (the paper's REC; with a checkpoint built on "
        "interpolation it corrects interpolation); iterative: DDPM sampling; interpolate: linear "
        "interpolation in time, no model",
    )
    p.add_argument("--steps", type=int, default=50, help="sampling steps of --method iterative")
    p.add_argument("--save-mask", help="also write the mask as JSON here")
    p.add_argument("--checkpoint", help="checkpoint (default: the bundled demo checkpoint)")
    p.add_argument("--device", help="auto, cpu, cuda")
    p.set_defaults(func=cmd_reconstruct)

    p = sub.add_parser("classify", help="top-5 actions of a .skeleton file")
    p.add_argument(
        "file", help="NTU .skeleton file, or a Kinect-v1 file: NW-UCLA .json, UTD-MHAD .mat, Kinder-Gator .csv"
    )
    p.add_argument("--checkpoint", help="checkpoint (default: the bundled demo checkpoint)")
    p.add_argument("--device", help="auto, cpu, cuda")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("experiment", help="run the protocol behind a paper table; writes ours beside the paper's")
    p.add_argument("table", type=int, choices=[1, 3, 4, 5, 6, 7, 8, 9], help="paper table number")
    add_config_args(p)
    p.add_argument("--data", required=True, help="prepared dataset folder")
    p.add_argument("--out", required=True, help="sweep folder (resumable: finished cells are not rerun)")
    p.add_argument("--jsonl", action="store_true", help="print metrics lines as JSON on stdout")
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser(
        "demo", help="end to end on the project's corpus: generate, prepare, pretrain, finetune, evaluate, report"
    )
    add_config_args(p, default_preset="demo")
    p.add_argument("--out", default="runs/demo", help="demo folder (resumable; default runs/demo)")
    p.add_argument("--count", type=int, default=1200, help="sequences to generate (default 1200)")
    p.add_argument("--seed", type=int, default=0, help="corpus seed")
    p.add_argument("--jsonl", action="store_true", help="print metrics lines as JSON on stdout")
    p.add_argument(
        "--install-checkpoint",
        help="also copy the demo checkpoint here (dcmae_core/resources/checkpoints/dcmae_demo.pt)",
    )
    p.set_defaults(func=cmd_demo)
