"""Dialogs: errors (never a traceback), model information, keyboard reference."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QPlainTextEdit, QVBoxLayout, QWidget

SHORTCUTS = (
    ("Ctrl+O", "Open a .skeleton file"),
    ("Ctrl+B", "Browse a folder or prepared dataset (filter by setup, camera, performer, replication, action)"),
    ("Ctrl+Shift+O", "Open a checkpoint"),
    ("Ctrl+E", "Export the reconstruction (.skeleton / .npy)"),
    ("Ctrl+Q", "Quit"),
    ("Space", "Play / pause"),
    ("Left / Right", "Previous / next frame"),
    ("Shift+Left / Shift+Right", "Back / forward 10 frames"),
    ("Home / End", "First / last frame"),
    ("[ / ]", "Slower / faster playback"),
    ("I / O", "Set the in / out point at the current frame"),
    ("M", "Toggle the mask of the picked joint in this frame"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo a mask edit"),
    ("R", "Reconstruct and classify"),
    ("Esc", "Cancel inference"),
    ("F", "Fit the view to the skeleton"),
    ("1 / 2 / 3", "Front / side / top view"),
    ("C", "Cycle compare mode (side by side, overlay, single)"),
    ("L", "Link / unlink the two views' cameras"),
    ("G", "Show / hide the original, faded, behind the reconstruction"),
    ("F1", "This keyboard reference"),
)


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.critical(parent, title, message)


def keyboard_reference_text() -> str:
    width = max(len(k) for k, _ in SHORTCUTS)
    return "\n".join(f"{k.ljust(width)}   {v}" for k, v in SHORTCUTS)


class TextDialog(QDialog):
    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(560, 480)
        col = QVBoxLayout(self)
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        font = self.text.font()
        font.setFamily("monospace")
        self.text.setFont(font)
        col.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)


def model_info_text(info: dict) -> str:
    """Human summary of a checkpoint: path, data, device, classes, then its config."""
    lines = [
        f"checkpoint: {info.get('path', '?')}",
        f"dataset: {info.get('dataset', '?')}",
        f"epochs: {info.get('epochs', '?')}",
        f"device: {info.get('device', '?')}",
        f"layout: {info.get('layout', '?')} ({info.get('num_joints', '?')} joints), "
        f"{info.get('num_persons', '?')} persons, window {info.get('num_frames', '?')} frames",
        f"reconstructs: {info.get('can_reconstruct')}, classifies: {info.get('can_classify')}",
        f"metrics: {json.dumps(info.get('metrics', {}))}",
        "",
    ]
    names = info.get("class_names", [])
    if info.get("can_classify", True) and names:
        lines.append(f"{len(names)} classes:")
        lines += [f"  {i + 1:3d}  {n}" for i, n in enumerate(names)]
    else:
        lines.append("classes: none (a pretraining checkpoint: it reconstructs, it does not classify)")
    lines += ["", "config:", json.dumps(info.get("config", {}), indent=2)]
    return "\n".join(lines)
