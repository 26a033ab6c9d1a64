"""Live skeleton sources: Lab Streaming Layer `Mocap` inlets and `.skeleton` replay (SPEC §5).

Every source yields `LiveFrame`s: xyz `(M, V, 3)` float32 camera-space metres (NTU-25 order), NaN where a
person is absent or a joint is not tracked. Sources never raise on a stream that stops or returns: they
say so in `status` and reconnect; `open` raises `LiveSourceError` with a clear message when it cannot start.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcmae_core.layout import NTU25, Layout

log = logging.getLogger(__name__)

STREAM_TYPE = "Mocap"  # LSL stream type of skeleton streams (what Kinect / mocap bridges publish)
RECONNECT_EVERY_S = 0.5  # seconds between attempts to find a lost stream again


class LiveSourceError(RuntimeError):
    """A source that cannot be opened or read; the message names the source and the problem."""


class StreamAbsentError(LiveSourceError):
    """The stream is not there: not found, or it went away or did not answer while connecting. A running
    source keeps waiting for it to return; other LiveSourceErrors (wrong channels) need the user."""


@dataclass
class LiveFrame:
    xyz: np.ndarray  # (M, V, 3) float32 metres, camera space; NaN = absent person / joint not tracked
    timestamp: float  # seconds, capture time on the source's clock
    latency: float  # seconds from capture to arrival here (LSL clock-corrected; replay: scheduling delay)
    received: float  # time.perf_counter() when it arrived here


@dataclass
class StreamDescription:
    name: str
    type: str
    channel_count: int
    rate: float  # nominal frames per second (0 = irregular)
    source_id: str
    hostname: str

    def spec(self) -> str:
        return f"lsl:{self.name}"


def channel_labels(layout: Layout = NTU25, num_persons: int = 2) -> list[str]:
    """Channel labels in stream order: person after person, joint after joint, x y z (e.g. p1_spine_base_x)."""
    return [
        f"p{m + 1}_{name.replace(' ', '_')}_{axis}"
        for m in range(num_persons)
        for name in layout.joint_names
        for axis in "xyz"
    ]


def mocap_stream_info(
    name: str, num_persons: int = 2, layout: Layout = NTU25, rate: float = 30.0, source_id: str | None = None
):
    """A pylsl.StreamInfo of type Mocap with the SPEC §5 channel layout and labels (for bridges and tests)."""
    import pylsl

    n = num_persons * layout.num_joints * 3
    info = pylsl.StreamInfo(name, STREAM_TYPE, n, rate, "float32", source_id or f"dcmae-{name}")
    chans = info.desc().append_child("channels")
    for label in channel_labels(layout, num_persons):
        ch = chans.append_child("channel")
        ch.append_child_value("label", label)
        ch.append_child_value("unit", "metres")
        ch.append_child_value("type", "Position")
    info.desc().append_child_value("layout", layout.name)
    return info


def list_lsl_streams(timeout: float = 1.0, stream_type: str | None = STREAM_TYPE) -> list[StreamDescription]:
    """The LSL streams visible on the network within `timeout` seconds (of `stream_type`, None = all).

    Waits the whole `timeout` so that every stream can answer (`resolve_byprop` returns at the first one)."""
    import pylsl

    found = [s for s in pylsl.resolve_streams(wait_time=timeout) if stream_type is None or s.type() == stream_type]
    return [
        StreamDescription(s.name(), s.type(), s.channel_count(), s.nominal_srate(), s.source_id(), s.hostname())
        for s in found
    ]


class LiveSource:
    """Base of every source: open / read / close, a human `status`, and a `description`."""

    description = "source"
    layout: Layout = NTU25  # the skeleton the source delivers (the recogniser maps it onto the model's)

    def __init__(self) -> None:
        self.status = "not started"
        self.finished = False  # True when a finite source (replay) has nothing more to give

    def open(self) -> None:
        raise NotImplementedError

    def read(self, timeout: float = 0.1) -> list[LiveFrame]:
        """The frames that arrived since the last call; waits at most `timeout` seconds for the first."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> LiveSource:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _label_order(labels: list[str], expected: list[str]) -> np.ndarray | None:
    """Index array taking the stream's channels into the expected order, or None when they already match
    (or carry no labels). Raises LiveSourceError when labels are given but are not the expected ones."""
    if not any(labels) or labels == expected:
        return None
    where = {lab.lower(): i for i, lab in enumerate(labels)}
    if len(where) == len(expected) and all(e in where for e in expected):
        return np.asarray([where[e] for e in expected], dtype=np.int64)
    raise LiveSourceError(
        f"the stream's channel labels ({labels[0]}, {labels[1]}, ...) are not the NTU-25 "
        f"labels ({expected[0]}, {expected[1]}, ...) in any order"
    )


