"""Inference controls: fill method (the model one-step / iterative, linear interpolation), steps, seed, Run,
Cancel, progress, model line."""

from __future__ import annotations

from pathlib import Path

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

SKELETONS = {
    "ntu25": "NTU RGB+D skeleton (Kinect v2, 25 joints)",
    "kinect_v1": "Kinect v1 skeleton (20 joints; NTU files are mapped onto it)",
}


def model_summary(info: dict) -> str:
    """The loaded model in plain words: file, what it learnt from, which actions it knows, its skeleton."""
    names = list(info.get("class_names", []))
    lines = [f"model: {Path(str(info.get('path', '?'))).name} (on {info.get('device', '?')})"]
    if info.get("about"):
        lines.append(str(info["about"]))
    if not info.get("can_classify", True) or not names:
        lines.append("recognises no actions (a pretraining checkpoint: reconstruction only)")
    else:
        groups: dict[str, int] = {}
        for n in names:
            src = n.split(": ", 1)[0] if ": " in n else ""
            groups[src] = groups.get(src, 0) + 1
        if "" in groups:
            lines.append(f"knows {len(names)} actions")
        else:
            lines.append(f"knows {len(names)} actions: " + ", ".join(f"{k} ({v})" for k, v in groups.items()))
    bank = info.get("motion_bank")
    if bank:
        lo, hi = bank.get("spans", ["?", "?"])
        lines.append(
            f"motion bank: {bank['clips']:,} recorded clips; a joint hidden {lo}-{hi} frames between two sightings "
            "bends like the most similar recorded motion, where one is close and it fits the mirrored limb"
        )
    lines.append(SKELETONS.get(str(info.get("layout", "")), f"skeleton: {info.get('layout', '?')}"))
    return "\n".join(lines)


class InferencePanel(QWidget):
    run_requested = Signal(str, int, int)  # method, steps, seed
    cancel_requested = Signal()
    # (label, key of dcmae_core.inference.METHODS); the first is the default. The model's labels change with
    # the loaded checkpoint (`_on_model`): one built on interpolation says so.
    METHODS = (
        ("DCMAE, one step (x0 from t = T)", "one_step"),
        ("DCMAE, iterative sampling", "iterative"),
        ("linear interpolation (no model)", "interpolate"),
    )

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
        self.method.setToolTip(
            "How removed joints are filled. The error plot always shows linear interpolation beside the chosen fill."
        )
        self.steps = QSpinBox()
        self.steps.setRange(1, 1000)
        self.steps.setValue(50)
        self.steps.setEnabled(False)
        self.method.currentIndexChanged.connect(lambda _i: self.steps.setEnabled(self.method_name == "iterative"))
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
        self.run.clicked.connect(
            lambda: self.run_requested.emit(self.method_name, self.steps.value(), self.seed.value())
        )
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
        if busy or self.progress.value() < self.progress.maximum():
            self.progress.setValue(0)  # a run that failed or was cancelled leaves no half-full bar

    def set_progress(self, fraction: float) -> None:
        self.progress.setValue(int(round(1000 * max(0.0, min(1.0, fraction)))))

    def _on_model(self) -> None:
        info = self.state.model_info
        if not info:
            self.model_label.setText("no model loaded (Model → Open checkpoint…)")
            return
        prior = info.get("fill_prior") == "interp"
        name = "DCMAE + motion bank" if info.get("motion_bank") else "DCMAE on interpolation"
        self.method.setItemText(0, f"{name}, one step" if prior else self.METHODS[0][0])
        self.method.setItemText(1, f"{name}, iterative" if prior else self.METHODS[1][0])
        self.model_label.setText(model_summary(info))
        self.model_label.setToolTip(str(info.get("path", "")))
