"""CLI commands: `synth`, the project's own corpus of NTU `.skeleton` files."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def parse_ids(text: str) -> list[int]:
    """'1-3,7' -> [1, 2, 3, 7]; a clear error for anything else."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected ids like 1-3,7") from None
        if b < a:
            raise argparse.ArgumentTypeError(f"{text!r}: range {part} runs backwards")
        out.extend(range(a, b + 1))
    if not out:
        raise argparse.ArgumentTypeError(f"{text!r}: no ids given")
    return out


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this area's sub-commands on the top-level parser."""
    p = sub.add_parser(
        "synth",
        help="write a synthetic NTU-style corpus of .skeleton files",
        description="Generate genuine NTU .skeleton files (SsssCcccPpppRrrrAaaa) from the procedural "
        "Kinect model: --count N draws N names (classes balanced) from the grid, otherwise the whole grid "
        "of the given setups x cameras x performers x replications x actions is written.",
    )
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--seed", type=int, default=0, help="corpus seed: same seed, identical bytes (default 0)")
    p.add_argument("--count", type=int, default=None, help="number of sequences (default: the full grid)")
    p.add_argument("--setups", type=parse_ids, default=[1, 2, 3], help="setup ids, e.g. 1-3 (default 1-3)")
    p.add_argument("--cameras", type=parse_ids, default=[1, 2, 3], help="camera ids 1-3 (default all)")
    p.add_argument("--performers", type=parse_ids, default=list(range(1, 41)), help="ids 1-40 (default all)")
    p.add_argument("--replications", type=parse_ids, default=[1, 2], help="replication ids (default 1,2)")
    p.add_argument("--actions", type=parse_ids, default=None, help="NTU action ids (default: the library)")
    p.add_argument("--list-actions", action="store_true", help="print the action library and exit")
    p.set_defaults(func=run_synth)


def run_synth(args: argparse.Namespace) -> int:
    from dcmae_core.data.ntu import action_name
    from dcmae_core.data.synth import SYNTH_ACTIONS, corpus_names, write_corpus

    if args.list_actions:
        for a in SYNTH_ACTIONS:
            print(f"A{a:03d}  {action_name(a)}")
        return 0
    names = corpus_names(
        count=args.count,
        seed=args.seed,
        setups=args.setups,
        cameras=args.cameras,
        performers=args.performers,
        replications=args.replications,
        actions=args.actions or SYNTH_ACTIONS,
    )
    log.info("generating %d sequences (seed %d) into %s", len(names), args.seed, args.out)
    write_corpus(args.out, names, seed=args.seed)
    return 0
