"""Arguments every config-driven command shares: --preset and section.key=value overrides."""

from __future__ import annotations

import argparse
import errno
import logging
from pathlib import Path

from dcmae_core.config import Config, build_config, list_presets


def add_config_args(parser: argparse.ArgumentParser, default_preset: str = "paper") -> None:
    parser.add_argument(
        "--preset",
        default=default_preset,
        help=f"config preset name ({', '.join(list_presets())}) or a .toml path (default: {default_preset})",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config field (repeatable), e.g. --set train.batch_size=16",
    )


def config_from_args(args: argparse.Namespace) -> Config:
    return build_config(args.preset, args.overrides)


def setup_logging(verbose: bool = False) -> None:
    """Human logs go to stderr; machine output (--json, --jsonl) goes to stdout."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def output_file(path: str | Path, suffixes: tuple[str, ...]) -> Path:
    """Check an output file path before any work: not a folder, one of `suffixes`, its folder creatable."""
    out = Path(path)
    if out.is_dir():
        raise ValueError(f"output {out} is a folder; give a file name in it, e.g. {out / ('NAME' + suffixes[0])}")
    if out.suffix.lower() not in suffixes:
        raise ValueError(f"output {out} must end in {' or '.join(suffixes)}")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"cannot write {out}: {parent} is a file, not a folder")
            break
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the folder {out.parent}: {exc.strerror or exc}") from exc
    return out


def os_error_message(exc: OSError) -> str:
    """One line for a failure of the system (a full disk, no permission) instead of a traceback."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return (
            f"the disk is full{where}: free some space and run the same command again (prepare, the "
            f"importers and --resume continue where they stopped)"
        )
    return f"{exc.strerror or exc}{where}"