class LSLSource(LiveSource):
    """An inlet on the LSL stream called `name` (type Mocap, M × V × 3 float channels, SPEC §5)."""

    def __init__(self, name: str, layout: Layout = NTU25, resolve_timeout: float = 2.0, stall_s: float = 1.0) -> None:
        super().__init__()
        if not name:
            raise LiveSourceError("an LSL source needs a stream name (lsl:NAME)")
        self.name, self.layout = name, layout
        self.description = f"LSL stream {name!r}"
        self.resolve_timeout, self.stall_s = resolve_timeout, stall_s
        self.num_persons = 0
        self._inlet = None
        self._order: np.ndarray | None = None
        self._correction = 0.0
        self._last_data = time.perf_counter()
        self._next_try = 0.0
        self.reconnects = 0

    def _connect(self, timeout: float) -> None:
        """Resolve the stream by name, check its channels, open an inlet (raises LiveSourceError)."""
        import pylsl
        from pylsl import util as lsl_errors

        found = pylsl.resolve_byprop("name", self.name, timeout=timeout)
        if not found:
            raise StreamAbsentError(f"no LSL stream named {self.name!r} found within {timeout:g} s")
        info = found[0]
        v3 = self.layout.num_joints * 3
        n = info.channel_count()
        if n == 0 or n % v3:
            raise LiveSourceError(
                f"LSL stream {self.name!r} has {n} channels; {self.layout.name} needs "
                f"M x {self.layout.num_joints} joints x 3 = a multiple of {v3}"
            )
        if info.channel_format() not in (pylsl.cf_float32, pylsl.cf_double64):
            raise LiveSourceError(f"LSL stream {self.name!r} does not carry float channels")
        try:
            inlet = pylsl.StreamInlet(info, max_buflen=30, recover=False)
            full = inlet.info(timeout=timeout)
            labels, ch = [], full.desc().child("channels").child("channel")
            while not ch.empty():
                labels.append(ch.child_value("label"))
                ch = ch.next_sibling()
            m = n // v3
            self._order = _label_order(labels, channel_labels(self.layout, m)) if len(labels) == n else None
            inlet.open_stream(timeout=timeout)
        except lsl_errors.LostError:
            raise StreamAbsentError(f"LSL stream {self.name!r} went away while connecting") from None
        except lsl_errors.TimeoutError:
            raise StreamAbsentError(
                f"LSL stream {self.name!r} was found but did not answer within {timeout:g} s"
            ) from None
        try:
            self._correction = inlet.time_correction(timeout=min(timeout, 1.0))
        except (lsl_errors.TimeoutError, lsl_errors.LostError):
            self._correction = 0.0
        if info.type() != STREAM_TYPE:
            log.warning("LSL stream %r has type %r, not %r", self.name, info.type(), STREAM_TYPE)
        self._inlet, self.num_persons = inlet, m
        self._last_data = time.perf_counter()
        self.status = f"connected to {self.description}: {m} person(s), {info.nominal_srate():g} Hz"

    def open(self) -> None:
        self._connect(self.resolve_timeout)

    def _lost(self, why: str) -> None:
        if self._inlet is not None:
            try:
                self._inlet.close_stream()
            except Exception:  # the stream is gone already
                pass
        self._inlet = None
        self.status = f"{self.description}: {why}; waiting for it to return"
        log.warning(self.status)

    def read(self, timeout: float = 0.1) -> list[LiveFrame]:
        import pylsl
        from pylsl import util as lsl_errors

        now = time.perf_counter()
        if self._inlet is None:
            if now >= self._next_try:
                self._next_try = now + RECONNECT_EVERY_S
                try:
                    self._connect(min(timeout, 0.2))
                    self.reconnects += 1
                except StreamAbsentError:
                    pass  # not back yet: the status still says that we wait for it
                except LiveSourceError as exc:
                    self.status = f"cannot reconnect: {exc}"
            else:
                time.sleep(min(timeout, self._next_try - now))
            return []
        try:
            sample, ts = self._inlet.pull_sample(timeout=timeout)
            if sample is None:
                if time.perf_counter() - self._last_data > self.stall_s:
                    self._lost(f"no data for {time.perf_counter() - self._last_data:.1f} s")
                return []
            chunk, stamps = self._inlet.pull_chunk(timeout=0.0)
        except lsl_errors.LostError:
            self._lost("the stream was lost")
            return []
        rows = np.asarray([sample, *chunk], dtype=np.float32)  # (F, M*V*3)
        stamps = np.asarray([ts, *stamps], dtype=np.float64)  # (F,)
        if self._order is not None:
            rows = rows[:, self._order]
        arrived = time.perf_counter()
        self._last_data = arrived
        clock = pylsl.local_clock()
        xyz = rows.reshape(len(rows), self.num_persons, self.layout.num_joints, 3)  # (F, M, V, 3)
        self.status = f"receiving {self.description}"
        return [
            LiveFrame(xyz[i], float(stamps[i]), float(clock - stamps[i] - self._correction), arrived)
            for i in range(len(rows))
        ]

    def close(self) -> None:
        if self._inlet is not None:
            self._inlet.close_stream()
            self._inlet = None
        self.status = "closed"


