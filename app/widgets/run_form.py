"""The training run form: dataset, preset, stage, pretrained checkpoint, label ratio, epochs, batch size, device
and output folder, with the equivalent command line (copyable) and, under it, what stops a start."""

from __future__ import annotations

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
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.workers.training import RunOptions


def path_row(edit: QLineEdit, title: str, folder: bool = True) -> QHBoxLayout:
    """`edit` with a "…" button that browses for a folder (or a checkpoint file) into it."""
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    btn = QPushButton("…")
    btn.setMaximumWidth(30)

    def browse() -> None:
        path = (
            QFileDialog.getExistingDirectory(None, title, edit.text())
            if folder
            else QFileDialog.getOpenFileName(None, title, edit.text(), "Checkpoints (*.pt);;All (*)")[0]
        )
        if path:
            edit.setText(path)

    btn.clicked.connect(browse)
    row.addWidget(btn)
    return row


class RunForm(QGroupBox):
    """The fields of one run; `options()` is what they describe."""

    def __init__(self, presets: list[str], parent: QWidget | None = None) -> None:
        super().__init__("Run", parent)
        form = QFormLayout(self)
        self.data_edit, self.out_edit, self.pretrained_edit = QLineEdit(), QLineEdit(), QLineEdit()
        self.data_edit.setPlaceholderText("prepared dataset folder (has meta.json)")
        self.out_edit.setPlaceholderText("run folder, e.g. runs/pretrain_tiny")
        self.preset = QComboBox()
        self.preset.addItems(presets)
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
        form.addRow("Dataset", path_row(self.data_edit, "Prepared dataset folder"))
        form.addRow("Preset", self.preset)
        form.addRow("Stage", self.stage)
        form.addRow("Pretrained", path_row(self.pretrained_edit, "Pretraining checkpoint", folder=False))
        form.addRow("Label ratio", self.labels)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch)
        form.addRow("Device", self.device)
        form.addRow("Output", path_row(self.out_edit, "Run folder"))
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
        self._update_command()

    def options(self) -> RunOptions:
        return RunOptions(
            data=self.data_edit.text().strip(),
            out=self.out_edit.text().strip(),
            stage=self.stage.currentText(),
            preset=self.preset.currentText(),
            epochs=self.epochs.value(),
            batch_size=self.batch.value(),
            device=self.device.currentText().strip(),
            pretrained=self.pretrained_edit.text().strip(),
            label_ratio=round(self.labels.value(), 4),
        )

    def _update_command(self) -> None:
        finetune = self.stage.currentText() == "finetune"
        self.pretrained_edit.setEnabled(finetune)
        self.labels.setEnabled(finetune)
        self.command.setText(self.options().command())

    def show_command(self, text: str) -> None:
        self.command.setText(text)

    def show_errors(self, text: str) -> None:
        self.form_status.setText(text)

    def show_dataset(self, path: str) -> None:
        self.data_edit.setText(path)
