"""Turns intents (widgets, menus, command line) into state changes, worker jobs and exports."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from app import core_bridge, export, masking, render
from app.state import AppState
from app.workers.inference import InferenceRequest, InferenceService, JobCancelled, JobFailed
from app.workers.jobs import JobRunner

log = logging.getLogger(__name__)

PRETRAIN_MT, PRETRAIN_MJ = 0.5, 0.4  # the paper's pretraining mask ratios, for the word 'pretrain'


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def unknown_action(action: str, class_names: list[str]) -> str:
    """A notice when the file's recorded action is not among the model's classes (its labels can then only be the
    nearest of those), else ""."""
    if not action or not class_names:
        return ""
    bare = action.split(": ", 1)[-1].lower()
    for c in class_names:
        if c.lower() == action.lower() or c.split(": ", 1)[-1].lower() == bare:
            return ""
    sources = sorted({c.split(": ", 1)[0] for c in class_names if ": " in c})
    where = f" ({', '.join(sources)})" if sources else ""
    return (
        f"the recorded action '{action}' is not among the {len(class_names)} actions this model knows{where}: "
        f"its labels can only name the closest of those"
    )


class Controller(QObject):
    """Owns the state and the inference service; reports problems through `error(title, message)`."""

    error = Signal(str, str)  # title, message: shown as a dialog by the window
    status = Signal(str)  # one-line status message
    file_opened = Signal(str)

    def __init__(self, state: AppState, service: InferenceService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.service = service
        self.exports = JobRunner(self)  # movie encoding, apart from inference so each can run while the other does

    # files --------------------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        """Open a .skeleton file; False (and an error) if it cannot be read. The path is resolved first, so a
        file reached through a link or a relative path is one sequence (its kept mask and results) and one entry
        in the selector and the recent files, however it was named."""
        path = str(Path(path).resolve())
        return self._show(lambda: core_bridge.load_sequence(path), "Cannot open file", path)

    def _show(self, load, title: str, recent: str | None) -> bool:
        """Load a sequence and show it; a load error becomes an error dialog titled `title`. A file path in
        `recent` goes into the recent files."""
        try:
            seq = load()
        except (ValueError, OSError) as exc:
            self.error.emit(title, str(exc))
            return False
        self.state.set_sequence(seq)
        self.status.emit(f"opened {seq.name}: {seq.title}, {seq.num_frames} frames")
        if recent:
            self.file_opened.emit(recent)
        return True

    def scan(self, path: str | Path) -> list | None:
        """The browser entries of a folder, a prepared dataset or an .npz; None (and an error) if unreadable."""
        try:
            entries = core_bridge.scan_source(path)
        except (ValueError, OSError) as exc:
            self.error.emit("Cannot browse", str(exc))
            return None
        self.status.emit(f"{len(entries)} samples in {path}")
        return entries

    def open_entry(self, entry) -> bool:
        """Open a browser entry (file, dataset sample or .npz row); False (and an error) if it cannot be read."""
        return self._show(
            lambda: core_bridge.load_entry(entry), "Cannot open sample", entry.source if entry.kind == "file" else None
        )

    async def load_checkpoint(self, path: str | None) -> bool:
        """Load a checkpoint in the worker (None = the bundled demo); False (and an error) on failure."""
        try:
            info = await self.service.load(path)
        except (JobFailed, RuntimeError) as exc:
            self.error.emit("Cannot open checkpoint", str(exc))
            return False
        except JobCancelled:
            return False
        self.state.set_model_info(info)
        self.status.emit(f"model loaded: {info.get('path', path)} on {info['device']}")
        return True

    # masks ----------------------------------------------------------------------------------------
    def _seq(self):
        if self.state.sequence is None:
            raise ValueError("open a sequence first")
        return self.state.sequence

    def _guard(self, fn, *args) -> bool:
        try:
            fn(*args)
        except (ValueError, KeyError) as exc:
            self.error.emit("Mask", str(exc))
            return False
        return True

    def mask_parts(self, names: list[str], person: int = -1, range_only: bool = False) -> bool:
        def do() -> None:
            seq = self._seq()
            if not names:
                raise ValueError("tick at least one body part")
            joints = sorted({j for n in names for j in seq.groups[n]})
            frames = self.state.in_out if range_only else None
            persons = None if person < 0 else [person]
            new = masking.part_mask(seq.present, seq.num_joints, joints, frames, persons)
            self.state.set_mask(self.state.mask | new)

        return self._guard(do)

    def mask_range(self, start: int, stop: int) -> bool:
        """Mask every joint in frames [start, stop) and make it the in/out range."""

        def do() -> None:
            seq = self._seq()
            self.state.set_in_out(start, stop)
            new = masking.part_mask(seq.present, seq.num_joints, range(seq.num_joints), self.state.in_out)
            self.state.set_mask(self.state.mask | new)

        return self._guard(do)

    def mask_pretrain(self, mt: float, mj: float, seed: int) -> bool:
        """The paper's pretraining mask, as `reconstruct --mask random:MT,MJ --seed SEED` draws it."""

        def do() -> None:
            seq = self._seq()
            self.state.set_mask(core_bridge.mask_spec(f"random:{float(mt)!r},{float(mj)!r}", seq, seed))

        return self._guard(do)

    def mask_missing(self, r: float, seed: int) -> bool:
        """The missing-joint protocol: the occlusion pattern random:r."""
        return self.mask_pattern(f"random:{float(r)!r}", seed)

    def mask_pattern(self, pattern: str, seed: int) -> bool:
        """A named occlusion pattern of the core ('limb_span', 'lower_body', 'random:0.1', ...), seeded as the
        CLI seeds it: pattern P with seed s here is `reconstruct --mask P --seed s`."""

        def do() -> None:
            seq = self._seq()
            self.state.set_mask(core_bridge.occlusion(pattern, seq, seed))
            self.status.emit(f"occlusion {pattern} (seed {seed}): {int(self.state.mask.sum())} joint-frames hidden")

        return self._guard(do)

    def mask_spec(self, spec: str, seed: int = 0) -> bool:
        """A mask from a command-line word: 'pretrain', a ratio r (= random:r), an occlusion pattern, or body
        parts ('left-arm+head')."""
        text = spec.strip()
        name = text.partition(":")[0].strip().lower()
        if name == "pretrain":
            return self.mask_pretrain(PRETRAIN_MT, PRETRAIN_MJ, seed)
        if name in core_bridge.occlusion_patterns() or _is_number(name):
            return self.mask_pattern(text, seed)

        def do() -> None:
            seq = self._seq()
            self.state.set_mask(masking.body_part_mask(text, seq.present, seq.num_joints, seq.groups))

        return self._guard(do)

    def clear_mask(self) -> None:
        if self.state.sequence is not None:
            self.state.set_mask(np.zeros_like(self.state.mask))

    def invert_mask(self) -> None:
        if self.state.sequence is not None:
            self.state.set_mask(masking.invert_mask(self.state.mask, self.state.sequence.present))

    def toggle_selected(self, all_frames: bool = False) -> None:
        if self.state.sequence is not None and self.state.selected is not None:
            self.state.toggle_joint(*self.state.selected, all_frames=all_frames)

    # inference ---------------------------------------------------------------------------------------
    async def run_inference(self, method: str = "one_step", num_steps: int = 50, seed: int = 0) -> bool:
        """Reconstruct + classify the current masked sequence in the worker; True if a result was stored."""
        seq = self.state.sequence
        if seq is None:
            self.error.emit("Inference", "open a sequence first")
            return False
        if self.service.busy:
            self.status.emit("inference is already running")
            return False
        req = InferenceRequest(
            seq.data,
            self.state.mask,
            self.state.version,
            method=method,
            num_steps=num_steps,
            seed=seed,
            joint_names=tuple(seq.joint_names),
        )
        try:
            res = await self.service.run(req)
        except JobCancelled:
            self.status.emit("inference cancelled")
            return False
        except (JobFailed, RuntimeError) as exc:
            self.error.emit("Inference failed", str(exc))
            return False
        about = {
            "method": method,  # interpolation uses no model: no checkpoint made the fill
            "checkpoint": None if method == "interpolate" else (self.state.model_info or {}).get("path"),
        }
        if method == "iterative":
            about.update(num_steps=int(num_steps), seed=int(seed))
        if not self.state.set_result(res.version, res.reconstruction, res.predictions, res.baseline, about):
            self.status.emit("result discarded: the sequence or the mask changed while it ran")
            return False
        notes = list(res.notes)
        unknown = unknown_action(seq.action, list((self.state.model_info or {}).get("class_names", [])))
        if unknown and res.predictions:
            notes.append(unknown)
        note = f"; {'; '.join(notes)}" if notes else ""  # a note may hold brackets: none around it
        self.status.emit(f"inference done in {res.seconds:.2f} s{note}")
        return True

    def frame_errors(self, baseline: bool = False) -> np.ndarray | None:
        """(T,) mean error (cm) of the reconstruction (or of the interpolation baseline) over the masked joints."""
        st = self.state
        fill = st.baseline if baseline else st.reconstruction
        if fill is None or st.recon_mask is None:
            return None
        return render.frame_errors_cm(st.sequence.data, fill, st.recon_mask)

    # exports --------------------------------------------------------------------------------------------
    def export_reconstruction(self, path: str | Path) -> bool:
        """.skeleton (original file with the filled joints marked not tracked, and a JSON sidecar naming them)
        or .npy (M, T, V, 3), by the suffix."""
        st = self.state
        try:
            seq = self._seq()
            data = st.reconstruction if st.reconstruction is not None else seq.data
            if str(path).lower().endswith(".npy"):
                export.export_npy(path, data)
                self.status.emit(f"saved {path}")
                return True
            filled = None if st.recon_mask is None else st.recon_mask & seq.present[:, :, None]
            side = core_bridge.export_skeleton(seq, data, path, filled, st.result_about)
        except (ValueError, OSError) as exc:
            self.error.emit("Export failed", str(exc))
            return False
        n = 0 if filled is None else int(filled.sum())
        self.status.emit(f"saved {path} ({n} filled joint-frames marked not tracked; list in {Path(side).name})")
        return True

    def save_png(self, path: str | Path, source: str, camera, floor: float, size: tuple[int, int]) -> bool:
        """The current frame of `source` (original / masked / reconstruction / overlay) as a PNG."""
        try:
            self._seq()
            export.save_png(path, export.source_image(self.state, source, camera, floor, size))
        except (ValueError, OSError) as exc:
            self.error.emit("Export failed", str(exc))
            return False
        self.status.emit(f"saved {path} ({source}, frame {self.state.frame + 1})")
        return True

    async def export_movie(
        self, path: str | Path, source: str, camera, floor: float, size: tuple[int, int] = (360, 300)
    ) -> bool:
        """The in/out range of `source` as a GIF or MP4 (by the suffix), drawn and encoded in a worker thread
        (progress on `exports`); False (and an error) on failure."""
        if self.exports.busy:
            self.status.emit("a movie is already being saved")
            return False
        try:
            layers = export.movie_layers(self.state, source, *self.state.in_out)  # snapshot, in this thread
            cam = copy.deepcopy(camera)
            n = await self.exports.start(lambda p: export.write_movie(path, layers, cam, floor, size, progress=p))
        except JobCancelled:
            self.status.emit("saving the movie was cancelled")
            return False
        except (ValueError, OSError, JobFailed) as exc:
            self.error.emit("Export failed", str(exc))
            return False
        self.status.emit(f"saved {path} ({source}, {n} frames)")
        return True

    def save_mask(self, path: str | Path) -> bool:
        try:
            export.save_mask_json(path, self.state)
        except (ValueError, OSError) as exc:
            self.error.emit("Export failed", str(exc))
            return False
        self.status.emit(f"saved {path}")
        return True

    def load_mask(self, path: str | Path) -> bool:
        try:
            self.state.set_mask(export.load_mask_json(path, self.state.mask.shape))
        except (ValueError, OSError) as exc:
            self.error.emit("Cannot load mask", str(exc))
            return False
        return True
