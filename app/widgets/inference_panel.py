"""Inference controls: fill method (the model one-step / iterative, linear interpolation), steps, seed, Run,
Cancel, progress, model line."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.state import AppState


class InferencePanel(QWidget):
    run_requested = Signal(str, int, int)  # method, steps, seed
    cancel_requested = Signal()
    # (label, key of dcmae_core.inference.METHODS); the first is the default. The model's labels change with
    # the loaded checkpoint (`_on_model`): one built on interpolation says so.
    METHODS = (("DCMAE, one step (x0 from t = T)", "one_step"), ("DCMAE, iterative sampling", "iterative"),
               ("linear interpolation (no model)", "interpolate"))

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        self.model_label = QLabel("no model loaded")
        self.model_label.setWordWrap(True)
        col.addWidget(self.model_label)
        form = QFormLayout()
        self.method = QComboBox()
        for text, key in self.METHODS:
            self.method.addItem(text, key)
        self.method.setToolTip("How removed joints are filled. The error plot always shows linear interpolation "
                               "beside the chosen fill.")
        self.steps = QSpinBox()
        self.steps.setRange(1, 1000)
        self.steps.setValue(50)
        self.steps.setEnabled(False)
        self.method.currentIndexChanged.connect(
            lambda _i: self.steps.setEnabled(self.method_name == "iterative"))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        form.addRow("Method", self.method)
        form.addRow("Steps", self.steps)
        form.addRow("Seed", self.seed)
        col.addLayout(form)
        row = QHBoxLayout()
        self.run = QPushButton("Reconstruct + classify [R]")
        self.cancel = QPushButton("Cancel [Esc]")
        self.cancel.setEnabled(False)
        self.run.clicked.connect(lambda: self.run_requested.emit(self.method_name, self.steps.value(),
                                                                 self.seed.value()))
        self.cancel.clicked.connect(self.cancel_requested)
        row.addWidget(self.run)
        row.addWidget(self.cancel)
        col.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        col.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        col.addWidget(self.status)
        col.addStretch(1)
        state.model_changed.connect(self._on_model)
        self._on_model()

    @property
    def method_name(self) -> str:
        return str(self.method.currentData())

    def set_busy(self, busy: bool) -> None:
        self.run.setEnabled(not busy)
        self.cancel.setEnabled(busy)
        if busy:
            self.progress.setValue(0)

    def set_progress(self, fraction: float) -> None:
        self.progress.setValue(int(round(1000 * max(0.0, min(1.0, fraction)))))

    def _on_model(self) -> None:
        info = self.state.model_info
        if not info:
            self.model_label.setText("no model loaded (Model → Open checkpoint…)")
            return
        prior = info.get("fill_prior") == "interp"
        self.method.setItemText(0, "DCMAE on interpolation, one step" if prior else self.METHODS[0][0])
        self.method.setItemText(1, "DCMAE on interpolation, iterative" if prior else self.METHODS[1][0])
        name = info.get("path", "?")
        self.model_label.setText(f"model: {name}\n{len(info.get('class_names', []))} classes · "
                                 f"{info.get('layout', '?')} · on {info.get('device', '?')}")
