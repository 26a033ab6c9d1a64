"""GIF export of a whole clip: time to write it, and the largest event-loop gap while it is written in the worker
(the app) against writing it on the GUI thread (before issue 13).

    xvfb-run -a .venv/bin/python bench/bench_movie_export.py [FILE]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import export  # noqa: E402 - the app package names the Qt binding before qasync is imported
from app.main_window import MainWindow  # noqa: E402

DEFAULT_FILE = ROOT.parent / "shared" / "data" / "ntu_samples" / "S001C003P008R002A058.skeleton"


def main() -> None:
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FILE
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    tmp = tempfile.mkdtemp()
    win = MainWindow(settings=QSettings(f"{tmp}/s.ini", QSettings.Format.IniFormat), prefer_gl=False, device="cpu")
    win.save_layout_on_close = False
    win.show()
    win.open_path(path)
    view = win.left.view

    async def watched(coro_fn) -> tuple[float, float]:
        gaps, start = [], time.perf_counter()
        task = asyncio.ensure_future(coro_fn())
        last = time.perf_counter()
        while not task.done():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
        task.result()
        return time.perf_counter() - start, max(gaps, default=0.0)

    async def on_gui_thread() -> None:
        export.export_gif(
            f"{tmp}/a.gif", win.state, "masked", 0, win.state.sequence.num_frames, view.camera, view._floor
        )

    async def in_worker() -> None:
        assert await win.controller.export_movie(f"{tmp}/b.gif", "masked", view.camera, view._floor)

    async def run() -> None:
        n = win.state.sequence.num_frames
        for name, fn in (("GUI thread", on_gui_thread), ("worker", in_worker)):
            seconds, gap = await watched(fn)
            print(f"{path.name}, {n} frames, {name}: {seconds:.2f} s, largest event-loop gap {1000 * gap:.0f} ms")
        win.close()

    with loop:
        loop.run_until_complete(run())


if __name__ == "__main__":
    main()
