"""Model loading, reconstruction and classification in a worker thread (via dcmae_core.inference)."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.render import top_k
from app.workers.jobs import JobCancelled, JobFailed, JobRunner, Progress

log = logging.getLogger(__name__)

__all__ = ["InferenceRequest", "InferenceResult", "InferenceService", "JobCancelled", "JobFailed"]


@dataclass
class InferenceRequest:
    data: np.ndarray  # (M, T, V, 3) float32 metres, centred
    removed: np.ndarray  # (M, T, V) bool, 1 = removed
    version: int  # AppState.version when the request was made
    reconstruct: bool = True  # False: classify only
    method: str = "one_step"  # a key of dcmae_core.inference.METHODS: "one_step" | "iterative" | "interpolate"
    num_steps: int = 50  # iterative sampling steps
    seed: int = 0
    joint_names: tuple[str, ...] = ()  # the sequence's joints (their layout is mapped onto the model's)


@dataclass
class InferenceResult:
    version: int
    reconstruction: np.ndarray | None  # (M, T, V, 3) float32 or None
    predictions: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # top-5 per input
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what could not be done (e.g. no classifier)
    baseline: np.ndarray | None = None  # (M, T, V, 3) the removed joints filled by linear interpolation in time


def model_info(predictor: object) -> dict:
    """Plain description of a loaded predictor for the UI."""
    info = dict(getattr(predictor, "info", {}) or {})
    can_classify = getattr(predictor, "classifier", True) is not None
    # a pretraining checkpoint carries its data's class names but has no classifier: it knows no action
    info["class_names"] = list(predictor.class_names) if can_classify else []
    info["device"] = str(predictor.device)
    info["layout"] = predictor.layout.name
    info["num_joints"] = predictor.layout.num_joints
    info["num_persons"] = int(predictor.num_persons)
    info["num_frames"] = int(predictor.num_frames)
    info["can_reconstruct"] = getattr(predictor, "dcmae", True) is not None
    info["can_classify"] = can_classify
    config = getattr(predictor, "config", None)
    info["fill_prior"] = getattr(getattr(config, "model", None), "fill_prior", "none")
    return info


def _load(path: str | None, device: str) -> object:
    from dcmae_core.checkpoint import CheckpointError
    from dcmae_core.inference import Predictor

    if path is not None and not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    try:
        # on the CPU, leave one core to the GUI thread so the window stays fluid while the model computes
        return Predictor.from_checkpoint(path, device=device, cpu_threads=max(1, (os.cpu_count() or 2) - 1))
    except CheckpointError as exc:
        raise CheckpointError(str(exc) if path is None else _unreadable(Path(path), exc)) from exc


def _unreadable(path: Path, exc: Exception) -> str:
    """A checkpoint the core could not use, in plain words: the file, what is wrong with it, what to do. The
    core's own message where the file is a PyTorch file (it then names the missing or wrong part)."""
    import zipfile

    try:
        head = path.read_bytes()[:4]
    except OSError as exc:
        return f"{path}: the file cannot be read ({exc.strerror or exc})"
    if not head.startswith((b"PK\x03\x04", b"\x80")):  # neither a zip (torch.save) nor a pickle (old torch.save)
        return (
            f"{path} is not a PyTorch checkpoint: it holds something else (text or another format), perhaps "
            "another file renamed .pt. Choose a .pt file written by DCMAE training."
        )
    if head.startswith(b"PK") and not zipfile.is_zipfile(path):
        return (
            f"{path} is cut off or damaged: the end of the file is missing, as after an interrupted download "
            "or copy. Copy or download it again."
        )
    return str(exc)


def default_checkpoint_path() -> Path | None:
    """The bundled checkpoint the app loads when none was chosen (real-motion, else demo), if it exists."""
    try:
        from dcmae_core.inference import default_checkpoint
    except ImportError:
        return None
    path = Path(default_checkpoint())
    return path if path.is_file() else None


