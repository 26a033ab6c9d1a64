"""CLI commands: data — inspect, convert, prepare, import-npz, import-generic, the Kinect v1 importers
(import-nwucla, import-utd-mhad, import-kinder-gator) and merge-caches."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from dcmae_core.cli.common import output_file

log = logging.getLogger(__name__)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this area's sub-commands on the top-level parser."""
    p = sub.add_parser("inspect", help="summarise an NTU .skeleton file: frames, bodies, actors kept, action")
    p.add_argument("file", help="path to a .skeleton file")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("convert", help="write the preprocessed (M, T, V, C) float32 array of a .skeleton file")
    p.add_argument("file", help="path to a .skeleton file")
    p.add_argument("-o", "--out", required=True, help="output .npy path")
    p.add_argument("--copy-single-actor", action="store_true", help="copy actor 1 into an empty second slot")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("prepare", help="build a dataset cache from a raw NTU folder (resumable)")
    p.add_argument("--ntu-dir", required=True, help="folder with NTU .skeleton files (searched recursively)")
    p.add_argument("--out", required=True, help="cache folder to create or resume")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    p.add_argument("--copy-single-actor", action="store_true", help="copy actor 1 into an empty second slot")
    p.add_argument("--all-classes", action="store_true", help="all 60/120 NTU classes even if some are absent")
    p.add_argument("--jsonl", action="store_true", help="progress as JSON lines on stdout (no progress bar)")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("import-npz", help="import the field's preprocessed .npz (x_train/y_train/x_test/y_test)")
    p.add_argument("file", help="the .npz file")
    p.add_argument("--out", required=True, help="cache folder to create or resume")
    p.add_argument("--num-persons", type=int, default=None, help="persons per frame (default 2, or from --layout)")
    p.add_argument("--channels", type=int, default=3, help="coordinates per joint (default 3)")
    p.add_argument("--layout", default=None, help="layout.json giving joint names and parents (default: by V)")
    p.add_argument("--class-names", default=None, help="text file, one class name per line")
    p.set_defaults(func=cmd_import_npz)

    p = sub.add_parser("import-generic", help="import a generic skeleton dataset folder (docs/data_formats.md)")
    p.add_argument("folder", help="folder with layout.json, samples.csv and .npy files")
    p.add_argument("--out", required=True, help="cache folder to create or resume")
    p.add_argument("--test-ratio", type=float, default=0.2, help="test share when samples.csv has no split")
    p.add_argument("--seed", type=int, default=0, help="seed of that split draw")
    p.add_argument("--no-centre", action="store_true", help="keep the coordinates as they are")
    p.add_argument(
        "--allow-outside",
        action="store_true",
        help="accept sample files outside the dataset folder (refused by default)",
    )
    p.set_defaults(func=cmd_import_generic)

    for command, what in (
        ("import-nwucla", "NW-UCLA JSON folder (CTR-GCN's all_sqe); cross-view split, view 3 test"),
        ("import-utd-mhad", "UTD-MHAD folder of *_skeleton.mat; odd subjects train, even test"),
        ("import-kinder-gator", "Kinder-Gator folder ({Adults,Children}/*.csv); every take in train"),
    ):
        p = sub.add_parser(command, help=f"import a {what} (20 Kinect v1 joints)")
        p.add_argument("folder", help="dataset folder (searched recursively)")
        p.add_argument("--out", required=True, help="cache folder to create or resume")
        p.add_argument("--min-frames", type=int, default=2, help="fewer frames with a body is a bad file")
        p.set_defaults(func=cmd_import_kinect, dataset=command.removeprefix("import-"))

    p = sub.add_parser("merge-caches", help="merge finished caches of one layout (labels offset, names prefixed)")
    p.add_argument("caches", nargs="+", help="two or more cache folders")
    p.add_argument("--out", required=True, help="merged cache folder to create or resume")
    p.add_argument("--names", default=None, help="comma-separated display name per cache (default: dataset kind)")
    p.set_defaults(func=cmd_merge_caches)


def inspect_summary(path: str | Path) -> dict:
    """Frames, bodies (ids, frame counts), actors kept and action of one .skeleton file."""
    from dcmae_core.data.ntu import action_name, parse_sample_name, read_skeleton
    from dcmae_core.data.preprocess import preprocess_skeleton

    skel = read_skeleton(path)
    summary: dict = {
        "file": str(path),
        "frames": skel.num_frames,
        "bodies": [{"id": str(b.body_id), "frames": len(b.frames)} for b in skel.bodies],
    }
    try:
        name = parse_sample_name(path)
        summary["action"] = {"id": name.action, "name": action_name(name.action)}
        summary["sample"] = {
            "setup": name.setup, "camera": name.camera, "performer": name.performer,
            "replication": name.replication,
        }  # fmt: skip
    except ValueError:
        summary["action"] = None  # a file not named SsssCcccPpppRrrrAaaa
    try:
        pre = preprocess_skeleton(skel)
        summary["kept_frames"] = int(len(pre.frame_index))
        summary["actors"] = [
            {"slot": s + 1, "id": None if bid is None else str(bid), "frames": int(pre.present[s].sum())}
            for s, bid in enumerate(pre.actor_body_ids)
            if pre.person_valid[s]
        ]
    except ValueError as exc:
        summary["kept_frames"], summary["actors"], summary["error"] = 0, [], str(exc)
    return summary