class ReplaySource(LiveSource):
    """A `.skeleton` file played at `fps` (30 by default) as if it were live; `loop` starts it again."""

    def __init__(
        self, path: str | Path, fps: float = 30.0, loop: bool = False, num_persons: int = 2, layout: Layout = NTU25
    ) -> None:
        super().__init__()
        if fps <= 0:
            raise LiveSourceError(f"replay rate must be positive, got {fps} fps")
        self.path, self.fps, self.loop = Path(path), float(fps), loop
        self.num_persons, self.layout = num_persons, layout
        self.description = f"replay of {self.path.name}"
        self.frames = np.zeros((0, num_persons, layout.num_joints, 3), np.float32)
        self._t0 = 0.0
        self._next = 0

    def open(self) -> None:
        from dcmae_core.data.ntu import read_skeleton
        from dcmae_core.data.preprocess import preprocess_skeleton

        if not self.path.is_file():
            raise LiveSourceError(f"{self.path}: no such .skeleton file to replay")
        try:
            pre = preprocess_skeleton(read_skeleton(self.path), self.layout, self.num_persons)
        except ValueError as exc:  # SkeletonFormatError is a ValueError
            raise LiveSourceError(f"cannot replay {self.path}: {exc}") from exc
        xyz = pre.data[..., :3] + pre.origin.astype(np.float32)  # (M, T, V, 3) back in camera space
        xyz[~pre.present] = np.nan
        xyz[(pre.tracking == 0) & pre.present[:, :, None]] = np.nan  # not tracked = missing
        self.frames = np.ascontiguousarray(xyz.transpose(1, 0, 2, 3))  # (T, M, V, 3)
        self._t0, self._next, self.finished = time.perf_counter(), 0, False
        self.status = f"{self.description}: {len(self.frames)} frames at {self.fps:g} fps"

    def read(self, timeout: float = 0.1) -> list[LiveFrame]:
        if self.finished:
            time.sleep(timeout)
            return []
        now = time.perf_counter()
        due = int((now - self._t0) * self.fps) + 1  # frames whose time has come
        if due <= self._next:
            time.sleep(min(timeout, (self._next / self.fps + self._t0) - now))
            return []
        total = len(self.frames)
        out = []
        if not self.loop:
            due = min(due, total)
        for k in range(self._next, due):
            when = self._t0 + k / self.fps
            out.append(LiveFrame(self.frames[k % total].copy(), when, max(0.0, now - when), now))
        self._next = due
        if not self.loop and due >= total:
            self.finished = True
            self.status = f"{self.description}: finished ({total} frames)"
        return out


def open_source(spec: str, **kwargs) -> LiveSource:
    """Build (not open) a source from `lsl:NAME`, `replay:FILE` or `webcam[:INDEX]`."""
    kind, _, arg = spec.partition(":")
    if kind == "lsl":
        return LSLSource(arg, **kwargs)
    if kind == "replay":
        if not arg:
            raise LiveSourceError("a replay source needs a file (replay:FILE.skeleton)")
        return ReplaySource(arg, **kwargs)
    if kind == "webcam":
        from dcmae_core.live.mediapipe_pose import WebcamSource

        return WebcamSource(int(arg or 0), **kwargs)
    raise LiveSourceError(f"unknown live source {spec!r}: use lsl:NAME, replay:FILE or webcam[:INDEX]")
