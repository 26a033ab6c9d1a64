"""Training runs and dataset preparation from the app: validates what the form asks for, starts, stops and
resumes the CLI subprocess (`app/workers/training.py`), turns its JSON lines into curve points, progress and
time left, lists the runs beside the output folder, and runs `prepare` jobs. Reports through signals."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.workers.training import CliProcess, RunOptions, RunSummary, scan_runs


class TrainingController(QObject):
    """Owns the run and the prepare subprocesses and the events of the current run."""

    form_errors = Signal(str)  # what stops a start, one per line ("" = nothing)
    command = Signal(str)  # the command line that runs
    log_line = Signal(str)  # the log tail: both subprocesses' stderr and the commands
    cleared = Signal()  # a new run: curves and progress start again
    point = Signal(str, float, float)  # curve ("loss" | "lr" | "top1"), x (step or epoch), y
    progress = Signal(float)  # share of the run's steps done, 0..1
    eta = Signal(str)  # the line under the progress bar: stage, steps, time left, outcome
    running_changed = Signal(bool)
    runs_changed = Signal(list)  # [RunSummary] beside the output folder, newest first
    prepare_progress = Signal(int, int)  # files done, files
    prepare_status = Signal(str)
    prepare_running = Signal(bool)
    dataset_prepared = Signal(str)  # the new cache folder

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = CliProcess(self)
        self.preparer = CliProcess(self)
        self.events: list[dict] = []  # every JSON line of the current run (and its resumes)
        # asked before a new run replaces the one in its output folder; the panel's dialog once attached
        self.confirm_overwrite: Callable[[str], bool] = lambda out: False
        self._total_steps = 0
        self._step0 = 0  # the step a resumed run starts at: the time left counts from there
        self._t0 = 0.0
        self._current_out: str | None = None
        self._runs_out = ""  # the output folder whose siblings the runs list shows
        self._prepare_files = 1
        self.runner.event.connect(self._on_event)
        self.runner.log_line.connect(self.log_line)
        self.runner.finished.connect(self._on_finished)
        self.preparer.event.connect(self._on_prepare_event)
        self.preparer.log_line.connect(self.log_line)
        self.preparer.finished.connect(self._on_prepare_finished)

    def attach(self, panel) -> None:
        """Wire a `TrainingPanel`: its intents to this controller, this controller's reports to its widgets."""
        self.confirm_overwrite = lambda out: panel.confirm_overwrite(out)
        panel.start_requested.connect(lambda opts, resume: self.start(opts, resume=resume))
        panel.stop_requested.connect(self.stop)
        panel.refresh_requested.connect(self.refresh_runs)
        panel.prepare_requested.connect(self.prepare)
        self.form_errors.connect(panel.form.show_errors)
        self.command.connect(panel.form.show_command)
        self.log_line.connect(panel.append_log)
        self.cleared.connect(panel.clear_curves)
        self.point.connect(panel.add_point)
        self.progress.connect(panel.show_progress)
        self.eta.connect(panel.show_eta)
        self.running_changed.connect(panel.set_running)
        self.runs_changed.connect(panel.show_runs)
        self.prepare_progress.connect(panel.show_prepare_progress)
        self.prepare_status.connect(panel.show_prepare_status)
        self.prepare_running.connect(panel.set_preparing)
        self.dataset_prepared.connect(panel.form.show_dataset)

    # run ---------------------------------------------------------------------------------------------
    def start(self, opts: RunOptions, resume: bool = False) -> bool:
        """Validate `opts` and launch the run (or resume it); False and the reasons on `form_errors` when it
        cannot. A new run over an existing one starts only if `confirm_overwrite(out)` says yes."""
        errs = opts.validate()
        if resume and not errs and not (Path(opts.out) / "last.pt").is_file():
            errs.append(f"nothing to resume: {opts.out} has no last.pt")
        if self.runner.running:
            errs.append("a run is already going: stop it first")
        self.form_errors.emit("\n".join(errs))
        if errs:
            return False
        overwrite = not resume and opts.holds_run()
        if overwrite and not self.confirm_overwrite(opts.out):
            self.form_errors.emit(f"{opts.out} already holds a run: Resume it, or choose another output folder")
            return False
        if not resume:
            self.events.clear()
            self.cleared.emit()
        self._current_out = opts.out
        cmd = opts.command(resume, overwrite)
        self.command.emit(cmd)
        self.log_line.emit(f"$ {cmd}")
        self.runner.start(opts.args(resume, overwrite))
        self._t0 = time.monotonic()
        self.running_changed.emit(True)
        self.refresh_runs(opts.out)
        return True

    def stop(self) -> None:
        """SIGTERM: the run finishes its iteration, saves last.pt and ends (`runner.finished` says so)."""
        self.eta.emit("stopping: finishing the iteration and saving last.pt…")
        self.runner.stop()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Stop both subprocesses and wait for them (window close, test teardown)."""
        for proc in (self.runner, self.preparer):
            if proc.running:
                proc.stop()
                if not proc.wait(timeout_ms):
                    proc.kill()
                    proc.wait(5000)

    def _on_event(self, rec: dict) -> None:
        self.events.append(rec)
        ev = rec.get("event")
        if ev == "start":
            self._total_steps = int(rec.get("total_steps", 0))
            self._t0 = time.monotonic()
            self._step0 = int(rec.get("resumed_at_step", 0))
            self.eta.emit(
                f"{rec.get('stage')} on {rec.get('device')}: {rec.get('epochs')} epochs × "
                f"{rec.get('steps_per_epoch')} steps"
            )
        elif ev == "step":
            step = int(rec.get("step", 0))
            if "loss" in rec:
                self.point.emit("loss", step, float(rec["loss"]))
            if "lr" in rec:
                self.point.emit("lr", step, float(rec["lr"]))
            self._progress(step)
        elif ev == "epoch":
            if rec.get("top1") is not None:
                self.point.emit("top1", int(rec.get("epoch", 0)), float(rec["top1"]))
            self._progress(int(rec.get("step", 0)))
        elif ev in ("stopped", "end"):
            self.eta.emit(f"{'finished' if ev == 'end' else 'stopped'} at step {rec.get('step')}")

    def _progress(self, step: int) -> None:
        if self._total_steps <= 0:
            return
        self.progress.emit(min(1.0, step / self._total_steps))
        done = step - self._step0
        if done > 0:
            left = (time.monotonic() - self._t0) / done * (self._total_steps - step)
            self.eta.emit(f"step {step} / {self._total_steps} · {left:.0f} s left")

    def _on_finished(self, code: int, outcome: str) -> None:
        self.running_changed.emit(False)
        if outcome == "finished":
            self.progress.emit(1.0)
        self.eta.emit(f"run {outcome} (exit code {code})")
        self.log_line.emit(f"[run {outcome}, exit code {code}]")
        self.refresh_runs()

    # runs list ----------------------------------------------------------------------------------------
    def refresh_runs(self, out: str | None = None) -> list[RunSummary]:
        """The runs beside the output folder `out` (None: the last one asked for), on `runs_changed` too."""
        if out is not None:
            self._runs_out = out.strip()
        running = self._current_out if self.runner.running else None
        runs = scan_runs(Path(self._runs_out).parent, running=running) if self._runs_out else []
        self.runs_changed.emit(runs)
        return runs

    # prepare ------------------------------------------------------------------------------------------
    def prepare(self, raw: str, out: str) -> bool:
        """Build a dataset cache in `out` from the raw NTU folder `raw` in a subprocess; False (and a status)
        when the folders are wrong or a prepare is already running."""
        raw, out = raw.strip(), out.strip()
        if not raw or not Path(raw).is_dir():
            self.prepare_status.emit(f"NTU folder {raw!r} does not exist")
            return False
        if not out or self.preparer.running:
            self.prepare_status.emit("choose a cache folder" if not out else "a prepare is already running")
            return False
        self.prepare_running.emit(True)
        self.prepare_status.emit("preparing…")
        self.preparer.start(["prepare", "--ntu-dir", raw, "--out", out, "--workers", "1", "--jsonl"])
        return True

    def _on_prepare_event(self, rec: dict) -> None:
        if rec.get("event") in ("start", "progress"):
            self._prepare_files = max(1, int(rec.get("files", 1)))
            self.prepare_progress.emit(int(rec.get("done", 0)), self._prepare_files)
        elif rec.get("event") == "end":
            self.prepare_progress.emit(self._prepare_files, self._prepare_files)
            self.prepare_status.emit(
                f"{rec['dataset']} cache at {rec['out']}: {rec['samples']} samples, "
                f"{rec['skipped']} file(s) skipped, {rec['excluded']} excluded"
            )
            self.dataset_prepared.emit(str(rec["out"]))

    def _on_prepare_finished(self, code: int, outcome: str) -> None:
        self.prepare_running.emit(False)
        if outcome != "finished":
            self.prepare_status.emit(f"prepare {outcome} (exit code {code}); see the log")
