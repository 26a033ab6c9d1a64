"""Main window: two synchronised skeleton views, timeline, occlusion editor, inference and results docks."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import core_bridge, docking, render
from app.controller import Controller
from app.live_controller import LiveController
from app.menus import build_menus
from app.playback import Player
from app.state import AppState
from app.training_controller import TrainingController
from app.views import SkeletonViewBase, create_view
from app.views.base import error_vmax
from app.views.projection_view import BACKGROUND as VIEW_BACKGROUND
from app.widgets.browser import BrowserPanel
from app.widgets.dialogs import show_error
from app.widgets.elided import ElidedLabel
from app.widgets.inference_panel import InferencePanel
from app.widgets.live_panel import LivePanel
from app.widgets.mask_editor import MaskEditor
from app.widgets.results import ColorBar, ResultsPanel
from app.widgets.timeline import TimelineWidget
from app.widgets.training_panel import TrainingPanel
from app.workers.inference import InferenceService
from app.workers.live import LiveSession, ntu25_layout_info
from app.workers.training import available_presets

log = logging.getLogger(__name__)
MAX_RECENT = 10
COMPARE_MODES = ("side by side", "overlay", "single")


class ViewPane(QWidget):
    """A view with a source selector and, for reconstructions, the error colour bar."""

    def __init__(self, view: SkeletonViewBase, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        view.state.reconstruction_changed.connect(lambda: self._on_source(self.view.source))
        view.state.display_changed.connect(self._update_colorbar)  # error colouring switched on/off
        self.source = QComboBox()
        self.source.addItems(list(render.SOURCES))
        self.source.setCurrentText(view.source)
        self.source.currentTextChanged.connect(self._on_source)
        self.colorbar = ColorBar()
        keep = self.colorbar.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # the view keeps its size (and framing) when the bar appears
        self.colorbar.setSizePolicy(keep)
        head = QHBoxLayout()
        head.addWidget(QLabel("show"))
        head.addWidget(self.source)
        head.addStretch(1)
        body = QWidget()  # the view's background behind the colour bar's slot, so an empty slot looks like view
        body.setAutoFillBackground(True)
        pal = body.palette()
        pal.setColor(body.backgroundRole(), VIEW_BACKGROUND)
        body.setPalette(pal)
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(view, 1)
        row.addWidget(self.colorbar)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(head)
        col.addWidget(body, 1)
        self._on_source(view.source)

    def _on_source(self, source: str) -> None:
        self.view.set_source(source)
        self._update_colorbar()

    def _update_colorbar(self) -> None:
        st, source = self.view.state, self.view.source
        # the colour bar only where joints are coloured by error (not live: there is no ground truth)
        self.colorbar.setVisible(source == "reconstruction" and st.reconstruction is not None and st.error_colors)


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, prefer_gl: bool = True, device: str = "auto") -> None:
        super().__init__()
        self.setWindowTitle("DCMAE Studio")
        self.resize(docking.PREFERRED)
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else QSettings("DCMAE", "DCMAE Studio")
        self.save_layout_on_close = True  # off for --screenshot, which must not change the user's layout
        self.state = AppState()
        self.service = InferenceService(device=device, parent=self)
        self.controller = Controller(self.state, self.service, self)
        self.player = Player(self.state, self)
        self._task: asyncio.Future | None = None
        self.paths: list[str] = []  # files opened in this session (the sequence selector)

        self.left = ViewPane(create_view(self.state, "masked", prefer_gl))
        self.right = ViewPane(create_view(self.state, "reconstruction", prefer_gl))
        self.views = [self.left.view, self.right.view]
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left)
        self.splitter.addWidget(self.right)
        self.timeline = TimelineWidget(self.state)
        centre = QWidget()
        col = QVBoxLayout(centre)
        col.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        self.sequence_box = QComboBox()
        self.sequence_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sequence_box.setMinimumContentsLength(16)  # long names are elided in the box, listed in full
        self.sequence_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.sequence_box.activated.connect(lambda i: self.open_path(self.paths[i]))
        self.compare_box = QComboBox()
        self.compare_box.addItems(list(COMPARE_MODES))
        self.compare_box.currentTextChanged.connect(self.set_compare_mode)
        self.link_box = QCheckBox("link cameras")  # mirrors View → Link cameras (wired in _wire)
        self.link_box.setChecked(True)
        self.link_box.setToolTip("Orbiting, panning or zooming one view moves the other the same way (L)")
        self.title = ElidedLabel(
            "no sequence — File → Open, or drop a skeleton file (.skeleton, .json, .mat, .csv) here"
        )
        for w in (QLabel("sequence"), self.sequence_box, QLabel("compare"), self.compare_box, self.link_box):
            top.addWidget(w)
        top.addWidget(self.title, 1)
        col.addLayout(top)
        col.addWidget(self.splitter, 1)
        col.addWidget(self.timeline)
        self.setCentralWidget(centre)

        self.mask_editor = MaskEditor(self.state, patterns=core_bridge.occlusion_patterns())
        self.inference_panel = InferencePanel(self.state)
        self.results = ResultsPanel(self.state)
        self.browser = BrowserPanel()  # shown when a folder or dataset is browsed
        # training and live capture: hidden until asked for (Tools menu)
        self.training_controller = TrainingController(self)
        self.training_panel = TrainingPanel(available_presets())
        self.training_controller.attach(self.training_panel)
        self.live_session = LiveSession(self)
        self.live_controller = LiveController(
            self.state, self.live_session, lambda: self.service.predictor, layout_info=ntu25_layout_info(), parent=self
        )
        self.live_panel = LivePanel()
        self.live_controller.attach(self.live_panel)
        self.docks = {
            name: docking.make_dock(self, name, widget)
            for name, widget in (
                ("Occlusion", self.mask_editor),
                ("Inference", self.inference_panel),
                ("Results", self.results),
                ("Browser", self.browser),
                ("Live", self.live_panel),
                ("Training", self.training_panel),
            )
        }
        for name in ("Browser", "Live", "Training"):
            self.docks[name].hide()
        docking.arrange(self, self.docks, self.size(), docking.available_geometry(self))
        self.export_progress = QProgressBar()  # in the status bar while a movie is drawn and encoded
        self.export_progress.setRange(0, 1000)
        self.export_progress.setMaximumWidth(160)
        self.export_progress.setFormat("saving %p %")
        self.export_progress.hide()
        self.statusBar().addPermanentWidget(self.export_progress)
        self.menus = build_menus(self)
        self.link_cameras = self.menus.actions["link_cameras"]
        self._wire()
        self._restore_layout()

    # wiring ---------------------------------------------------------------------------------------
    def _wire(self) -> None:
        c, st, tl = self.controller, self.state, self.timeline
        c.error.connect(lambda title, msg: show_error(self, title, msg))
        c.status.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        c.file_opened.connect(self._on_file_opened)
        c.exports.busy_changed.connect(self.export_progress.setVisible)
        c.exports.progress.connect(lambda f: self.export_progress.setValue(int(round(1000 * f))))
        self.browser.open_requested.connect(self.open_entry)
        self.browser.browse_requested.connect(self.menus.browse_dialog)
        for v in self.views:
            v.joint_picked.connect(st.select)
        tl.bar.seek_requested.connect(self._seek)
        tl.bar.range_selected.connect(lambda a, b: st.set_in_out(a, b))
        tl.step_requested.connect(self.player.step)
        tl.play_toggled.connect(self.player.set_playing)
        tl.speed_changed.connect(self.player.set_speed)
        tl.loop_toggled.connect(lambda on: setattr(self.player, "loop", on))
        tl.set_in_requested.connect(lambda: st.set_in_out(st.frame, st.in_out[1]))
        tl.set_out_requested.connect(lambda: st.set_in_out(st.in_out[0], st.frame + 1))
        self.player.playing_changed.connect(tl.set_playing)
        me = self.mask_editor
        me.toggle_joint_requested.connect(c.toggle_selected)
        me.parts_requested.connect(c.mask_parts)
        me.pretrain_requested.connect(c.mask_pretrain)
        me.missing_requested.connect(c.mask_missing)
        me.pattern_requested.connect(c.mask_pattern)
        me.clear_requested.connect(c.clear_mask)
        me.invert_requested.connect(c.invert_mask)
        me.undo_requested.connect(st.undo)
        me.redo_requested.connect(st.redo)
        ip = self.inference_panel
        ip.run_requested.connect(lambda m, n, s: self.start_inference(m, n, s))
        ip.cancel_requested.connect(self.service.cancel)
        self.service.busy_changed.connect(ip.set_busy)
        self.service.progress.connect(ip.set_progress)
        c.status.connect(ip.status.setText)
        self.results.error_plot.seek_requested.connect(self._seek)
        st.reconstruction_changed.connect(self._on_reconstruction)
        st.sequence_changed.connect(self._on_sequence)
        self.training_panel.open_checkpoint_requested.connect(self.start_checkpoint)
        self.live_controller.fit_requested.connect(lambda: [v.fit() for v in self.views])
        self.live_controller.status_message.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self.link_box.toggled.connect(self.link_cameras.setChecked)
        self.link_cameras.toggled.connect(self.link_box.setChecked)
        self.link_cameras.toggled.connect(lambda on: on and self._camera_moved(self.left.view))
        for v in self.views:
            v.camera_changed.connect(lambda v=v: self._camera_moved(v))

    def _camera_moved(self, view: SkeletonViewBase) -> None:
        """With the cameras linked, the other view takes the camera the user just moved."""
        if not self.link_cameras.isChecked():
            return
        for other in self.views:
            if other is not view:
                other.set_camera(view.camera)

    def _seek(self, frame: int) -> None:
        self.player.set_playing(False)
        self.state.set_frame(frame)

    def _on_sequence(self) -> None:
        seq = self.state.sequence
        bodies = int(seq.present.any(axis=1).sum())
        self.title.setText(
            f"{seq.name} — {seq.title} · {seq.num_frames} frames · {bodies} {'body' if bodies == 1 else 'bodies'}"
        )
        self.setWindowTitle(f"DCMAE Studio — {seq.name}")
        self.menus.update_bodies()

    def _on_reconstruction(self) -> None:
        err = self.controller.frame_errors()
        self.results.error_plot.set_errors(err, self.controller.frame_errors(baseline=True))
        self.timeline.bar.set_frame_error(err)
        for pane in (self.left, self.right):
            pane.colorbar.set_vmax(error_vmax(self.state))

    def _on_file_opened(self, path: str) -> None:
        if path not in self.paths:
            self.paths.append(path)
            self.sequence_box.addItem(Path(path).name)
        self.sequence_box.setCurrentIndex(self.paths.index(path))
        recent = [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent_files", [path, *recent][:MAX_RECENT])
        self.menus.update_recent()

    # public API (menus, command line, tests) -------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def open_path(self, path: str | Path) -> bool:
        self.player.set_playing(False)
        return self.controller.open_path(path)

    def browse(self, path: str | Path) -> bool:
        """List a folder of skeleton files, a prepared dataset or an .npz in the Browser dock."""
        entries = self.controller.scan(path)
        if entries is None:
            return False
        self.browser.set_entries(str(path), entries)
        self.show_panel("Browser")
        return True

    def open_entry(self, entry) -> bool:
        self.player.set_playing(False)
        return self.controller.open_entry(entry)

    def set_compare_mode(self, mode: str) -> None:
        """'side by side' (masked | reconstruction), 'overlay' (one view), 'single' (one view, masked)."""
        if mode not in COMPARE_MODES:
            raise ValueError(f"unknown compare mode {mode!r}; one of {COMPARE_MODES}")
        if self.compare_box.currentText() != mode:
            self.compare_box.setCurrentText(mode)  # re-enters through the signal
            return
        self.right.setVisible(mode == "side by side")
        self.left.source.setCurrentText({"side by side": "masked", "overlay": "overlay", "single": "masked"}[mode])

    def start_inference(self, method: str = "one_step", num_steps: int = 50, seed: int = 0) -> asyncio.Future:
        """Schedule reconstruction + classification on the asyncio (qasync) loop; returns the task."""
        self._task = asyncio.ensure_future(self.controller.run_inference(method, num_steps, seed))
        return self._task

    def start_movie(self, path: str | Path, source: str, camera, floor: float) -> asyncio.Future:
        """Save the in/out range of `source` as a GIF / MP4 in a worker (progress in the status bar); the task."""
        self.export_progress.setValue(0)
        return asyncio.ensure_future(self.controller.export_movie(path, source, camera, floor))

    def start_checkpoint(self, path: str | None) -> asyncio.Future:
        async def load() -> bool:
            ok = await self.controller.load_checkpoint(path)
            if ok and path:
                self.settings.setValue("last_checkpoint", str(Path(path).resolve()))
            return ok

        self._task = asyncio.ensure_future(load())
        return self._task

    def active_view(self) -> SkeletonViewBase:
        return self.left.view

    # Qt events --------------------------------------------------------------------------------------------
    def dragEnterEvent(self, ev) -> None:  # Qt override
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:
        for url in ev.mimeData().urls():
            if not url.isLocalFile():
                continue
            path = url.toLocalFile()
            if path.endswith((".pt", ".pth", ".ckpt")):
                self.start_checkpoint(path)
            else:
                self.open_path(path)
        ev.acceptProposedAction()

    def _restore_layout(self) -> None:
        """The saved geometry and dock arrangement, shrunk to the screen; the default where none was saved
        or it came from an older arrangement (docking.LAYOUT_VERSION)."""
        geo, state = self.settings.value("window/geometry"), self.settings.value("window/state")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)  # before the state: the docks' sizes are relative to the window
        if not (isinstance(state, QByteArray) and self.restoreState(state, docking.LAYOUT_VERSION)):
            self.reset_layout()
        docking.fit_to_screen(self)

    def reset_layout(self, size: QSize | None = None) -> None:
        """View → Reset layout: the default dock arrangement and a window size that fits the screen (or
        `size`, client pixels, for --screenshot)."""
        avail = docking.available_geometry(self)
        if size is None and (self.isMaximized() or self.isFullScreen()):
            size = self.size()  # keep the window as it is; only the panels move
        fixed = size is not None
        if size is None:
            size = docking.default_size(avail.size() - docking.frame_extra(self))
        self.resize(size)
        docking.arrange(self, self.docks, size, avail)
        if not fixed:
            docking.fit_to_screen(self, avail)

    def show_panel(self, name: str) -> None:
        """Show and raise a dock ("Training", "Live", ...); a floating one is placed on the screen."""
        dock = self.docks[name]
        was_hidden = dock.isHidden()
        dock.show()
        dock.raise_()
        if dock.isFloating() and was_hidden:
            docking.place_floating(dock, docking.available_geometry(self))

    def closeEvent(self, ev) -> None:
        self.player.set_playing(False)
        self.live_controller.shutdown()
        self.training_controller.shutdown()
        self.service.shutdown()
        self.controller.exports.shutdown()
        if self.save_layout_on_close:
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/state", self.saveState(docking.LAYOUT_VERSION))
            self.settings.sync()
        super().closeEvent(ev)
