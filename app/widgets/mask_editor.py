"""Occlusion editor panel: picked joint info, body-part groups, seeded masks (named occlusion patterns, the
pretraining mask, missing joints), clear/invert/undo/redo."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.state import AppState


def _ratio_box(value: float, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, 1.0)
    box.setSingleStep(0.05)
    box.setDecimals(2)
    box.setValue(value)
    box.setToolTip(tip)
    return box


class MaskEditor(QWidget):
    toggle_joint_requested = Signal(bool)  # all frames?
    parts_requested = Signal(list, int, bool)  # group names, person (-1 = all), in/out range only
    pretrain_requested = Signal(float, float, int)  # Mt, Mj, seed
    missing_requested = Signal(float, int)  # r, seed
    pattern_requested = Signal(str, int)  # occlusion pattern text ('limb_span:1-1.5'), seed
    clear_requested = Signal()
    invert_requested = Signal()
    undo_requested = Signal()
    redo_requested = Signal()

    def __init__(self, state: AppState, patterns: dict[str, str] | None = None, parent: QWidget | None = None) -> None:
        """patterns: occlusion pattern name -> one-line description (the core's PATTERNS, given by the window)."""
        super().__init__(parent)
        self.state = state
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)

        joint_box = QGroupBox("Picked joint (click it in the view)")
        jl = QVBoxLayout(joint_box)
        self.joint_label = QLabel("none")
        self.joint_label.setWordWrap(True)
        jl.addWidget(self.joint_label)
        row = QHBoxLayout()
        self.toggle_frame = QPushButton("Toggle (frame) [M]")
        self.toggle_all = QPushButton("Toggle (all frames)")
        self.toggle_frame.clicked.connect(lambda: self.toggle_joint_requested.emit(False))
        self.toggle_all.clicked.connect(lambda: self.toggle_joint_requested.emit(True))
        row.addWidget(self.toggle_frame)
        row.addWidget(self.toggle_all)
        jl.addLayout(row)
        col.addWidget(joint_box)

        part_box = QGroupBox("Body parts")
        pl = QVBoxLayout(part_box)
        self.part_grid = QGridLayout()
        self.part_checks: dict[str, QCheckBox] = {}
        pl.addLayout(self.part_grid)
        prow = QHBoxLayout()
        self.person = QComboBox()
        self.person.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # "all bodies" in full
        self.person.setToolTip("Which body the parts are masked on")
        self.range_only = QCheckBox("in/out range only")
        self.range_only.setToolTip("Only frames of the in/out range (Shift+drag on the timeline sets it)")
        self.mask_parts = QPushButton("Mask parts")
        self.mask_parts.clicked.connect(self._emit_parts)
        for w in (self.person, self.range_only, self.mask_parts):
            prow.addWidget(w)
        pl.addLayout(prow)
        col.addWidget(part_box)

        rand_box = QGroupBox("Seeded masks")
        rand_box.setToolTip("The same seed gives the same mask as the CLI's --seed")
        form = QFormLayout(rand_box)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Same seed, same mask: pattern P with seed s is `reconstruct --mask P --seed s`")
        form.addRow("Seed", self.seed)
        self.pattern = QComboBox()
        for i, (name, text) in enumerate((patterns or {}).items()):
            self.pattern.addItem(name, name)
            self.pattern.setItemData(i, text, Qt.ItemDataRole.ToolTipRole)
        self.pattern_args = QLineEdit()
        self.pattern_args.setToolTip(
            "Optional arguments after the colon, e.g. 1-1.5 for limb_span:1-1.5 (empty = the pattern's defaults)"
        )
        self.pattern.currentIndexChanged.connect(self._on_pattern)
        self.apply_pattern = QPushButton("Apply pattern")
        self.apply_pattern.clicked.connect(lambda: self.pattern_requested.emit(self.pattern_text(), self.seed.value()))
        form.addRow("Pattern", self.pattern)
        form.addRow("Arguments", self.pattern_args)
        form.addRow(self.apply_pattern)
        self.mt = _ratio_box(0.5, "Mt: share of frames dropped (paper: 0.5)")
        self.mj = _ratio_box(0.4, "Mj: share of joints masked in each kept frame (paper: 0.4)")
        self.r = _ratio_box(0.1, "r: share of (frame, joint) entries missing (paper: 0.05, 0.10)")
        pre = QPushButton("Pretraining mask (Mt, Mj)")
        pre.clicked.connect(lambda: self.pretrain_requested.emit(self.mt.value(), self.mj.value(), self.seed.value()))
        ratios = QHBoxLayout()  # Mt and Mj on one row: the panel stays short enough for a laptop screen
        ratios.addWidget(self.mt, 1)
        ratios.addWidget(QLabel("Mj"))
        ratios.addWidget(self.mj, 1)
        form.addRow("Mt", ratios)
        form.addRow(pre)
        miss = QPushButton("Missing joints (r)")
        miss.clicked.connect(lambda: self.missing_requested.emit(self.r.value(), self.seed.value()))
        missing = QHBoxLayout()
        missing.addWidget(self.r, 1)
        missing.addWidget(miss, 2)
        form.addRow("r", missing)
        col.addWidget(rand_box)
        self._on_pattern()

        edit = QGridLayout()
        self.edit_buttons: dict[str, QPushButton] = {}
        for i, (key, text, sig) in enumerate(
            (
                ("clear", "Clear", self.clear_requested),
                ("invert", "Invert", self.invert_requested),
                ("undo", "Undo", self.undo_requested),
                ("redo", "Redo", self.redo_requested),
            )
        ):
            b = QPushButton(text)
            b.clicked.connect(sig)
            edit.addWidget(b, 0, i)
            self.edit_buttons[key] = b
        col.addLayout(edit)
        self.summary = QLabel()
        col.addWidget(self.summary)
        col.addStretch(1)

        state.sequence_changed.connect(self._on_sequence)
        state.mask_changed.connect(self._refresh)
        state.display_changed.connect(self._refresh)
        state.frame_changed.connect(self._refresh)
        self._refresh()

    def _on_sequence(self) -> None:
        seq = self.state.sequence
        for cb in self.part_checks.values():
            self.part_grid.removeWidget(cb)
            cb.deleteLater()
        self.part_checks.clear()
        for i, name in enumerate(seq.groups if seq else {}):
            cb = QCheckBox(name)
            self.part_grid.addWidget(cb, i // 2, i % 2)
            self.part_checks[name] = cb
        self.person.clear()
        self.person.addItem("all bodies", -1)
        if seq is not None:
            for m in range(seq.num_persons):
                if seq.present[m].any():
                    self.person.addItem(f"body {m + 1}", m)
        self._refresh()

    def pattern_text(self) -> str:
        """The chosen pattern with its arguments, as the CLI writes it ('limb_span' or 'limb_span:1-1.5')."""
        name = self.pattern.currentData() or ""
        args = self.pattern_args.text().strip()
        return f"{name}:{args}" if args else name

    def _on_pattern(self, *_args) -> None:
        tip = self.pattern.itemData(self.pattern.currentIndex(), Qt.ItemDataRole.ToolTipRole) or ""
        self.pattern.setToolTip(tip)
        self.pattern_args.clear()
        self.apply_pattern.setEnabled(self.pattern.count() > 0)

    def _emit_parts(self) -> None:
        names = [n for n, cb in self.part_checks.items() if cb.isChecked()]
        data = self.person.currentData()
        self.parts_requested.emit(names, -1 if data is None else int(data), self.range_only.isChecked())

    def _refresh(self, *_args) -> None:
        st = self.state
        seq = st.sequence
        self.edit_buttons["undo"].setEnabled(st.can_undo)
        self.edit_buttons["redo"].setEnabled(st.can_redo)
        has_joint = seq is not None and st.selected is not None
        self.toggle_frame.setEnabled(has_joint)
        self.toggle_all.setEnabled(has_joint)
        if seq is None:
            self.summary.setText("")
            self.joint_label.setText("none")
            return
        total = int(seq.present.sum()) * seq.num_joints
        n = int(st.mask.sum())
        self.summary.setText(f"masked {n} of {total} joint-frames ({100.0 * n / max(total, 1):.1f} %)")
        if has_joint:
            m, j = st.selected
            x, y, z = (float(c) for c in seq.data[m, st.frame, j])
            state_txt = "masked" if st.mask[m, st.frame, j] else "visible"
            self.joint_label.setText(
                f"body {m + 1}, joint {j + 1} (index {j}) “{seq.joint_names[j]}”\n"
                f"x {x:+.3f}  y {y:+.3f}  z {z:+.3f} m · {state_txt} "
                f"in frame {st.frame + 1}"
            )
        else:
            self.joint_label.setText("none")
