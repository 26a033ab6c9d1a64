"""CLI commands: live (online recognition from LSL or a replayed file), live-streams (list LSL streams)."""

from __future__ import annotations

import argparse
import json
import logging
import time

log = logging.getLogger(__name__)


def cmd_live(args: argparse.Namespace) -> int:
    from dcmae_core.inference import Predictor
    from dcmae_core.live import OnlineRecognizer, Recorder, open_source

    if args.seconds <= 0:
        raise ValueError(f"--seconds must be positive, got {args.seconds}")
    predictor = Predictor.from_checkpoint(args.checkpoint, device=args.device or "auto")
    source = open_source(args.source)
    rec = OnlineRecognizer(
        predictor, window=args.window, stride=args.stride, reconstruct=not args.no_reconstruct, layout=source.layout
    )
    recorder = Recorder() if args.record else None
    source.open()
    log.info("%s; window %d frames, stride %d", source.status, rec.window, rec.stride)
    windows, frames, last_status = 0, 0, source.status
    end = time.perf_counter() + args.seconds
    try:
        while time.perf_counter() < end and not source.finished:
            for frame in source.read(timeout=min(0.1, max(0.0, end - time.perf_counter()))):
                frames += 1
                if recorder is not None:
                    recorder.add(frame)
                res = rec.push(frame)
                if res is None:
                    continue
                windows += 1
                line = {"event": "window", "wall": round(time.time(), 3), **res.to_json()}
                if args.jsonl:
                    print(json.dumps(line), flush=True)
                else:
                    best = res.top5[0] if res.top5 else ("-", 0.0)
                    print(
                        f"frame {res.index:6d}  {best[0]:<36s} {100 * best[1]:5.1f} %  filled {res.filled}", flush=True
                    )
            if source.status != last_status:
                last_status = source.status
                log.info("%s", source.status)
                if args.jsonl:
                    print(json.dumps({"event": "status", "status": source.status}), flush=True)
    finally:
        source.close()
    if recorder is not None and len(recorder):
        log.info("recorded %d frames -> %s", len(recorder), recorder.save(args.record))
    summary = {"event": "end", "frames": frames, "windows": windows}
    if args.jsonl:
        print(json.dumps(summary), flush=True)
    log.info("%d frames, %d windows", frames, windows)
    return 0


def cmd_live_streams(args: argparse.Namespace) -> int:
    from dcmae_core.live import list_lsl_streams

    if not 0 < args.timeout <= 3600:
        raise ValueError(f"--timeout must lie in (0, 3600] seconds, got {args.timeout}")
    streams = list_lsl_streams(timeout=args.timeout, stream_type=None if args.all else "Mocap")
    for s in streams:
        if args.json:
            print(json.dumps(s.__dict__))
        else:
            print(f"{s.spec():<30s} {s.type:<8s} {s.channel_count:4d} channels  {s.rate:g} Hz  {s.hostname}")
    if not streams and not args.json:
        print("no stream found")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="online recognition of a live skeleton stream (one line per window)")
    p.add_argument(
        "--source",
        required=True,
        help="lsl:NAME (an LSL Mocap stream), replay:FILE.skeleton "
        "(played at 30 fps) or webcam[:INDEX] (needs mediapipe)",
    )
    p.add_argument("--checkpoint", help="finetuned checkpoint (default: the bundled demo checkpoint)")
    p.add_argument("--seconds", type=float, default=10.0, help="stop after this many seconds (default 10)")
    p.add_argument("--stride", type=int, default=15, help="frames between two recognitions (default 15)")
    p.add_argument("--window", type=int, help="frames per window (default: the checkpoint's, e.g. 120)")
    p.add_argument("--no-reconstruct", action="store_true", help="classify missing joints as zeros")
    p.add_argument("--record", help="also write the received frames to this .skeleton file")
    p.add_argument("--device", help="auto, cpu, cuda")
    p.add_argument("--jsonl", action="store_true", help="print one JSON line per window on stdout")
    p.set_defaults(func=cmd_live)

    p = sub.add_parser("live-streams", help="list the LSL streams on the network")
    p.add_argument("--timeout", type=float, default=1.0, help="seconds to look (default 1)")
    p.add_argument("--all", action="store_true", help="every stream type, not only Mocap")
    p.add_argument("--json", action="store_true", help="one JSON object per stream")
    p.set_defaults(func=cmd_live_streams)