def cmd_inspect(args: argparse.Namespace) -> int:
    summary = inspect_summary(args.file)
    if args.json:
        print(json.dumps(summary))
        return 0
    lines = [f"{summary['file']}", f"frames: {summary['frames']} ({summary['kept_frames']} kept)"]
    for b in summary["bodies"]:
        lines.append(f"body {b['id']}: {b['frames']} frames")
    for a in summary["actors"]:
        lines.append(f"actor {a['slot']}: body {a['id']}, {a['frames']} frames")
    if "error" in summary:
        lines.append(f"no actor kept: {summary['error']}")
    act = summary["action"]
    lines.append(f"action: A{act['id']:03d} {act['name']}" if act else "action: unknown (file name not NTU)")
    print("\n".join(lines))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from dcmae_core.data.ntu import read_skeleton
    from dcmae_core.data.prepare import nonfinite_reason
    from dcmae_core.data.preprocess import preprocess_skeleton

    out = output_file(args.out, (".npy",))
    pre = preprocess_skeleton(read_skeleton(args.file), copy_single_actor=args.copy_single_actor)
    reason = nonfinite_reason(pre.data)
    if reason:
        raise ValueError(f"{args.file} {reason}; nothing written")
    np.save(out, pre.data)
    log.info("wrote %s: (M, T, V, C) = %s, actors valid %s", out, pre.data.shape, pre.person_valid.tolist())
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from dcmae_core.data.prepare import prepare_ntu

    jsonl = getattr(args, "jsonl", False)

    def emit(record: dict) -> None:
        print(json.dumps(record), flush=True)

    on_sample = None
    if jsonl:  # the total is the file count (files already done by an interrupted run are not redone)
        total = sum(1 for _ in Path(args.ntu_dir).rglob("*.skeleton")) if Path(args.ntu_dir).is_dir() else 0
        emit({"event": "start", "files": total})

        def on_sample(k: int) -> None:
            emit({"event": "progress", "done": k, "files": total})

    res = prepare_ntu(
        args.ntu_dir, args.out, workers=args.workers, copy_single_actor=args.copy_single_actor,
        all_classes=args.all_classes, progress=not jsonl, on_sample=on_sample,
    )  # fmt: skip
    if jsonl:
        emit(
            {
                "event": "end",
                "out": str(res.root),
                "dataset": res.dataset,
                "samples": res.num_samples,
                "skipped": res.num_failed,
                "excluded": res.num_excluded,
            }
        )
    log.info(
        "%s cache at %s: %d samples, %d bad file(s) skipped, %d excluded by the official lists",
        res.dataset, res.root, res.num_samples, res.num_failed, res.num_excluded,
    )  # fmt: skip
    return 0


def cmd_import_npz(args: argparse.Namespace) -> int:
    from dcmae_core.data.importers import import_npz
    from dcmae_core.layout import Layout

    layout = None
    if args.layout:
        layout = Layout.from_dict(json.loads(Path(args.layout).read_text(encoding="utf-8")))
    names = None
    if args.class_names:
        names = [n for n in Path(args.class_names).read_text(encoding="utf-8").splitlines() if n.strip()]
    meta = import_npz(args.file, args.out, args.num_persons, args.channels, layout, names)
    log.info("cache at %s: %d samples, %d skipped", args.out, meta["num_samples"], meta["num_failed"])
    return 0


def cmd_import_generic(args: argparse.Namespace) -> int:
    from dcmae_core.data.importers import import_generic

    meta = import_generic(
        args.folder,
        args.out,
        args.test_ratio,
        args.seed,
        centre_data=not args.no_centre,
        allow_outside=args.allow_outside,
    )
    log.info("cache at %s: %d samples, %d skipped", args.out, meta["num_samples"], meta["num_failed"])
    return 0


def cmd_import_kinect(args: argparse.Namespace) -> int:
    from dcmae_core.data import kinect_import

    importer = {
        "nwucla": kinect_import.import_nwucla,
        "utd-mhad": kinect_import.import_utd_mhad,
        "kinder-gator": kinect_import.import_kinder_gator,
    }[args.dataset]
    meta = importer(args.folder, args.out, min_frames=args.min_frames)
    print(f"{args.out}: {kinect_import.summary(meta)}")
    return 0


def cmd_merge_caches(args: argparse.Namespace) -> int:
    from dcmae_core.data.merge import merge_caches

    names = [n.strip() for n in args.names.split(",")] if args.names else None
    meta = merge_caches(args.caches, args.out, names)
    split = np.load(Path(args.out) / "index.npy")["split"]
    counts = [int((split == 0).sum()), int((split == 1).sum())]
    parts = ", ".join(f"{s['name']} {s['num_classes']} from label {s['first_label']}" for s in meta["sources"])
    print(
        f"{args.out}: {meta['num_samples']} samples (train {counts[0]}, test {counts[1]}), "
        f"{len(meta['class_names'])} classes ({parts})"
    )
    return 0
