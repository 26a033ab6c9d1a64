"""Cyclic garbage is freed in the GUI thread only: a worker thread that allocates (a model loading) never
finalises objects, such as closed windows' Qt objects, that the GUI thread left in reference cycles."""

from __future__ import annotations

import gc
import threading

import pytest

from app.workers.jobs import Job


class Cycle:
    """An object in a reference cycle that records the thread it is finalised in."""

    def __init__(self, record: list[str]) -> None:
        self.me = self
        self.record = record

    def __del__(self) -> None:
        self.record.append(threading.current_thread().name)


@pytest.mark.slow
def test_worker_allocations_leave_cycles_to_the_gui_thread(qtbot, gui_thread_gc):
    assert not gc.isenabled()
    gc.collect()
    record: list[str] = []
    Cycle(record)  # garbage at once, but only a cycle collection can free it

    def allocate(_progress) -> int:  # far past generation 0's threshold, as loading a model is
        keep = [[i] for i in range(50 * gc.get_threshold()[0])]
        return len(keep)

    job = Job(allocate)
    job.start()
    assert job.wait(30_000)
    assert record == []  # the worker did not collect
    more = [[i] for i in range(2 * gc.get_threshold()[0])]  # the GUI thread allocates past the threshold...
    qtbot.waitUntil(lambda: bool(record), timeout=5_000)  # ... and its timer collects
    del more
    assert record == [threading.main_thread().name]


@pytest.mark.slow
def test_stop_gives_collection_back(qapp):
    from app.appsetup import GuiThreadGarbageCollector

    before = gc.isenabled()
    collector = GuiThreadGarbageCollector()
    assert not gc.isenabled()
    collector.stop()
    assert gc.isenabled() == before
