"""Training panel: the run form, Start / Stop / Resume, live curves (loss, learning rate, accuracy), progress
with time left, log tail, runs list and dataset prepare. What happens on each intent is
`app/training_controller.py`'s; the panel shows what it reports."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.widgets.curve import Curve
from app.widgets.run_form import RunForm, path_row

LOG_LINES = 500  # log tail length


class TrainingPanel(QWidget):
    start_requested = Signal(object, bool)  # RunOptions, resume
    stop_requested = Signal()
    refresh_requested = Signal(str)  # output folder: list the runs beside it
    prepare_requested = Signal(str, str)  # raw NTU folder, cache folder
    open_checkpoint_requested = Signal(str)  # "Open in viewer": a run's best.pt / last.pt

    def __init__(self, presets: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        self.form = RunForm(presets)
        col.addWidget(self.form)
        row = QHBoxLayout()
        self.start_btn, self.stop_btn, self.resume_btn = (QPushButton(t) for t in ("Start", "Stop", "Resume"))
        for b in (self.start_btn, self.stop_btn, self.resume_btn):
            row.addWidget(b)
        self.stop_btn.setEnabled(False)
        self.start_btn.clicked.connect(lambda: self.start_requested.emit(self.form.options(), False))
        self.resume_btn.clicked.connect(lambda: self.start_requested.emit(self.form.options(), True))
        self.stop_btn.clicked.connect(lambda: self.stop_requested.emit())
        col.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.eta = QLabel("idle")
        col.addWidget(self.progress)
        col.addWidget(self.eta)
        self.loss_plot, self.lr_plot, self.acc_plot = (
            Curve("loss", "#4fc3f7"),
            Curve("learning rate", "#ffb74d"),
            Curve("top-1 accuracy (epochs)", "#81c784"),
        )
        self.curves = {"loss": self.loss_plot, "lr": self.lr_plot, "top1": self.acc_plot}
        plots = QHBoxLayout()
        for p in self.curves.values():
            plots.addWidget(p)
        col.addLayout(plots, 2)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setMaximumHeight(110)
        col.addWidget(self.log)
        col.addWidget(self._runs_box(), 1)
        col.addWidget(self._prepare_box())

    def confirm_overwrite(self, out: str) -> bool:
        """Ask before a new run replaces the one in `out` (its checkpoints, metrics and TensorBoard events)."""
        answer = QMessageBox.question(
            self,
            "Replace the run?",
            f"{out} already holds a run. Starting a new one there deletes its checkpoints and metrics.\n\n"
            "Replace it? (To continue it instead, press Resume.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    # run state -> panel --------------------------------------------------------------------------------
    def set_running(self, on: bool) -> None:
        self.start_btn.setEnabled(not on)
        self.resume_btn.setEnabled(not on)
        self.stop_btn.setEnabled(on)

    def clear_curves(self) -> None:
        for p in self.curves.values():
            p.clear_points()
        self.progress.setValue(0)

    def add_point(self, curve: str, x: float, y: float) -> None:
        self.curves[curve].add(x, y)

    def show_progress(self, fraction: float) -> None:
        self.progress.setValue(int(1000 * fraction))

    def show_eta(self, text: str) -> None:
        self.eta.setText(text)

    def append_log(self, text: str) -> None:
        self.log.appendPlainText(text)

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
        refresh.clicked.connect(lambda: self.refresh_requested.emit(self.form.out_edit.text()))
        self.open_btn.clicked.connect(self._open_selected)
        row.addWidget(refresh)
        row.addWidget(self.open_btn)
        col.addLayout(row)
        return box

    def show_runs(self, runs: list) -> None:
        """One row per RunSummary, the first selected."""
        self.runs.clear()
        for s in runs:
            item = QTreeWidgetItem(
                [
                    Path(s.path).name,
                    s.stage,
                    s.status,
                    f"{s.epochs_done}/{s.epochs}",
                    "" if s.best_top1 is None else f"{100 * s.best_top1:.1f} %",
                    "" if s.best_loss is None else f"{s.best_loss:.4f}",
                ]
            )
            item.setData(0, 256, s.checkpoint or "")
            item.setToolTip(0, s.path)
            self.runs.addTopLevelItem(item)
        if self.runs.topLevelItemCount():
            self.runs.setCurrentItem(self.runs.topLevelItem(0))

    def _open_selected(self) -> None:
        item = self.runs.currentItem()
        ckpt = item.data(0, 256) if item is not None else ""
        if not ckpt:
            self.form.show_errors("select a run with a checkpoint (best.pt or last.pt)")
            return
        self.open_checkpoint_requested.emit(ckpt)

    # prepare ------------------------------------------------------------------------------------------
    def _prepare_box(self) -> QGroupBox:
        box = QGroupBox("Prepare a dataset cache from a raw NTU folder")
        form = QFormLayout(box)
        self.raw_edit, self.cache_edit = QLineEdit(), QLineEdit()
        form.addRow("NTU folder", path_row(self.raw_edit, "Raw NTU .skeleton folder"))
        form.addRow("Cache out", path_row(self.cache_edit, "Cache folder"))
        row = QHBoxLayout()
        self.prepare_btn = QPushButton("Prepare")
        self.prepare_btn.clicked.connect(
            lambda: self.prepare_requested.emit(self.raw_edit.text(), self.cache_edit.text())
        )
        self.prepare_bar = QProgressBar()
        self.prepare_status = QLabel("")
        row.addWidget(self.prepare_btn)
        row.addWidget(self.prepare_bar, 1)
        form.addRow(row)
        form.addRow(self.prepare_status)
        return box

    def set_preparing(self, on: bool) -> None:
        self.prepare_btn.setEnabled(not on)
        if on:
            self.prepare_bar.setValue(0)

    def show_prepare_progress(self, done: int, files: int) -> None:
        self.prepare_bar.setRange(0, files)
        self.prepare_bar.setValue(done)

    def show_prepare_status(self, text: str) -> None:
        self.prepare_status.setText(text)
