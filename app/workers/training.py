"""Training and dataset preparation as subprocesses of the CLI (QProcess), so a crash cannot take the app down.

The subprocess prints JSON lines on stdout (`--jsonl`); each is parsed and emitted as a dict, stderr lines
are emitted as log text. Stop sends SIGTERM (the trainer finishes its iteration, writes last.pt, emits
{"event": "stopped"} and exits with EXIT_STOPPED) and kills only after a timeout.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from dcmae_core.training.run_folder import EXIT_STOPPED, existing_run

log = logging.getLogger(__name__)

STOP_TIMEOUT_MS = 30000  # after SIGTERM, kill the run if it has not ended by then
RUN_STATUSES = ("running", "finished", "stopped", "failed")


@dataclass
class RunOptions:
    """What the training form describes; `command()` is the equivalent command line."""

    data: str  # prepared dataset folder (has meta.json)
    out: str  # run folder
    stage: str = "pretrain"  # "pretrain" | "finetune"
    preset: str = "tiny"
    epochs: int = 1
    batch_size: int = 4
    device: str = "auto"  # auto, cpu, cuda, cuda:N
    pretrained: str = ""  # finetune: pretraining checkpoint (empty = from scratch)
    label_ratio: float = 1.0  # finetune: share of labelled training samples

    def validate(self) -> list[str]:
        """Problems that stop a run from starting (empty = fine)."""
        errs = []
        if self.stage not in ("pretrain", "finetune"):
            errs.append(f"stage must be pretrain or finetune, not {self.stage!r}")
        if not self.data or not Path(self.data).is_dir():
            errs.append(f"dataset folder {self.data!r} does not exist")
        elif not (Path(self.data) / "meta.json").is_file():
            errs.append(f"{self.data} is not a prepared dataset cache (no meta.json): prepare it first")
        if not self.out:
            errs.append("choose an output (run) folder")
        if not 1 <= self.epochs <= 10000:
            errs.append(f"epochs must be within 1..10000, got {self.epochs}")
        if not 1 <= self.batch_size <= 4096:
            errs.append(f"batch size must be within 1..4096, got {self.batch_size}")
        if not 0.0 < self.label_ratio <= 1.0:
            errs.append(f"label ratio must be within (0, 1], got {self.label_ratio}")
        if self.stage == "finetune" and self.pretrained and not Path(self.pretrained).is_file():
            errs.append(f"pretrained checkpoint {self.pretrained} does not exist")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            errs.append(f"device must be auto, cpu, cuda or cuda:N, not {self.device!r}")
        return errs

    def holds_run(self) -> bool:
        """Whether the output folder already holds a run (finished or partial) that a new start would replace."""
        return existing_run(Path(self.out)) is not None

    def args(self, resume: bool = False, overwrite: bool = False) -> list[str]:
        """Arguments after `python -m dcmae_core.train`."""
        a = [
            self.stage,
            "--preset",
            self.preset,
            "--data",
            self.data,
            "--out",
            self.out,
            "--epochs",
            str(self.epochs),
            "--set",
            f"train.batch_size={self.batch_size}",
            "--device",
            self.device,
            "--jsonl",
        ]
        if self.stage == "finetune":
            if self.pretrained:
                a += ["--pretrained", self.pretrained]
            if self.label_ratio != 1.0:
                a += ["--labels", f"{self.label_ratio:g}"]
        return a + (["--resume"] if resume else []) + (["--overwrite"] if overwrite and not resume else [])

    def command(self, resume: bool = False, overwrite: bool = False) -> str:
        return shlex.join(["python", "-m", "dcmae_core.train", *self.args(resume, overwrite)])


@dataclass
class RunSummary:
    path: str  # run folder
    stage: str
    status: str  # one of RUN_STATUSES
    epochs_done: int
    epochs: int
    best_top1: float | None
    best_loss: float | None
    checkpoint: str | None  # best.pt, else last.pt, else None


def summarise_run(run_dir: str | Path, running: bool = False) -> RunSummary | None:
    """Status and best numbers of a run folder from its metrics.jsonl (None if it has none)."""
    run_dir = Path(run_dir)
    metrics = run_dir / "metrics.jsonl"
    if not metrics.is_file():
        return None
    stage, status, done, total, top1, loss = "?", "failed", 0, 0, None, None
    for line in metrics.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        ev = rec.get("event")
        if ev == "start":
            stage, total, status = rec.get("stage", stage), int(rec.get("epochs", total)), "failed"
        elif ev == "epoch":
            done = int(rec.get("epoch", done))
            if rec.get("loss") is not None:
                loss = rec["loss"] if loss is None else min(loss, rec["loss"])
            if rec.get("best_top1") is not None:
                top1 = rec["best_top1"]
        elif ev in ("end", "stopped"):
            status = "finished" if ev == "end" else "stopped"
    if running:
        status = "running"
    ckpt = next((str(run_dir / n) for n in ("best.pt", "last.pt") if (run_dir / n).is_file()), None)
    return RunSummary(str(run_dir), stage, status, done, total, top1, loss, ckpt)


def scan_runs(parent: str | Path, running: str | None = None) -> list[RunSummary]:
    """Every run folder (one with metrics.jsonl) directly under `parent`, newest first."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    dirs = [d for d in parent.iterdir() if (d / "metrics.jsonl").is_file()]
    dirs.sort(key=lambda d: (d / "metrics.jsonl").stat().st_mtime, reverse=True)
    out = []
    for d in dirs:
        s = summarise_run(d, running=running is not None and Path(running).resolve() == d.resolve())
        if s is not None:
            out.append(s)
    return out