def _infer(predictor: object, req: InferenceRequest, progress: Progress) -> InferenceResult:
    from dcmae_core.baselines import interpolate_removed
    from dcmae_core.layout import find_layout, joint_map
    from dcmae_core.motion_bank import describe_report

    start = time.perf_counter()
    layout = find_layout(req.joint_names) if req.joint_names else None
    v = predictor.layout.num_joints
    if layout is None and req.data.shape[2] != v:
        raise ValueError(
            f"the sequence has {req.data.shape[2]} joints in a skeleton this model does not know; "
            f"the model's is {predictor.layout.name} ({v} joints)"
        )
    if layout is not None:
        joint_map(layout, predictor.layout)  # raises, naming both skeletons, when they do not correspond
    notes: list[str] = []
    recon = baseline = None
    has_recon = getattr(predictor, "dcmae", True) is not None
    has_clf = getattr(predictor, "classifier", True) is not None
    share = 0.85 if has_clf else 1.0

    def sub(fraction: float) -> bool:
        return progress(share * fraction)

    if req.reconstruct and req.removed.any():
        if has_recon:
            recon = predictor.reconstruct(
                req.data,
                req.removed,
                method=req.method,
                num_steps=req.num_steps,
                seed=req.seed,
                progress=sub,
                layout=layout,
            )
            baseline = interpolate_removed(req.data, req.removed)  # what the model is measured against
            bank_line = describe_report(getattr(predictor, "last_bank_report", {}))
            if bank_line:
                notes.append(bank_line)
        else:
            notes.append("this checkpoint cannot reconstruct (no pretrained model in it)")
    elif req.reconstruct:
        notes.append("nothing is masked: nothing to reconstruct")
    if not progress(share):
        raise JobCancelled("cancelled")
    preds: dict[str, list[tuple[str, float]]] = {}
    visible = (~req.removed & (np.abs(req.data).sum(axis=-1) > 0)).any()  # some joint of some person is seen
    if has_clf and not visible:
        notes.append(
            "every joint is hidden, so the masked input shows no person to classify"
            + ("; the reconstruction is classified" if recon is not None else "")
        )
    if has_clf:
        names = list(predictor.class_names)
        if visible:
            preds["masked"] = top_k(predictor.classify(req.data, req.removed, layout=layout), names)
        if not progress(share + (1 - share) / 2):
            raise JobCancelled("cancelled")
        if recon is not None:
            preds["reconstruction"] = top_k(predictor.classify(recon, layout=layout), names)
    else:
        notes.append("this checkpoint has no classifier (pretraining only)")
    progress(1.0)
    return InferenceResult(req.version, recon, preds, time.perf_counter() - start, notes, baseline)


class InferenceService(QObject):
    """Owns the Predictor; every call runs in a worker thread and is awaited as a coroutine."""

    progress = Signal(float)
    busy_changed = Signal(bool)
    model_loaded = Signal(dict)

    def __init__(self, device: str = "auto", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self.predictor: object | None = None
        self.info: dict | None = None
        self.runner = JobRunner(self)
        self.runner.progress.connect(self.progress)
        self.runner.busy_changed.connect(self.busy_changed)

    @property
    def busy(self) -> bool:
        return self.runner.busy

    async def load(self, path: str | None) -> dict:
        """Load a checkpoint (None = the bundled demo); raises JobFailed naming the problem."""
        predictor = await self.runner.start(lambda _p: _load(path, self.device))
        self.predictor = predictor
        self.info = model_info(predictor)
        self.model_loaded.emit(self.info)
        log.info("model %s on %s", path or "demo", self.info["device"])
        return self.info

    async def run(self, req: InferenceRequest) -> InferenceResult:
        """Reconstruct and classify; raises JobFailed, JobCancelled, or RuntimeError without a model."""
        if self.predictor is None:
            raise RuntimeError("no model is loaded: open a checkpoint first (Model → Open checkpoint)")
        predictor = self.predictor
        data = np.array(req.data, dtype=np.float32, copy=True)  # the worker owns its copies
        removed = np.array(req.removed, dtype=bool, copy=True)
        req = InferenceRequest(
            data, removed, req.version, req.reconstruct, req.method, req.num_steps, req.seed, tuple(req.joint_names)
        )
        return await self.runner.start(lambda p: _infer(predictor, req, p))

    def cancel(self) -> None:
        self.runner.cancel()

    def shutdown(self) -> None:
        self.runner.shutdown()
