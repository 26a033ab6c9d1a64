"""Playback clock: advances the state's frame at 30 fps × speed, looping over the in/out range."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from app.state import FPS, AppState


class Player(QObject):
    playing_changed = Signal(bool)
    TICK_MS = 15  # timer interval; frames advance by elapsed time, so the rate does not depend on it

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.speed = 1.0
        self.loop = True
        self._timer = QTimer(self)
        self._timer.setInterval(self.TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._acc = 0.0

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def set_speed(self, speed: float) -> None:
        if not 0.25 <= speed <= 4.0:
            raise ValueError(f"speed {speed} outside 0.25–4")
        self.speed = float(speed)

    def set_playing(self, on: bool) -> None:
        if on == self.playing or self.state.sequence is None:
            return
        if on:
            a, b = self.state.in_out
            if not a <= self.state.frame < b:
                self.state.set_frame(a)
            self._last, self._acc = time.perf_counter(), 0.0
            self._timer.start()
        else:
            self._timer.stop()
        self.playing_changed.emit(on)

    def toggle(self) -> None:
        self.set_playing(not self.playing)

    def step(self, delta: int) -> None:
        self.set_playing(False)
        self.state.set_frame(self.state.frame + delta)

    def _tick(self) -> None:
        now = time.perf_counter()
        self._acc += (now - self._last) * FPS * self.speed
        self._last = now
        n = int(self._acc)
        if n == 0:
            return
        self._acc -= n
        a, b = self.state.in_out
        f = self.state.frame + n
        if f >= b:
            if self.loop:
                f = a + (f - a) % max(b - a, 1)
            else:
                self.state.set_frame(b - 1)
                self.set_playing(False)
                return
        self.state.set_frame(f)
