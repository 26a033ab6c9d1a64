"""Live panel: pick a source (LSL stream, replayed file), start / stop, stride, record; shows the status, the
received rate and the recognised actions. What happens on each intent is `app/live_controller.py`'s."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.widgets.elided import ElidedLabel


class LivePanel(QWidget):
    find_requested = Signal()  # look for LSL streams
    start_requested = Signal(str, int, bool)  # source spec, stride (frames), loop a replay
    stop_requested = Signal()
    record_requested = Signal()
    save_requested = Signal(str)  # .skeleton path for the recording

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.last_top5: list[tuple[str, float]] = []
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        form = QFormLayout()
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.setMinimumContentsLength(18)
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.lineEdit().setPlaceholderText("lsl:NAME or replay:FILE.skeleton")
        find, replay = QPushButton("Find LSL streams"), QPushButton("Replay file…")
        find.clicked.connect(self.find_requested)
        replay.clicked.connect(self._pick_replay)
        src_row = QHBoxLayout()
        src_row.addWidget(find)
        src_row.addWidget(replay)
        self.stride = QSpinBox()
        self.stride.setRange(1, 300)
        self.stride.setValue(15)
        self.stride.setSuffix(" frames")
        form.addRow("Source", self.source)
        form.addRow("", src_row)
        form.addRow("Stride", self.stride)
        self.loop = QCheckBox("loop a replayed file")
        self.loop.setToolTip("A replay starts again from its first frame when it ends (a live stream has no end)")
        form.addRow("", self.loop)
        col.addLayout(form)
        row = QHBoxLayout()
        self.start_btn, self.stop_btn = QPushButton("Start live"), QPushButton("Stop")
        self.record_btn, self.save_btn = QPushButton("Record"), QPushButton("Save recording…")
        self.record_btn.setCheckable(True)
        self.start_btn.clicked.connect(
            lambda: self.start_requested.emit(
                self.source.currentText().strip(), self.stride.value(), self.loop.isChecked()
            )
        )
        self.stop_btn.clicked.connect(self.stop_requested)
        self.record_btn.toggled.connect(self._on_record)
        self.save_btn.clicked.connect(self._save_dialog)
        for b in (self.start_btn, self.stop_btn):
            row.addWidget(b)
        rec_row = QHBoxLayout()  # two rows: the panel stays narrow enough for a laptop's right column
        for b in (self.record_btn, self.save_btn):
            rec_row.addWidget(b)
        col.addLayout(row)
        col.addLayout(rec_row)
        self.status = QLabel("stopped")
        self.status.setWordWrap(True)
        self.rate = QLabel("")
        self.rate.setWordWrap(True)  # a long source name wraps instead of widening the window
        for w in (self.status, self.rate):
            col.addWidget(w)
        # the top 5 as a grid (name | share): one row each, names elided, so rows never run into each other
        grid = QGridLayout()
        grid.setColumnStretch(0, 1)
        self.top_names = [ElidedLabel("", min_chars=10) for _ in range(5)]
        self.top_probs = [QLabel("") for _ in range(5)]
        for i, (name, prob) in enumerate(zip(self.top_names, self.top_probs, strict=True)):
            prob.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, i, 0)
            grid.addWidget(prob, i, 1)
        col.addLayout(grid)
        self.filled_note = QLabel("")
        self.filled_note.setWordWrap(True)
        col.addWidget(self.filled_note)
        col.addStretch(1)
        self.set_running(False)

    # intents ------------------------------------------------------------------------------------------
    def _pick_replay(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Replay a skeleton file", "", "NTU skeleton (*.skeleton)")
        if path:
            self.source.setCurrentText(f"replay:{path}")

    def _on_record(self, on: bool) -> None:
        if on:
            self.record_requested.emit()

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save recording", "live.skeleton", "NTU skeleton (*.skeleton)")
        if path:
            self.save_requested.emit(path)

    # state -> panel -----------------------------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def show_rate(self, text: str) -> None:
        self.rate.setText(text)

    def offer_sources(self, specs: list[str]) -> None:
        """Add found stream specs to the source box; the first becomes the current one."""
        for spec in specs:
            if self.source.findText(spec) < 0:
                self.source.addItem(spec)
        if specs:
            self.source.setCurrentText(specs[0])

    def set_running(self, on: bool) -> None:
        self.start_btn.setEnabled(not on)
        self.stop_btn.setEnabled(on)

    def end_recording(self) -> None:
        self.record_btn.setChecked(False)

    def show_top5(self, top5: list[tuple[str, float]], filled_joints: int) -> None:
        """The recognised actions of the last window, one grid row each, and how many joints were filled."""
        self.last_top5 = list(top5)
        for i, (name, prob) in enumerate(zip(self.top_names, self.top_probs, strict=True)):
            n, p = top5[i] if i < len(top5) else ("", None)
            name.setText(n)
            prob.setText("" if p is None else f"{100 * p:5.1f} %")
        self.filled_note.setText(f"{filled_joints} joint positions reconstructed in the last window")
