"""A QThread that runs one callable with progress / result / error / cancel, awaited as a Future."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

log = logging.getLogger(__name__)

Progress = Callable[[float], bool]  # fraction in [0, 1] -> False to stop


class JobCancelled(Exception):
    """The user cancelled the job."""


class JobFailed(Exception):
    """The job raised; the message is the error's text (the traceback goes to the log)."""


def plain_message(exc: BaseException) -> str:
    """What a failed job tells the user. The project raises ValueError / OSError / RuntimeError with a message that
    names the problem; anything else is a defect, said so in words, never a bare exception name."""
    text = str(exc).strip()
    if isinstance(exc, ValueError | OSError | RuntimeError) and text:
        return text
    detail = f" ({type(exc).__name__}: {text})" if text else f" ({type(exc).__name__})"
    return f"an unexpected error stopped the work{detail}. The log has the details; please report it."


class Job(QThread):
    """Runs `fn(progress)` in its own thread. Signals arrive in the thread that owns the receiver."""

    progressed = Signal(float)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, fn: Callable[[Progress], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._cancel = False

    def cancel(self) -> None:
        """Ask the job to stop at its next progress report."""
        self._cancel = True

    @property
    def cancel_requested(self) -> bool:
        return self._cancel

    def _progress(self, fraction: float) -> bool:
        self.progressed.emit(float(fraction))
        return not self._cancel

    def run(self) -> None:  # QThread override, runs in the worker thread
        try:
            out = self._fn(self._progress)
        except BaseException as exc:  # everything must reach the GUI as a message
            if self._cancel:
                self.cancelled.emit()
            else:
                log.error("job failed:\n%s", traceback.format_exc())
                self.failed.emit(plain_message(exc))
            return
        if self._cancel:
            self.cancelled.emit()
        else:
            self.succeeded.emit(out)


class JobRunner(QObject):
    """Starts one job at a time and resolves an asyncio Future from its signals (in the GUI thread)."""

    progress = Signal(float)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: Job | None = None
        self._future: asyncio.Future | None = None

    @property
    def busy(self) -> bool:
        return self._job is not None

    def start(self, fn: Callable[[Progress], object]) -> asyncio.Future:
        """Run fn in a new thread; the Future resolves to its result, JobFailed or JobCancelled."""
        if self._job is not None:
            raise RuntimeError("a job is already running; cancel it or wait for it")
        loop = asyncio.get_event_loop()
        self._future = loop.create_future()
        job = Job(fn)
        queued = Qt.ConnectionType.QueuedConnection
        job.progressed.connect(self._on_progress, queued)
        job.succeeded.connect(self._on_success, queued)
        job.failed.connect(self._on_failure, queued)
        job.cancelled.connect(self._on_cancel, queued)
        self._job = job
        self.busy_changed.emit(True)
        job.start()
        return self._future

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel and wait for the thread (call on close and in test teardown)."""
        job = self._job
        if job is not None:
            job.cancel()
            job.wait(timeout_ms)
            self._finish(lambda f: f.set_exception(JobCancelled("cancelled: the window closed")))

    def _finish(self, resolve: Callable[[asyncio.Future], None]) -> None:
        if self._job is None:  # already finished (e.g. by shutdown); a late signal
            return
        job, fut = self._job, self._future
        self._job = self._future = None
        if job is not None:
            job.wait()
            job.deleteLater()
        if fut is not None and not fut.done():
            resolve(fut)
        self.busy_changed.emit(False)

    @Slot(float)
    def _on_progress(self, fraction: float) -> None:
        self.progress.emit(fraction)

    @Slot(object)
    def _on_success(self, out: object) -> None:
        self._finish(lambda f: f.set_result(out))

    @Slot(str)
    def _on_failure(self, message: str) -> None:
        self._finish(lambda f: f.set_exception(JobFailed(message)))

    @Slot()
    def _on_cancel(self) -> None:
        self._finish(lambda f: f.set_exception(JobCancelled("cancelled")))
