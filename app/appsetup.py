"""Process-wide set-up: dark theme, uncaught exceptions shown as dialogs instead of crashing, and cyclic
garbage collected only in the GUI thread."""

from __future__ import annotations

import gc
import logging
import sys
import traceback

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger(__name__)


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    pal = QPalette()
    base, window, text = QColor(30, 32, 37), QColor(42, 44, 50), QColor(225, 225, 228)
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.Highlight, QColor(40, 120, 200)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, QColor(90, 170, 255)),
    ):
        pal.setColor(role, color)
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 120, 125))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 120, 125))
    app.setPalette(pal)


def install_excepthook() -> None:
    """Log uncaught exceptions with their traceback and show only the message in a dialog."""

    def hook(exc_type, exc, tb) -> None:
        log.error("uncaught exception:\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        if QApplication.instance() is not None:
            QMessageBox.critical(
                None,
                "Unexpected error",
                f"{exc_type.__name__}: {exc}\n\nThe details are in the log; the app keeps running.",
            )

    sys.excepthook = hook


class GuiThreadGarbageCollector(QObject):
    """Python's cyclic garbage collector, run only in the GUI thread.

    Automatic collection runs in whichever thread happens to allocate when a threshold is crossed: a worker
    thread loading a model allocates a great deal, and so finalises cycles holding Qt objects (closed windows,
    their timers and connections) there. Destroying a Qt object outside its thread can deadlock with the GUI
    thread, which then waits forever for the interpreter lock the worker holds (seen as an app that freezes
    while a checkpoint loads). Here automatic collection is off and a timer in the GUI thread collects with
    the same thresholds and generations as Python would. `stop` puts automatic collection back."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 500) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        gc.disable()
        self._timer.start()

    def collect_due(self) -> int:
        """Collect the generations whose thresholds are crossed, as automatic collection would; returns the
        number of unreachable objects found."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        gen = -1
        for g in range(3):  # the oldest generation due whose younger ones are due too, as Python picks it
            if not counts[g] > thresholds[g] > 0:
                break
            gen = g
        return gc.collect(gen) if gen >= 0 else 0

    def stop(self) -> None:
        """Collect once more here and give collection back to Python (as it was before)."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
