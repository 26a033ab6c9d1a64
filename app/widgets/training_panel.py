"""Training panel: a run form (validated, with its command line), Start / Stop / Resume of a subprocess,
live curves (loss, learning rate, accuracy), progress with time left, log tail, runs list, dataset prepare."""

from __future__ import annotations

import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.workers.training import CliProcess, RunOptions, available_presets, scan_runs

LOG_LINES = 500  # log tail length


def _path_row(edit: QLineEdit, title: str, folder: bool = True) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    btn = QPushButton("…")
    btn.setMaximumWidth(30)

    def browse() -> None:
        path = QFileDialog.getExistingDirectory(None, title, edit.text()) if folder else \
            QFileDialog.getOpenFileName(None, title, edit.text(), "Checkpoints (*.pt);;All (*)")[0]
        if path:
            edit.setText(path)
    btn.clicked.connect(browse)
    row.addWidget(btn)
    return row


class Curve(pg.PlotWidget):
    """One live curve (x = training step)."""

    def __init__(self, title: str, color: str) -> None:
        super().__init__()
        self.setTitle(title, size="9pt")
        self.setMinimumHeight(110)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.x: list[float] = []
        self.y: list[float] = []
        self.line = self.plot([], [], pen=pg.mkPen(color, width=2), symbol="o", symbolSize=4)

    def add(self, x: float, y: float) -> None:
        self.x.append(float(x))
        self.y.append(float(y))
        self.line.setData(self.x, self.y)

    def clear_points(self) -> None:
        self.x, self.y = [], []
        self.line.setData([], [])


