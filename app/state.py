"""The app state: one object with signals; views render it, widgets emit intents that change it.

Arrays are numpy only: data (M, T, V, 3) float32 metres (centred), present (M, T) bool,
mask (M, T, V) bool (1 = removed), reconstruction (M, T, V, 3) float32 or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

FPS = 30.0  # NTU / Kinect v2 frame rate
MAX_UNDO = 100  # mask edits kept for undo


@dataclass
class _Kept:
    """What a sequence had when another was shown: restored when it is shown again."""

    shape: tuple[int, ...]
    mask: np.ndarray
    undo: list[np.ndarray]
    redo: list[np.ndarray]
    frame: int
    in_out: tuple[int, int]
    body_visible: np.ndarray
    results: tuple | None  # (reconstruction, recon_mask, baseline, predictions, result_about) or None


@dataclass
class Sequence:
    """A loaded skeleton sequence, as numpy arrays (no core objects)."""

    name: str  # sample name (file stem)
    title: str  # human title, e.g. "A058 handshaking"
    data: np.ndarray  # (M, T, V, 3) float32 metres, centred
    present: np.ndarray  # (M, T) bool
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    groups: dict[str, tuple[int, ...]] = field(default_factory=dict)
    path: str | None = None
    handle: object = None  # opaque object of the bridge (original file + preprocessing) for export
    action: str = ""  # the recorded action as its dataset names it ("UTD-MHAD: right arm throw"), if known

    def __post_init__(self) -> None:
        if self.data.ndim != 4 or self.data.shape[-1] != 3:
            raise ValueError(f"sequence data must be (M, T, V, 3), got {self.data.shape}")
        if self.present.shape != self.data.shape[:2]:
            raise ValueError(f"present {self.present.shape} does not match data {self.data.shape[:2]}")
        if len(self.joint_names) != self.data.shape[2] or len(self.parents) != self.data.shape[2]:
            raise ValueError(f"{len(self.joint_names)} joint names for {self.data.shape[2]} joints")

    @property
    def key(self) -> tuple[str | None, str]:
        """What identifies the sequence across openings: its file (or, for a dataset sample, None) and name."""
        return (self.path, self.name)

    @property
    def num_frames(self) -> int:
        return int(self.data.shape[1])

    @property
    def num_persons(self) -> int:
        return int(self.data.shape[0])

    @property
    def num_joints(self) -> int:
        return int(self.data.shape[2])


class AppState(QObject):
    """Current sequence, mask with undo/redo, reconstruction, frame, predictions and view options."""

    sequence_changed = Signal()
    mask_changed = Signal()
    frame_changed = Signal(int)
    reconstruction_changed = Signal()
    predictions_changed = Signal()
    display_changed = Signal()  # body visibility, error colouring, selection, range
    model_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.sequence: Sequence | None = None
        self.mask = np.zeros((0, 0, 0), dtype=bool)
        self.frame = 0
        self.reconstruction: np.ndarray | None = None
        self.recon_mask: np.ndarray | None = None  # the mask the reconstruction was made for
        self.baseline: np.ndarray | None = None  # the same joints filled by linear interpolation, to compare
        self.predictions: dict[str, list[tuple[str, float]]] = {}  # "masked" / "reconstruction" -> top-5
        self.result_about: dict = {}  # what made the result: {"method": ..., "checkpoint": ...}
        self.body_visible = np.ones(0, dtype=bool)
        self.error_colors = True  # colour reconstructed joints by their error
        self.ghost_original = False  # draw the original, faded, behind the reconstruction
        self.selected: tuple[int, int] | None = None  # (person, joint)
        self.in_out: tuple[int, int] = (0, 0)  # loop / edit range [in, out) in frames
        self.model_info: dict | None = None
        self.version = 0  # bumped whenever the inference input (sequence or mask) changes
        self._undo: list[np.ndarray] = []
        self._redo: list[np.ndarray] = []
        self._kept: dict[tuple, _Kept] = {}  # Sequence.key -> what it had, for the sequences not shown

    # sequence -------------------------------------------------------------------------------
    def set_sequence(self, seq: Sequence) -> None:
        """Show `seq`. The sequence shown so far keeps its mask, undo history, results, frame and range, and a
        sequence shown before (same key and shape) gets back what it had."""
        if self.sequence is not None:
            self._kept[self.sequence.key] = self._keep()
        self.sequence = seq
        m, t, v = seq.data.shape[:3]
        kept = self._kept.pop(seq.key, None)
        if kept is not None and kept.shape != seq.data.shape:
            kept = None  # the file changed on disk since
        self.selected = None
        if kept is None:
            self.mask = np.zeros((m, t, v), dtype=bool)
            self.frame = 0
            self.body_visible = seq.present.any(axis=1) | (np.arange(m) == 0)
            self.in_out = (0, t)
            self._undo, self._redo = [], []
        else:
            self.mask, self.frame, self.in_out = kept.mask, kept.frame, kept.in_out
            self.body_visible, self._undo, self._redo = kept.body_visible, kept.undo, kept.redo
        self._invalidate()
        if kept is not None and kept.results is not None:
            self.reconstruction, self.recon_mask, self.baseline, self.predictions, self.result_about = kept.results
        self.sequence_changed.emit()
        self.mask_changed.emit()
        self.reconstruction_changed.emit()
        self.predictions_changed.emit()
        self.frame_changed.emit(self.frame)

    def _keep(self) -> _Kept:
        results = None
        if self.reconstruction is not None or self.predictions:
            results = (
                self.reconstruction,
                self.recon_mask,
                self.baseline,
                dict(self.predictions),
                dict(self.result_about),
            )
        return _Kept(
            self.sequence.data.shape,
            self.mask,
            self._undo,
            self._redo,
            self.frame,
            self.in_out,
            self.body_visible.copy(),
            results,
        )

    def clear_results(self) -> None:
        """Forget every result, of the shown sequence and of those kept (a new model made none of them)."""
        for kept in self._kept.values():
            kept.results = None
        self._invalidate()

    def _invalidate(self) -> None:
        self.version += 1
        self.reconstruction = None
        self.recon_mask = None
        self.baseline = None
        self.predictions = {}
        self.result_about = {}
        self.reconstruction_changed.emit()
        self.predictions_changed.emit()

    # frame ------------------------------------------------------------------------------------
    def set_frame(self, frame: int) -> None:
        if self.sequence is None:
            return
        frame = int(np.clip(frame, 0, self.sequence.num_frames - 1))
        if frame != self.frame:
            self.frame = frame
            self.frame_changed.emit(frame)

    def set_in_out(self, start: int, stop: int) -> None:
        """Loop / edit range [start, stop) in frames, clipped to the sequence."""
        if self.sequence is None:
            return
        t = self.sequence.num_frames
        start, stop = sorted((int(np.clip(start, 0, t - 1)), int(np.clip(stop, 1, t))))
        self.in_out = (start, max(stop, start + 1))
        self.display_changed.emit()

    # mask ---------------------------------------------------------------------------------------
    def set_mask(self, mask: np.ndarray, undoable: bool = True) -> None:
        """Replace the mask (restricted to present entries); the old one goes on the undo stack, unless not
        `undoable` (a live frame: no edit of the user's)."""
        if self.sequence is None:
            raise ValueError("no sequence is open")
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self.mask.shape:
            raise ValueError(f"mask shape {mask.shape} does not match the sequence {self.mask.shape}")
        mask = mask & self.sequence.present[:, :, None]
        if np.array_equal(mask, self.mask):
            return
        if undoable:
            self._undo.append(self.mask)
            del self._undo[:-MAX_UNDO]
            self._redo.clear()
        self._apply_mask(mask)

    def _apply_mask(self, mask: np.ndarray) -> None:
        self.mask = mask
        self._invalidate()
        self.mask_changed.emit()

    def toggle_joint(self, person: int, joint: int, all_frames: bool = False) -> None:
        mask = self.mask.copy()
        frames = slice(None) if all_frames else slice(self.frame, self.frame + 1)
        mask[person, frames, joint] = not bool(self.mask[person, self.frame, joint])
        self.set_mask(mask)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        if self._undo:
            self._redo.append(self.mask)
            self._apply_mask(self._undo.pop())

    def redo(self) -> None:
        if self._redo:
            self._undo.append(self.mask)
            self._apply_mask(self._redo.pop())

    # results --------------------------------------------------------------------------------------
    def set_result(
        self,
        version: int,
        reconstruction: np.ndarray | None,
        predictions: dict[str, list[tuple[str, float]]],
        baseline: np.ndarray | None = None,
        about: dict | None = None,
    ) -> bool:
        """Store an inference result (and the interpolation `baseline` of the same joints, if given; `about`
        says what made it: method, checkpoint); False (and nothing changes) if the input changed since."""
        if version != self.version or self.sequence is None:
            return False
        if reconstruction is not None:
            for what, arr in (("reconstruction", reconstruction), ("baseline", baseline)):
                if arr is not None and arr.shape != self.sequence.data.shape:
                    raise ValueError(f"{what} {arr.shape} != data {self.sequence.data.shape}")
            self.reconstruction = reconstruction.astype(np.float32, copy=False)
            self.baseline = None if baseline is None else baseline.astype(np.float32, copy=False)
            self.recon_mask = self.mask.copy()
            self.reconstruction_changed.emit()
        self.predictions = dict(predictions)
        self.result_about = dict(about or {})
        self.predictions_changed.emit()
        return True

    # display -----------------------------------------------------------------------------------------
    def set_body_visible(self, person: int, visible: bool) -> None:
        self.body_visible[person] = visible
        self.display_changed.emit()

    def select(self, person: int, joint: int) -> None:
        self.selected = (person, joint)
        self.display_changed.emit()

    def set_error_colors(self, on: bool) -> None:
        self.error_colors = bool(on)
        self.display_changed.emit()

    def set_ghost_original(self, on: bool) -> None:
        self.ghost_original = bool(on)
        self.display_changed.emit()

    def set_model_info(self, info: dict | None) -> None:
        """A model was loaded: results made by the one before are dropped (of every open sequence)."""
        if self.model_info is not None and info is not self.model_info:
            self.clear_results()
        self.model_info = info
        self.model_changed.emit()


@dataclass(frozen=True)
class BrowserEntry:
    """One sample that the browser lists: a .skeleton file, a sample of a prepared dataset cache, or a row of
    the field's .npz. The NTU fields are None where the name carries none."""

    name: str
    kind: str  # "file", "cache" or "npz"
    source: str  # the file, the cache folder or the .npz
    index: int = -1  # sample index (cache, npz)
    key: str = ""  # "x_train" / "x_test" (npz)
    setup: int | None = None
    camera: int | None = None
    performer: int | None = None
    replication: int | None = None
    action: int | None = None
    action_name: str = ""