class CliProcess(QObject):
    """One `python -m dcmae_core.train ...` subprocess; JSON lines out as dicts, stderr as text."""

    event = Signal(dict)  # one parsed JSON line of stdout
    log_line = Signal(str)  # stderr (and stdout lines that are not JSON)
    started = Signal()
    finished = Signal(int, str)  # exit code, "finished" | "stopped" | "failed"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.proc: QProcess | None = None
        self._out = self._err = b""
        self._last_event = ""
        self._stopping = False
        self.started_at = 0.0
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self.kill)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning

    def start(self, args: list[str], cwd: str | None = None) -> None:
        if self.running:
            raise RuntimeError("a process is already running; stop it first")
        proc = QProcess(self)
        proc.setProgram(sys.executable)
        proc.setArguments(["-m", "dcmae_core.train", *args])
        proc.setWorkingDirectory(cwd or str(Path(__file__).resolve().parents[2]))
        proc.readyReadStandardOutput.connect(self._read_out)
        proc.readyReadStandardError.connect(self._read_err)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self.proc, self._out, self._err, self._last_event, self._stopping = proc, b"", b"", "", False
        self.started_at = time.monotonic()
        log.info("starting %s", shlex.join(["python", "-m", "dcmae_core.train", *args]))
        proc.start()
        self.started.emit()

    def stop(self, timeout_ms: int = STOP_TIMEOUT_MS) -> None:
        """SIGTERM: the trainer saves last.pt and ends; killed if it is still there after timeout_ms."""
        if self.running:
            self._stopping = True
            self.proc.terminate()
            self._kill_timer.start(timeout_ms)

    def kill(self) -> None:
        if self.running:
            log.warning("the process did not end after SIGTERM: killing it")
            self.proc.kill()

    def wait(self, ms: int = 30000) -> bool:
        return self.proc is None or self.proc.waitForFinished(ms)

    def _lines(self, buf: bytes, chunk: bytes) -> tuple[list[str], bytes]:
        buf += chunk
        *lines, rest = buf.split(b"\n")
        return [x.decode("utf-8", "replace").rstrip("\r") for x in lines], rest

    def _read_out(self) -> None:
        lines, self._out = self._lines(self._out, bytes(self.proc.readAllStandardOutput()))
        for line in lines:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                rec = None
            if isinstance(rec, dict):
                self._last_event = str(rec.get("event", self._last_event))
                self.event.emit(rec)
            elif line.strip():
                self.log_line.emit(line)

    def _read_err(self) -> None:
        lines, self._err = self._lines(self._err, bytes(self.proc.readAllStandardError()))
        for line in lines:
            if line.strip():
                self.log_line.emit(line)

    def _on_error(self, err: QProcess.ProcessError) -> None:
        if err == QProcess.ProcessError.FailedToStart:
            self.log_line.emit(f"could not start {sys.executable}")

    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._kill_timer.stop()
        self._read_out()
        self._read_err()
        if self._last_event == "end" and code == 0:
            outcome = "finished"
        elif self._last_event == "stopped" or code == EXIT_STOPPED or (self._stopping and code == 0):
            outcome = "stopped"
        else:
            outcome = "failed"
        self.finished.emit(int(code), outcome)


def available_presets() -> list[str]:
    """The config presets the CLI accepts (dcmae_core/resources/configs)."""
    from dcmae_core.config import list_presets

    return list(list_presets())
