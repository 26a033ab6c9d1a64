"""The headless CLI: `python -m dcmae_core.train COMMAND ...`. Thin: parsing and dispatch only."""

from __future__ import annotations

import argparse
import logging
import sys

from dcmae_core.cli import common, data_commands, live_commands, model_commands, run_commands, synth_commands
from dcmae_core.config import ConfigError

log = logging.getLogger("dcmae_core")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dcmae_core.train",
        description="DCMAE: masked autoencoder + diffusion + cross-attention for skeleton action recognition.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    data_commands.add_commands(sub)
    synth_commands.add_commands(sub)
    model_commands.add_commands(sub)
    run_commands.add_commands(sub)
    live_commands.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # the command line as given, for reports that record how they were made
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    common.setup_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, ValueError, FileNotFoundError, RuntimeError) as exc:
        # Expected failures (bad input, bad config, a diverged run): one clear line, no traceback.
        if args.verbose:
            log.exception("failed")
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, MemoryError) as exc:  # the system's limits: a full disk, no permission, no memory
        if args.verbose:
            log.exception("failed")
        text = common.os_error_message(exc) if isinstance(exc, OSError) else "out of memory"
        print(f"error: {text}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        _leave_process_group()


def _leave_process_group() -> None:
    """Under torchrun: leave the process group before the interpreter exits. Left to exit, gloo's threads were
    still running when the process tore down, and a rank could abort ('terminate called without an active
    exception', SIGABRT) after a finished run: seen once in about five 2-process finetunes."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
