"""Qt fixtures for the app tests: one qasync loop, windows with throw-away settings, no blocking dialogs."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, Qt

# as in main.py: GL views in several windows share one resource group (pyqtgraph caches its shaders)
QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)


@pytest.fixture(scope="session")
def qloop(qapp):
    """The asyncio loop driven by Qt (qasync), as in main.py."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop


@pytest.fixture(scope="module", autouse=True)
def gui_thread_gc(qapp):
    """As in main.py: cyclic garbage (closed windows and their Qt objects) is freed in the GUI thread only."""
    from app.appsetup import GuiThreadGarbageCollector

    collector = GuiThreadGarbageCollector()
    yield collector
    collector.stop()


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Record error dialogs instead of showing them (a modal box would block the test)."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []

    def fake(_parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", fake)
    monkeypatch.setattr(QMessageBox, "warning", fake)
    return shown


def make_window(qtbot, tmp_path, prefer_gl: bool):
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, prefer_gl=prefer_gl, device="cpu")
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def window(qtbot, tmp_path, qloop):
    """Main window with the 2D views (fast; GL has its own tests)."""
    win = make_window(qtbot, tmp_path, prefer_gl=False)
    yield win
    win.service.shutdown()
    win.close()


@pytest.fixture
def gl_window(qtbot, tmp_path, qloop):
    win = make_window(qtbot, tmp_path, prefer_gl=True)
    yield win
    win.service.shutdown()
    win.close()


class FakePredictor:
    """Duck-typed stand-in for dcmae_core.inference.Predictor with a controllable duration, for tests of
    the threading (progress, cancel, stale results). Fills removed joints with the origin."""

    def __init__(self, steps: int = 20, step_s: float = 0.01, fail: str | None = None) -> None:
        from dcmae_core.layout import NTU25

        self.layout = NTU25
        self.class_names = [f"class {i}" for i in range(12)]
        self.num_persons, self.num_frames, self.device = 2, 120, "cpu"
        self.info = {"path": "fake", "config": {}, "dataset": "none", "epochs": 0, "metrics": {}}
        self.steps, self.step_s, self.fail = steps, step_s, fail
        self.calls = 0

    def reconstruct(self, data, removed, method="one_step", num_steps=50, seed=0, progress=None, layout=None):
        self.calls += 1
        for i in range(self.steps):
            time.sleep(self.step_s)
            if progress is not None and progress((i + 1) / self.steps) is False:
                raise RuntimeError("Cancelled")
        if self.fail:
            raise ValueError(self.fail)
        out = np.array(data, dtype=np.float32)
        out[removed] = 0.0
        return out

    def classify(self, data, removed=None, layout=None):
        x = np.arange(12, dtype=np.float64) + (0 if removed is None else 3 * np.sin(np.arange(12)))
        e = np.exp(x - x.max())
        return e / e.sum()
