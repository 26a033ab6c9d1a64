"""Menus, actions and keyboard shortcuts of the main window."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from app import export
from app.render import SOURCES
from app.views.base import PRESETS
from app.widgets.dialogs import TextDialog, keyboard_reference_text, model_info_text, show_error
from app.widgets.timeline import SPEEDS

if TYPE_CHECKING:
    from app.main_window import MainWindow

SKELETON_FILTER = (
    "Skeleton files (*.skeleton *.json *.mat *.csv);;NTU skeleton (*.skeleton);;"
    "NW-UCLA JSON (*.json);;UTD-MHAD MATLAB (*.mat);;Kinder-Gator CSV (*.csv);;All files (*)"
)


class Menus:
    def __init__(self, win: MainWindow) -> None:
        self.win = win
        bar = win.menuBar()
        self.actions: dict[str, QAction] = {}
        f = bar.addMenu("&File")
        self._add(f, "open", "&Open skeleton…", "Ctrl+O", self.open_dialog)
        self.recent = f.addMenu("Open &recent")
        self._add(f, "browse", "&Browse folder or prepared dataset…", "Ctrl+B", self.browse_dialog)
        self._add(f, "browse_npz", "Browse &.npz dataset…", None, self.browse_npz_dialog)
        self._add(f, "open_ckpt", "Open &checkpoint…", "Ctrl+Shift+O", self.checkpoint_dialog)
        f.addSeparator()
        self._add(f, "export", "&Export reconstruction (.skeleton / .npy)…", "Ctrl+E", self.export_dialog)
        self._add(f, "save_mask", "Save mask (JSON)…", None, self.save_mask_dialog)
        self._add(f, "load_mask", "Load mask (JSON)…", None, self.load_mask_dialog)
        png = f.addMenu("Save &PNG of this frame")  # the pane's source is chosen, not taken from the left pane
        movie = f.addMenu(
            "Save &GIF / MP4 of the in/out range" if export.mp4_available() else "Save &GIF of the in/out range"
        )
        for src in SOURCES:
            self._add(png, f"png_{src}", f"{src}…", None, lambda s=src: self.png_dialog(s))
            self._add(movie, f"movie_{src}", f"{src}…", None, lambda s=src: self.movie_dialog(s))
        self._add(f, "filmstrip", "Save &filmstrip PNG…", None, self.filmstrip_dialog)
        f.addSeparator()
        self._add(f, "quit", "&Quit", "Ctrl+Q", win.close)
        st, c = win.state, win.controller
        e = bar.addMenu("&Edit")
        self._add(e, "undo", "&Undo mask edit", "Ctrl+Z", st.undo)
        self._add(e, "redo", "&Redo mask edit", "Ctrl+Shift+Z", st.redo)
        self._add(e, "toggle", "Toggle picked joint (this frame)", "M", lambda: c.toggle_selected(False))
        self._add(e, "clear", "Clear mask", None, c.clear_mask)
        self._add(e, "invert", "Invert mask", None, c.invert_mask)
        v = bar.addMenu("&View")
        for i, name in enumerate(PRESETS):
            if i < 3:
                self._add(
                    v,
                    f"preset_{name}",
                    f"{name.capitalize()} view",
                    str(i + 1),
                    lambda n=name: [view.set_preset(n) for view in win.views],
                )
        self._add(v, "fit", "&Fit to skeleton", "F", lambda: [view.fit() for view in win.views])
        self._add(v, "compare", "Cycle &compare mode", "C", self.cycle_compare)
        err = self._add(v, "error_colors", "Colour reconstruction by &error", None, st.set_error_colors)
        err.setCheckable(True)
        err.setChecked(True)
        ghost = self._add(
            v, "ghost_original", "&Ghost of the original in the reconstruction", "G", st.set_ghost_original
        )
        ghost.setCheckable(True)
        link = self._add(v, "link_cameras", "&Link cameras", "L", lambda _on: None)  # the window follows it
        link.setCheckable(True)
        link.setChecked(True)
        link.setToolTip("Orbiting, panning or zooming one view moves the other the same way")
        self.bodies = v.addMenu("&Bodies")
        v.addSeparator()
        self._add(v, "reset_layout", "&Reset layout", None, win.reset_layout)
        p = bar.addMenu("&Playback")
        pl = win.player
        self._add(p, "play", "Play / pause", "Space", pl.toggle)
        self._add(p, "prev", "Previous frame", "Left", lambda: pl.step(-1))
        self._add(p, "next", "Next frame", "Right", lambda: pl.step(1))
        self._add(p, "back10", "Back 10 frames", "Shift+Left", lambda: pl.step(-10))
        self._add(p, "fwd10", "Forward 10 frames", "Shift+Right", lambda: pl.step(10))
        self._add(p, "first", "First frame", "Home", lambda: win._seek(0))
        self._add(p, "last", "Last frame", "End", lambda: win._seek(10**9))
        self._add(p, "slower", "Slower", "[", lambda: self.change_speed(-1))
        self._add(p, "faster", "Faster", "]", lambda: self.change_speed(1))
        self._add(p, "set_in", "Set in point", "I", win.timeline.set_in_requested.emit)
        self._add(p, "set_out", "Set out point", "O", win.timeline.set_out_requested.emit)
        m = bar.addMenu("&Model")
        self._add(m, "run", "&Reconstruct + classify", "R", lambda: win.inference_panel.run.click())
        self._add(m, "cancel", "&Cancel inference", "Esc", win.service.cancel)
        self._add(m, "info", "Model &information…", None, self.model_info)
        t = bar.addMenu("&Tools")
        self._add(t, "training", "&Training panel", "Ctrl+T", lambda: win.show_panel("Training"))
        self._add(t, "live", "&Live capture", "Ctrl+L", lambda: win.show_panel("Live"))
        h = bar.addMenu("&Help")
        self._add(h, "keys", "&Keyboard reference", "F1", self.keyboard_reference)
        self.update_recent()

    def _add(self, menu: QMenu, key: str, text: str, shortcut: str | None, slot) -> QAction:
        act = QAction(text, self.win)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(lambda checked=False, s=slot, a=act: s(checked) if a.isCheckable() else s())
        menu.addAction(act)
        self.actions[key] = act
        return act

    # dynamic menus ---------------------------------------------------------------------------------
    def update_recent(self) -> None:
        self.recent.clear()
        for path in self.win.recent_files():
            self.recent.addAction(path, lambda p=path: self.win.open_path(p))
        self.recent.setEnabled(bool(self.win.recent_files()))

    def update_bodies(self) -> None:
        self.bodies.clear()
        st = self.win.state
        if st.sequence is None:
            return
        for mm in range(st.sequence.num_persons):
            if not st.sequence.present[mm].any():
                continue
            act = self.bodies.addAction(f"Show body {mm + 1}")
            act.setCheckable(True)
            act.setChecked(bool(st.body_visible[mm]))
            act.toggled.connect(lambda on, i=mm: st.set_body_visible(i, on))

    def cycle_compare(self) -> None:
        box = self.win.compare_box
        box.setCurrentIndex((box.currentIndex() + 1) % box.count())

    def change_speed(self, delta: int) -> None:
        box = self.win.timeline.speed
        box.setCurrentIndex(int(np.clip(box.currentIndex() + delta, 0, len(SPEEDS) - 1)))

    # dialogs ---------------------------------------------------------------------------------------------
    def _default_dir(self) -> str:
        seq = self.win.state.sequence
        return str(Path(seq.path).parent) if seq is not None and seq.path else ""

    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.win, "Open skeleton files", self._default_dir(), SKELETON_FILTER)
        for path in paths:
            self.win.open_path(path)

    def browse_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self.win, "Browse a folder of skeleton files or a prepared dataset", self._default_dir()
        )
        if path:
            self.win.browse(path)

    def browse_npz_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.win, "Browse the field's .npz", self._default_dir(), "NumPy archives (*.npz)"
        )
        if path:
            self.win.browse(path)

    def checkpoint_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.win, "Open checkpoint", "", "Checkpoints (*.pt *.pth);;All (*)")
        if path:
            self.win.start_checkpoint(path)

    def _save_name(self, title: str, suffix: str, filt: str) -> str:
        seq = self.win.state.sequence
        if seq is None:
            show_error(self.win, title, "open a sequence first")
            return ""
        default = str(Path(self._default_dir() or ".") / f"{seq.name}{suffix}")
        path, _ = QFileDialog.getSaveFileName(self.win, title, default, filt)
        return path

    def export_dialog(self) -> None:
        path = self._save_name(
            "Export reconstruction", ".rec.skeleton", "NTU skeleton (*.skeleton);;NumPy array (*.npy)"
        )
        if path:
            self.win.controller.export_reconstruction(path)

    def save_mask_dialog(self) -> None:
        path = self._save_name("Save mask", ".mask.json", "Mask (*.json)")
        if path:
            self.win.controller.save_mask(path)

    def load_mask_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.win, "Load mask", self._default_dir(), "Mask (*.json)")
        if path:
            self.win.controller.load_mask(path)

    def _camera(self, source: str | None = None):
        """The camera and floor of the pane showing `source` (else the left pane's: linked, they are the same)."""
        panes = [p for p in (self.win.left, self.win.right) if p.isVisible() and p.view.source == source]
        view = panes[0].view if panes else self.win.active_view()
        if hasattr(view, "sync_camera_from_widget"):
            view.sync_camera_from_widget()
        return view, view.camera, view._floor

    def png_dialog(self, source: str) -> None:
        path = self._save_name(f"Save PNG of the {source} skeleton", f".{source}.png", "PNG (*.png)")
        if path:
            view, cam, floor = self._camera(source)
            size = (max(view.width(), 64), max(view.height(), 64))
            self.win.controller.save_png(path, source, cam, floor, size)

    def filmstrip_dialog(self) -> None:
        path = self._save_name("Save filmstrip", ".filmstrip.png", "PNG (*.png)")
        if path:
            a, b = self.win.state.in_out
            frames = sorted({int(f) for f in np.linspace(a, b - 1, 6).round()})
            _, cam, floor = self._camera()
            try:
                export.save_png(path, export.filmstrip(self.win.state, frames, cam, floor))
            except (ValueError, OSError) as exc:
                show_error(self.win, "Export failed", str(exc))
            else:
                self.win.statusBar().showMessage(f"saved {path}", 8000)

    def movie_dialog(self, source: str) -> None:
        filt = "GIF (*.gif);;MP4 video (*.mp4)" if export.mp4_available() else "GIF (*.gif)"
        path = self._save_name(f"Save the {source} skeleton as a movie", f".{source}.gif", filt)
        if path:
            _, cam, floor = self._camera(source)
            self.win.start_movie(path, source, cam, floor)

    def model_info(self) -> None:
        info = self.win.state.model_info
        if not info:
            show_error(self.win, "Model", "no model is loaded: Model → Open checkpoint…")
            return
        TextDialog("Model information", model_info_text(info), self.win).exec()

    def keyboard_reference(self) -> None:
        TextDialog("Keyboard reference", keyboard_reference_text(), self.win).exec()


def build_menus(win: MainWindow) -> Menus:
    return Menus(win)
