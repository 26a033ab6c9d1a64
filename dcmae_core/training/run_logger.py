"""The run's record: resolved config, command line, metrics.jsonl (+ optional stdout JSON lines), TensorBoard
events."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from dcmae_core.config import Config
from dcmae_core.training.devices import DistContext

log = logging.getLogger(__name__)


class RunLogger:
    """Writes the run folder; only rank 0 writes. `emit` = metrics.jsonl (+ stdout with --jsonl) + TensorBoard."""

    def __init__(
        self, run_dir: str | Path, cfg: Config, ctx: DistContext, jsonl_stdout: bool = False, resume: bool = False
    ):
        self.run_dir = Path(run_dir)
        self.ctx = ctx
        self.jsonl_stdout = jsonl_stdout
        self._tb = None
        if not ctx.is_main:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(cfg.to_json() + "\n")
        with open(self.run_dir / "command.txt", "a") as fh:
            fh.write(" ".join([sys.executable, "-m", "dcmae_core.train", *sys.argv[1:]]) + "\n")
        if not resume:
            (self.run_dir / "metrics.jsonl").write_text("")
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.run_dir / "tb"))
        except ImportError:  # tensorboard is a declared dependency; keep training if it is broken
            log.warning("tensorboard is not importable; no event files will be written")

    def emit(self, record: dict[str, Any], step: int | None = None) -> None:
        if not self.ctx.is_main:
            return
        record = {"time": round(time.time(), 3), **record}
        line = json.dumps(record, default=float)
        with open(self.run_dir / "metrics.jsonl", "a") as fh:
            fh.write(line + "\n")
        if self.jsonl_stdout:
            print(line, flush=True)
        if self._tb is not None and step is not None:
            prefix = record.get("event", "metric")
            for key, value in record.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("time", "step"):
                    self._tb.add_scalar(f"{prefix}/{key}", value, step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
