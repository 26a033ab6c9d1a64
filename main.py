"""DCMAE Studio.

`python main.py [FILES] [--checkpoint PT] [--screenshot OUT.png [--mask SPEC] [--reconstruct] [--frame N]]`
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SAMPLES = ROOT / "assets" / "samples"
log = logging.getLogger("dcmae_studio")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="main.py", description="DCMAE Studio: view, occlude, reconstruct skeletons.")
    p.add_argument("files", nargs="*", help=".skeleton files to open (default: a bundled sample)")
    p.add_argument("--checkpoint", help="checkpoint to load (default: the last used, else the demo)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1, ...")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the state to a PNG and exit")
    p.add_argument(
        "--mask",
        help="with --screenshot: a body part (left-arm, ...), a ratio r, 'pretrain' or an "
        "occlusion pattern (limb_span, lower_body, ...; docs/occlusion.md)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of random masks and sampling")
    p.add_argument("--reconstruct", action="store_true", help="--screenshot: reconstruct first")
    p.add_argument("--compare", default="side by side", help="'side by side', 'overlay' or 'single'")
    p.add_argument("--size", default="1400x900", help="window size for --screenshot, WxH (the PNG's size)")
    p.add_argument("--frame", type=int, default=None, help="--screenshot: show this frame (1-based)")
    p.add_argument("--no-gl", action="store_true", help="use the 2D projection view instead of OpenGL")
    p.add_argument(
        "--browse",
        metavar="DIR_OR_NPZ",
        help="list a folder of .skeleton files, a prepared dataset or an .npz in the Browser dock",
    )
    return p.parse_args(argv)


def bundled_sample() -> Path | None:
    files = sorted(SAMPLES.glob("*.skeleton"))
    return files[0] if files else None


async def _startup(win, args: argparse.Namespace) -> int:
    """Open files and the model; in screenshot mode, build the state, save the PNG and return a code."""
    from app.workers.inference import default_checkpoint_path

    files = args.files or ([str(bundled_sample())] if bundled_sample() else [])
    opened = [f for f in files if win.open_path(f)]
    if args.browse:
        win.browse(args.browse)
    ckpt = args.checkpoint or win.settings.value("last_checkpoint") or None
    if ckpt and not Path(str(ckpt)).is_file() and not args.checkpoint:
        ckpt = None
    want_model = not args.screenshot or args.reconstruct
    if want_model and (ckpt or default_checkpoint_path()):
        await win.start_checkpoint(str(ckpt) if ckpt else None)
    if not args.screenshot:
        return 0
    if not opened:
        print(
            f"--screenshot: no file could be opened ({files or 'no file given and no bundled sample'})", file=sys.stderr
        )
        return 1
    if args.mask and not win.controller.mask_spec(args.mask, args.seed):
        return 1
    win.set_compare_mode(args.compare)
    if args.reconstruct:
        if win.service.predictor is None:
            print("--reconstruct: no model (give --checkpoint PATH)", file=sys.stderr)
            return 1
        if not await win.start_inference(seed=args.seed):
            return 1
    if args.frame is not None:
        win.state.set_frame(args.frame - 1)
    for _ in range(5):
        await asyncio.sleep(0.05)
    img = win.grab().toImage()
    if not img.save(args.screenshot):
        print(f"could not write {args.screenshot}", file=sys.stderr)
        return 1
    print(f"saved {args.screenshot}")
    return 0


def no_display() -> str:
    """A one-line reason when Qt has no screen to open a window on (Linux without X11 or Wayland), else ""."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return ""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return ""
    return (
        "no display: DCMAE Studio needs a desktop session (DISPLAY or WAYLAND_DISPLAY); on a headless "
        "machine run it under Xvfb: xvfb-run -a .venv/bin/python main.py"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reason = no_display()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    import qasync
    from PySide6.QtCore import QCoreApplication, QSize, Qt
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.appsetup import GuiThreadGarbageCollector, apply_dark_theme, install_excepthook
    from app.main_window import MainWindow

    # GL views share one resource group, so pyqtgraph's cached shader programs stay valid in each
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("DCMAE")
    app.setApplicationName("DCMAE Studio")
    apply_dark_theme(app)
    collector = GuiThreadGarbageCollector(app)  # cycles holding Qt objects are freed here, never in a worker
    app.aboutToQuit.connect(collector.stop)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    win = MainWindow(prefer_gl=not args.no_gl, device=args.device)
    code = 0
    if args.screenshot:
        # errors become messages on stderr, not dialogs that would wait for a click
        win.controller.error.disconnect()
        win.controller.error.connect(lambda title, msg: print(f"{title}: {msg}", file=sys.stderr))
        w, h = (int(x) for x in args.size.lower().split("x"))
        win.save_layout_on_close = False  # a screenshot leaves the user's saved layout alone
        win.reset_layout(QSize(w, h))  # the default arrangement at exactly w×h, whatever was saved
        least = win.minimumSizeHint()
        if w < least.width() or h < least.height():  # the PNG would not be w×h
            print(f"--size {w}x{h}: the smallest window is {least.width()}x{least.height()}", file=sys.stderr)
            win.service.shutdown()
            return 1
        win.show()
        with loop:
            code = loop.run_until_complete(_startup(win, args))
        win.close()
        return code
    install_excepthook()
    win.show()
    with loop:
        task = loop.create_task(_startup(win, args))
        task.add_done_callback(lambda t: t.exception() and QMessageBox.critical(win, "Start-up", str(t.exception())))
        app.aboutToQuit.connect(win.service.shutdown)
        loop.run_forever()
    return code


if __name__ == "__main__":
    sys.exit(main())
