"""Arguments every config-driven command shares: --preset and section.key=value overrides."""

from __future__ import annotations

import argparse
import logging

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