class TrainingPanel(QWidget):
    open_checkpoint_requested = Signal(str)  # "Open in viewer": a run's best.pt / last.pt

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = CliProcess(self)
        self.preparer = CliProcess(self)
        self.events: list[dict] = []
        self._total_steps = 0
        self._t0 = 0.0
        self._current_out: str | None = None
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        col.addWidget(self._form())
        row = QHBoxLayout()
        self.start_btn, self.stop_btn, self.resume_btn = (QPushButton(t) for t in ("Start", "Stop", "Resume"))
        for b in (self.start_btn, self.stop_btn, self.resume_btn):
            row.addWidget(b)
        self.stop_btn.setEnabled(False)
        self.start_btn.clicked.connect(lambda: self.start(resume=False))
        self.resume_btn.clicked.connect(lambda: self.start(resume=True))
        self.stop_btn.clicked.connect(self.stop)
        col.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.eta = QLabel("idle")
        col.addWidget(self.progress)
        col.addWidget(self.eta)
        self.loss_plot, self.lr_plot, self.acc_plot = (Curve("loss", "#4fc3f7"), Curve("learning rate", "#ffb74d"),
                                                       Curve("top-1 accuracy (epochs)", "#81c784"))
        plots = QHBoxLayout()
        for p in (self.loss_plot, self.lr_plot, self.acc_plot):
            plots.addWidget(p)
        col.addLayout(plots, 2)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setMaximumHeight(110)
        col.addWidget(self.log)
        col.addWidget(self._runs_box(), 1)
        col.addWidget(self._prepare_box())
        self.runner.event.connect(self._on_event)
        self.runner.log_line.connect(self.log.appendPlainText)
        self.runner.finished.connect(self._on_finished)
        self.preparer.event.connect(self._on_prepare_event)
        self.preparer.log_line.connect(self.log.appendPlainText)
        self.preparer.finished.connect(self._on_prepare_finished)
        self._update_command()

    # form --------------------------------------------------------------------------------------------
    def _form(self) -> QGroupBox:
        box = QGroupBox("Run")
        form = QFormLayout(box)
        self.data_edit, self.out_edit, self.pretrained_edit = QLineEdit(), QLineEdit(), QLineEdit()
        self.data_edit.setPlaceholderText("prepared dataset folder (has meta.json)")
        self.out_edit.setPlaceholderText("run folder, e.g. runs/pretrain_tiny")
        self.preset = QComboBox()
        self.preset.addItems(available_presets())
        self.preset.setCurrentText("tiny")
        self.stage = QComboBox()
        self.stage.addItems(["pretrain", "finetune"])
        self.labels = QDoubleSpinBox()
        self.labels.setRange(0.01, 1.0)
        self.labels.setSingleStep(0.05)
        self.labels.setValue(1.0)
        self.epochs, self.batch = QSpinBox(), QSpinBox()
        self.epochs.setRange(1, 10000)
        self.epochs.setValue(1)
        self.batch.setRange(1, 4096)
        self.batch.setValue(4)
        self.device = QComboBox()
        self.device.setEditable(True)
        self.device.addItems(["auto", "cpu", "cuda"])
        form.addRow("Dataset", _path_row(self.data_edit, "Prepared dataset folder"))
        form.addRow("Preset", self.preset)
        form.addRow("Stage", self.stage)
        form.addRow("Pretrained", _path_row(self.pretrained_edit, "Pretraining checkpoint", folder=False))
        form.addRow("Label ratio", self.labels)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch)
        form.addRow("Device", self.device)
        form.addRow("Output", _path_row(self.out_edit, "Run folder"))
        self.command = QLineEdit()
        self.command.setReadOnly(True)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.command.text()))
        cmd_row = QHBoxLayout()
        cmd_row.addWidget(self.command, 1)
        cmd_row.addWidget(copy)
        form.addRow("Command", cmd_row)
        self.form_status = QLabel("")
        self.form_status.setWordWrap(True)
        self.form_status.setStyleSheet("color: #ef9a9a")
        form.addRow(self.form_status)
        for w in (self.data_edit, self.out_edit, self.pretrained_edit):
            w.textChanged.connect(self._update_command)
        for w in (self.preset, self.stage, self.device):
            w.currentTextChanged.connect(self._update_command)
        for w in (self.labels, self.epochs, self.batch):
            w.valueChanged.connect(self._update_command)
        return box

    def options(self) -> RunOptions:
        return RunOptions(data=self.data_edit.text().strip(), out=self.out_edit.text().strip(),
                          stage=self.stage.currentText(), preset=self.preset.currentText(),
                          epochs=self.epochs.value(), batch_size=self.batch.value(),
                          device=self.device.currentText().strip(), pretrained=self.pretrained_edit.text().strip(),
                          label_ratio=round(self.labels.value(), 4))

    def _update_command(self) -> None:
        finetune = self.stage.currentText() == "finetune"
        self.pretrained_edit.setEnabled(finetune)
        self.labels.setEnabled(finetune)
        self.command.setText(self.options().command())

    # run ---------------------------------------------------------------------------------------------
    def confirm_overwrite(self, out: str) -> bool:
        """Ask before a new run replaces the one in `out` (its checkpoints, metrics and TensorBoard events)."""
        answer = QMessageBox.question(
            self, "Replace the run?",
            f"{out} already holds a run. Starting a new one there deletes its checkpoints and metrics.\n\n"
            "Replace it? (To continue it instead, press Resume.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def start(self, resume: bool = False) -> bool:
        """Validate the form and launch the run (or resume it); False and a message when it cannot."""
        opts = self.options()
        errs = opts.validate()
        if resume and not errs and not (Path(opts.out) / "last.pt").is_file():
            errs.append(f"nothing to resume: {opts.out} has no last.pt")
        if self.runner.running:
            errs.append("a run is already going: stop it first")
        self.form_status.setText("\n".join(errs))
        if errs:
            return False
        overwrite = not resume and opts.holds_run()
        if overwrite and not self.confirm_overwrite(opts.out):
            self.form_status.setText(f"{opts.out} already holds a run: Resume it, or choose another output folder")
            return False
        if not resume:
            self.events.clear()
            for p in (self.loss_plot, self.lr_plot, self.acc_plot):
                p.clear_points()
            self.progress.setValue(0)
        self._current_out = opts.out
        self.command.setText(opts.command(resume, overwrite))
        self.log.appendPlainText(f"$ {opts.command(resume, overwrite)}")
        self.runner.start(opts.args(resume, overwrite))
        self._t0 = time.monotonic()
        self._set_running(True)
        self.refresh_runs()
        return True

    def stop(self) -> None:
        self.eta.setText("stopping: finishing the iteration and saving last.pt…")
        self.runner.stop()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Stop both subprocesses and wait for them (window close, test teardown)."""
        for proc in (self.runner, self.preparer):
            if proc.running:
                proc.stop()
                if not proc.wait(timeout_ms):
                    proc.kill()
                    proc.wait(5000)

    def _set_running(self, on: bool) -> None:
        self.start_btn.setEnabled(not on)
        self.resume_btn.setEnabled(not on)
        self.stop_btn.setEnabled(on)

    def _on_event(self, rec: dict) -> None:
        self.events.append(rec)
        ev = rec.get("event")
        if ev == "start":
            self._total_steps = int(rec.get("total_steps", 0))
            self._t0 = time.monotonic()
            self._step0 = int(rec.get("resumed_at_step", 0))
            self.eta.setText(f"{rec.get('stage')} on {rec.get('device')}: {rec.get('epochs')} epochs × "
                             f"{rec.get('steps_per_epoch')} steps")
        elif ev == "step":
            step = int(rec.get("step", 0))
            if "loss" in rec:
                self.loss_plot.add(step, rec["loss"])
            if "lr" in rec:
                self.lr_plot.add(step, rec["lr"])
            self._progress(step)
        elif ev == "epoch":
            if rec.get("top1") is not None:
                self.acc_plot.add(int(rec.get("epoch", 0)), rec["top1"])
            self._progress(int(rec.get("step", 0)))
        elif ev in ("stopped", "end"):
            self.eta.setText(f"{'finished' if ev == 'end' else 'stopped'} at step {rec.get('step')}")

    def _progress(self, step: int) -> None:
        if self._total_steps <= 0:
            return
        frac = min(1.0, step / self._total_steps)
        self.progress.setValue(int(1000 * frac))
        done = step - getattr(self, "_step0", 0)
        if done > 0:
            left = (time.monotonic() - self._t0) / done * (self._total_steps - step)
            self.eta.setText(f"step {step} / {self._total_steps} · {left:.0f} s left")

    def _on_finished(self, code: int, outcome: str) -> None:
        self._set_running(False)
        if outcome == "finished":
            self.progress.setValue(1000)
        self.eta.setText(f"run {outcome} (exit code {code})")
        self.log.appendPlainText(f"[run {outcome}, exit code {code}]")
        self.refresh_runs()

    # runs list ----------------------------------------------------------------------------------------
    def _runs_box(self) -> QGroupBox:
        box = QGroupBox("Runs (beside the output folder)")
        col = QVBoxLayout(box)
        self.runs = QTreeWidget()
        self.runs.setHeaderLabels(["run", "stage", "status", "epochs", "best top-1", "best loss"])
        self.runs.setRootIsDecorated(False)
        col.addWidget(self.runs)
        row = QHBoxLayout()
        refresh, self.open_btn = QPushButton("Refresh"), QPushButton("Open in viewer")
        refresh.clicked.connect(self.refresh_runs)
        self.open_btn.clicked.connect(self._open_selected)
        row.addWidget(refresh)
        row.addWidget(self.open_btn)
        col.addLayout(row)
        return box

    def refresh_runs(self) -> None:
        out = self.out_edit.text().strip()
        self.runs.clear()
        if not out:
            return
        running = self._current_out if self.runner.running else None
        for s in scan_runs(Path(out).parent, running=running):
            item = QTreeWidgetItem([Path(s.path).name, s.stage, s.status, f"{s.epochs_done}/{s.epochs}",
                                    "" if s.best_top1 is None else f"{100 * s.best_top1:.1f} %",
                                    "" if s.best_loss is None else f"{s.best_loss:.4f}"])
            item.setData(0, 256, s.checkpoint or "")
            item.setToolTip(0, s.path)
            self.runs.addTopLevelItem(item)
        if self.runs.topLevelItemCount():
            self.runs.setCurrentItem(self.runs.topLevelItem(0))

    def _open_selected(self) -> None:
        item = self.runs.currentItem()
        ckpt = item.data(0, 256) if item is not None else ""
        if not ckpt:
            self.form_status.setText("select a run with a checkpoint (best.pt or last.pt)")
            return
        self.open_checkpoint_requested.emit(ckpt)

    # prepare ------------------------------------------------------------------------------------------
    def _prepare_box(self) -> QGroupBox:
        box = QGroupBox("Prepare a dataset cache from a raw NTU folder")
        form = QFormLayout(box)
        self.raw_edit, self.cache_edit = QLineEdit(), QLineEdit()
        form.addRow("NTU folder", _path_row(self.raw_edit, "Raw NTU .skeleton folder"))
        form.addRow("Cache out", _path_row(self.cache_edit, "Cache folder"))
        row = QHBoxLayout()
        self.prepare_btn = QPushButton("Prepare")
        self.prepare_btn.clicked.connect(self.prepare)
        self.prepare_bar = QProgressBar()
        self.prepare_status = QLabel("")
        row.addWidget(self.prepare_btn)
        row.addWidget(self.prepare_bar, 1)
        form.addRow(row)
        form.addRow(self.prepare_status)
        return box

    def prepare(self) -> bool:
        raw, out = self.raw_edit.text().strip(), self.cache_edit.text().strip()
        if not raw or not Path(raw).is_dir():
            self.prepare_status.setText(f"NTU folder {raw!r} does not exist")
            return False
        if not out or self.preparer.running:
            self.prepare_status.setText("choose a cache folder" if not out else "a prepare is already running")
            return False
        self.prepare_bar.setValue(0)
        self.prepare_status.setText("preparing…")
        self.prepare_btn.setEnabled(False)
        self.preparer.start(["prepare", "--ntu-dir", raw, "--out", out, "--workers", "1", "--jsonl"])
        return True

    def _on_prepare_event(self, rec: dict) -> None:
        if rec.get("event") in ("start", "progress"):
            self.prepare_bar.setRange(0, max(1, int(rec.get("files", 1))))
            self.prepare_bar.setValue(int(rec.get("done", 0)))
        elif rec.get("event") == "end":
            self.prepare_bar.setValue(self.prepare_bar.maximum())
            self.prepare_status.setText(f"{rec['dataset']} cache at {rec['out']}: {rec['samples']} samples, "
                                        f"{rec['skipped']} file(s) skipped, {rec['excluded']} excluded")
            self.data_edit.setText(str(rec["out"]))

    def _on_prepare_finished(self, code: int, outcome: str) -> None:
        self.prepare_btn.setEnabled(True)
        if outcome != "finished":
            self.prepare_status.setText(f"prepare {outcome} (exit code {code}); see the log")
