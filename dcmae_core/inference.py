"""The Python API for the app and for scripts: load a checkpoint, reconstruct and classify, numpy in and out.

Samples are preprocessed sequences `(M, T, V, C)` float32 in metres (centred, as `preprocess_skeleton` makes
them), any length T; the model's fixed window (`num_frames`) is handled here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dcmae_core.baselines import GAP_SCALE, interp_prior, interpolate_removed, parent_offsets
from dcmae_core.checkpoint import CheckpointError, load_checkpoint
from dcmae_core.config import Config, ConfigError, config_from_dict
from dcmae_core.data.transforms import crop_resize, face_front, presence, standardise
from dcmae_core.layout import LAYOUTS, Layout, joint_map
from dcmae_core.model.dcmae import DCMAE, DCMAEClassifier
from dcmae_core.model.factory import models_from_checkpoint
from dcmae_core.motion_bank import MIN_GAP, MotionBank
from dcmae_core.resources import bundled
from dcmae_core.training.devices import resolve_device

__all__ = [
    "Predictor",
    "CheckpointError",
    "Cancelled",
    "DEMO_CHECKPOINT",
    "REAL_CHECKPOINT",
    "METHODS",
    "default_checkpoint",
]

# Fill methods, by the name the CLI and the app use, with the words the app shows.
METHODS = {
    "one_step": "DCMAE, one step",  # the paper's REC: x_0 predicted once from pure noise at t = T
    "iterative": "DCMAE, iterative",  # strided DDPM sampling
    "interpolate": "linear interpolation",  # the baseline, no model
}

DEMO_CHECKPOINT = bundled("checkpoints", "dcmae_demo.pt")  # the 20-minute demo on the synthetic corpus (NTU-25)
REAL_CHECKPOINT = bundled("checkpoints", "dcmae_real.pt")  # real people (Kinect v1): the app's and the CLI's default


def default_checkpoint() -> Path:
    """The checkpoint used when none is named: the real-motion one, else the demo one."""
    return REAL_CHECKPOINT if REAL_CHECKPOINT.is_file() else DEMO_CHECKPOINT


class Cancelled(Exception):
    """The caller's progress callback asked to stop."""


def _build_models(ckpt: dict[str, Any], cfg: Config) -> tuple[DCMAE | None, DCMAEClassifier | None]:
    try:
        return models_from_checkpoint(ckpt, cfg)
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"checkpoint {ckpt.get('path')} does not match the model its config describes: {str(exc)[:300]}"
        ) from exc


class Predictor:
    """A loaded checkpoint, ready to reconstruct and classify on the best available device."""

    def __init__(self, ckpt: dict[str, Any], device: str = "auto"):
        try:
            self.config = config_from_dict(ckpt["config"])
            self.layout = Layout.from_dict(ckpt["layout"])
        except (ConfigError, ValueError, TypeError, KeyError) as exc:
            raise CheckpointError(f"checkpoint {ckpt.get('path')} has an unreadable config: {exc}") from exc
        self.class_names: list[str] = [str(c) for c in ckpt["class_names"]]
        self.num_persons = int(ckpt["num_persons"])
        self.num_frames = int(ckpt["num_frames"])
        self.mean = np.asarray(ckpt["stats"]["mean"], dtype=np.float32)
        self.std = np.asarray(ckpt["stats"]["std"], dtype=np.float32)
        self.device = str(resolve_device(device))
        # frames: see `_gate`; 0 = the model's fill everywhere (set by `slim-checkpoint --fill-gate`)
        self.fill_gate = float(ckpt.get("fill_gate", 0.0))
        self.dcmae, self.classifier = _build_models(ckpt, self.config)
        self.motion_bank = self._motion_bank(ckpt)
        # the last `reconstruct`'s motion-bank spans by outcome (motion_bank.OUTCOMES; empty: none considered)
        self.last_bank_report: dict[str, int] = {}
        for m in (self.dcmae, self.classifier):
            if m is not None:
                m.to(self.device).eval()
        self.info = {
            "path": ckpt.get("path", ""),
            "kind": ckpt.get("kind", ""),
            "config": ckpt["config"],
            "dataset": ckpt.get("dataset", {}),
            "epochs": int(ckpt.get("train_state", {}).get("epoch", 0)),
            "metrics": {k: v for k, v in ckpt.get("metrics", {}).items() if k not in ("confusion", "per_class")},
            "can_reconstruct": self.dcmae is not None,
            "can_classify": self.classifier is not None,
            "about": str(ckpt.get("about", "")),
            "motion_bank": None
            if self.motion_bank is None
            else {
                "clips": self.motion_bank.num_clips,
                "frames": len(self.motion_bank.frames),
                "spans": [MIN_GAP, int(2 * self.fill_gate)],  # hidden runs (frames) it may fill
            },
        }

    def _motion_bank(self, ckpt: dict[str, Any]) -> MotionBank | None:
        """The checkpoint's bank of recorded motion (`slim-checkpoint --motion-bank`), used inside the fill gate."""
        if "motion_bank" not in ckpt:
            return None
        try:
            bank = MotionBank.from_dict(ckpt["motion_bank"])
        except ValueError as exc:
            raise CheckpointError(f"checkpoint {ckpt.get('path')}: {exc}") from exc
        if bank.layout.name != self.layout.name:
            raise CheckpointError(
                f"checkpoint {ckpt.get('path')}: its motion bank is in the {bank.layout.name} skeleton, its model in "
                f"{self.layout.name}"
            )
        return bank

    @classmethod
    def from_checkpoint(
        cls, path: str | Path | None = None, device: str = "auto", cpu_threads: int | None = None
    ) -> Predictor:
        """`cpu_threads`: on the CPU, compute with this many threads (an interactive app leaves one core to its
        GUI thread: on 2 cores that halves the event loop's largest gap, docs/benchmarks.md)."""
        path = Path(path) if path else default_checkpoint()
        pred = cls(load_checkpoint(path), device=device)
        if cpu_threads is not None and pred.device == "cpu":
            torch.set_num_threads(max(1, int(cpu_threads)))
        return pred

    # ------------------------------------------------------------------ helpers
    def _standardise(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(M, T, V, C) metres -> standardised (absent person-frames exactly 0); also person_valid (M,)."""
        data = self._fit_persons(np.asarray(data, dtype=np.float32))
        present = presence(data)  # (M, T)
        return standardise(data, present, self.mean, self.std), present.any(axis=1)

    def _gate(self, fill: np.ndarray, prior: np.ndarray, placed: np.ndarray, relative: np.ndarray) -> np.ndarray:
        """Interpolation where it is reliable, the model's correction where it is not. The interpolation (from
        `prior`, or relative to the parent where `relative`: `parent_offsets` gives `placed`, as in
        `interpolate_from_parent`) is kept for an entry within `fill_gate` frames of a visible frame on both
        sides, or on one side where it is placed relative to its visible parent (the offset held from the
        nearest frame, good near a clip's ends, where holding the position is not); the correction ramps in over
        the next `fill_gate` frames of distance; other one-sided and never-visible entries take the model's fill
        whole. The distance is calibrated on training data (bench/calibrate_fill_gate.py) and stored in the
        checkpoint."""
        c = fill.shape[-1]
        both, one, gap = prior[..., c], prior[..., c + 1], prior[..., c + 2] * GAP_SCALE  # gap in frames
        anchor = np.where(relative[..., None], placed, prior[..., :c])
        w = np.clip((gap - self.fill_gate) / self.fill_gate, 0.0, 1.0)
        w = np.where((both > 0.5) | ((one > 0.5) & relative), w, 1.0)[..., None]  # (M, T, V, 1)
        return anchor + w * (fill - anchor)

    def _fit_persons(self, arr: np.ndarray) -> np.ndarray:
        """Pad (with zeros) or cut the person axis to the model's M."""
        m = arr.shape[0]
        if m == self.num_persons:
            return arr
        if m > self.num_persons:
            return arr[: self.num_persons]
        pad = np.zeros((self.num_persons - m, *arr.shape[1:]), dtype=arr.dtype)
        return np.concatenate([arr, pad], axis=0)

    def _windows(self, length: int) -> list[int]:
        """Start frames of windows of num_frames covering [0, length), half a window apart (each frame is then
        filled by the window it lies most centrally in, so a gap near a window's edge still has context on
        both sides); the last one ends at length."""
        w = self.num_frames
        if length <= w:
            return [0]
        stride = max(1, w // 2)
        starts = list(range(0, length - w + 1, stride))
        if starts[-1] + w < length:
            starts.append(length - w)
        return starts

    def layout_of(self, data: np.ndarray, layout: Layout | None = None) -> Layout:
        """The skeleton of `data` (M, T, V, C): `layout` when given, else the model's when V matches, else the
        known layout with V joints (NTU-25, Kinect v1)."""
        if layout is not None:
            return layout
        v = np.asarray(data).shape[2]
        if v == self.layout.num_joints:
            return self.layout
        known = [lay for lay in LAYOUTS.values() if lay.num_joints == v]
        if len(known) != 1:
            raise ValueError(
                f"the sample has {v} joints; this model was trained on {self.layout.num_joints} "
                f"({self.layout.name}) and no known skeleton has {v}"
            )
        return known[0]

    def _to_model(
        self, data: np.ndarray, removed: np.ndarray | None, layout: Layout | None
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(M, T, V_file, C) in the file's layout -> the model's joints; also, per model joint, its index in the
        file (-1: the file has no such joint; it is marked removed, so the model fills it, and dropped after)."""
        layout = self.layout_of(data, layout)
        idx = joint_map(layout, self.layout)  # (V_model,)
        if data.shape[2] != layout.num_joints:
            raise ValueError(
                f"the sample has {data.shape[2]} joints but its layout {layout.name} has {layout.num_joints}"
            )
        if (idx == np.arange(len(idx))).all() and layout.num_joints == len(idx):
            return data, removed, idx
        lacking = idx < 0
        xm = data[:, :, np.maximum(idx, 0)].copy()  # (M, T, V_model, C)
        xm[:, :, lacking] = 0.0
        rm = None
        if removed is not None:
            rm = removed[:, :, np.maximum(idx, 0)].copy()
            rm[:, :, lacking] = True
        return xm, rm, idx

    @staticmethod
    def _fill_unmodelled(out: np.ndarray, removed: np.ndarray, layout: Layout, unmodelled: np.ndarray) -> None:
        """Fill removed entries of joints the model does not have (e.g. NTU's neck, hand tips and thumbs under a
        Kinect-v1 model) in place: the joint keeps its offset from its parent, interpolated in time between the
        frames where it is visible; never visible, it sits half the parent's bone further along that bone."""
        for j in np.flatnonzero(unmodelled):
            p = layout.parents[j]
            miss = removed[:, :, j]  # (M, T)
            if p < 0 or not miss.any():
                continue
            off = out[:, :, j] - out[:, :, p]  # (M, T, C)
            off = interpolate_removed(off[:, :, None], miss[:, :, None])[:, :, 0]  # (M, T, C); never seen -> 0
            never = miss.all(axis=1)  # (M,)
            pp = layout.parents[p]
            if never.any() and pp >= 0:
                off[never] = 0.5 * (out[never][:, :, p] - out[never][:, :, pp])
            out[:, :, j] = np.where(miss[..., None], out[:, :, p] + off, out[:, :, j])

    # ------------------------------------------------------------------ API
    @torch.no_grad()
    def reconstruct(
        self,
        data: np.ndarray,
        removed: np.ndarray,
        method: str = "one_step",
        num_steps: int = 50,
        seed: int = 0,
        progress: Callable[[float], bool] | None = None,
        layout: Layout | None = None,
    ) -> np.ndarray:
        """Fill the removed (M, T, V) entries of `data` (M, T, V, C); every other entry is returned unchanged.

        `layout`: the data's skeleton when it is not the model's (NTU-25 and Kinect v1 map onto each other,
        `layout.joint_map`); `method`: a key of METHODS. The model's methods go through the checkpoint's fill gate
        and, where it has one, its motion bank (`_gate`, `_bank_fill`; what the bank did: `last_bank_report`);
        "interpolate" is the plain baseline."""
        self.last_bank_report = {}
        if method not in METHODS:
            raise ValueError(f"unknown fill method {method!r}; use one of {', '.join(METHODS)}")
        data = np.asarray(data, dtype=np.float32)
        removed = np.asarray(removed, dtype=bool)
        if data.ndim != 4 or removed.shape != data.shape[:3]:
            raise ValueError(f"expected data (M, T, V, C) and removed (M, T, V); got {data.shape} and {removed.shape}")
        if method == "interpolate":
            return interpolate_removed(data, removed).astype(np.float32)
        if self.dcmae is None:
            raise CheckpointError("this checkpoint holds only a classifier; it cannot reconstruct")
        layout = self.layout_of(data, layout)
        xm, rm, idx = self._to_model(data, removed, layout)
        ym = self._reconstruct_model(xm, rm, method, num_steps, seed, progress)  # (M, T, V_model, C)
        out = data.copy()
        have = idx >= 0
        out[:, :, idx[have]] = np.where(removed[:, :, idx[have], None], ym[:, :, have], data[:, :, idx[have]])
        unmodelled = np.ones(layout.num_joints, dtype=bool)
        unmodelled[idx[have]] = False
        if unmodelled.any():
            self._fill_unmodelled(out, removed, layout, unmodelled)
        return out

    def _reconstruct_model(
        self,
        data: np.ndarray,
        removed: np.ndarray,
        method: str,
        num_steps: int,
        seed: int,
        progress: Callable[[float], bool] | None,
    ) -> np.ndarray:
        """`reconstruct` in the model's own layout. More persons than the model takes (two NTU actors under a
        one-person model) are filled group by group."""
        m = self.num_persons
        if data.shape[0] > m:
            groups = range(0, data.shape[0], m)
            return np.concatenate(
                [
                    self._reconstruct_model(data[g : g + m], removed[g : g + m], method, num_steps, seed, progress)
                    for g in groups
                ],
                axis=0,
            )
        m_in, length = data.shape[0], data.shape[1]
        x, valid = self._standardise(data)
        present = presence(self._fit_persons(data)) | self._fit_persons(removed).any(axis=2)  # (M, T)
        valid = present.any(axis=1)
        mask = self._fit_persons(removed) & present[:, :, None]  # (M, T, V)
        x[mask] = 0.0  # the model never sees what it must fill
        out = x.copy()
        gen = torch.Generator().manual_seed(int(seed))  # noise drawn on the CPU: same result on every device
        prior = None
        if self.config.model.fill_prior == "interp":  # interpolation over the whole clip, not window by window
            prior = interp_prior(torch.from_numpy(x), torch.from_numpy(mask)).numpy()  # (M, T, V, C + 3)
        starts = self._windows(length)
        centres = np.asarray(starts) + self.num_frames / 2.0
        owner = np.abs(np.arange(length)[:, None] + 0.5 - centres[None]).argmin(axis=1)  # (T,) window per frame
        for i, s in enumerate(starts):
            idx = np.clip(np.arange(s, s + self.num_frames), 0, length - 1)  # short clips repeat the last frame
            xw = torch.from_numpy(x[:, idx][None]).to(self.device)  # (1, M, W, V, C)
            mw = torch.from_numpy(mask[:, idx][None]).to(self.device)  # (1, M, W, V)
            pv = torch.from_numpy(valid[None]).to(self.device)  # (1, M)
            _, first = np.unique(idx, return_index=True)  # each real frame once
            first = first[owner[idx[first]] == i]  # ... and only the frames this window owns
            if mw.any() and len(first) and mask[:, idx[first]].any():
                pw = torch.from_numpy(prior[:, idx][None]).to(self.device) if prior is not None else None
                pw_present = torch.from_numpy(present[:, idx][None]).to(self.device)  # (1, M, W)
                y = self.dcmae.reconstruct(
                    xw, mw, pv, method=method, num_steps=num_steps, generator=gen, prior=pw, present=pw_present
                )
                y = y[0].float().cpu().numpy()  # (M, W, V, C)
                fr = idx[first]
                out[:, fr] = np.where(mask[:, fr, :, None], y[:, first], out[:, fr])
            if progress is not None and progress((i + 1) / len(starts)) is False:
                raise Cancelled()
        if prior is not None and self.fill_gate > 0:
            placed, relative = parent_offsets(torch.from_numpy(x), torch.from_numpy(mask), self.layout.parents)
            gated = self._gate(out, prior, placed.numpy(), relative.numpy())
            out = np.where(mask[..., None], gated, out)
        metres = out * self.std + self.mean
        metres[~valid] = 0.0
        result = np.where(mask[..., None], metres, self._fit_persons(data))
        if prior is not None and self.fill_gate > 0 and self.motion_bank is not None:
            self._bank_fill(result, mask, present, valid)
        return result[:m_in].astype(np.float32)

    def _bank_fill(self, result: np.ndarray, mask: np.ndarray, present: np.ndarray, valid: np.ndarray) -> None:
        """In place: the spans the gate keeps as interpolation (visible on both sides, at most twice the gate
        long) filled from the motion bank where its check passes (`MotionBank.fill`); its spans are counted by
        outcome into `last_bank_report` (added to it: persons beyond the model's are filled group by group)."""
        report = self.last_bank_report
        for p in np.flatnonzero(valid):
            unseen = mask[p] | ~present[p][:, None]  # (T, V): absent frames are not evidence either
            vals, applied = self.motion_bank.fill(result[p], unseen, max_gap=int(2 * self.fill_gate), report=report)
            applied &= mask[p]
            result[p][applied] = vals[applied]

    @torch.no_grad()
    def classify(self, data: np.ndarray, removed: np.ndarray | None = None, layout: Layout | None = None) -> np.ndarray:
        """(num_classes,) probabilities; removed joints are zeroed (in metres) as a sensor reports them.
        `layout`: the data's skeleton when it is not the model's; a joint the data lacks takes its nearest
        ancestor's position (NTU's neck and hand tips under a Kinect-v1 model are simply left out)."""
        if self.classifier is None:
            raise CheckpointError(
                "this checkpoint holds no classifier (it is a pretraining checkpoint); finetune it first"
            )
        data = np.array(data, dtype=np.float32)
        if removed is not None:
            data[np.asarray(removed, dtype=bool)] = 0.0
        layout = self.layout_of(data, layout)
        if layout.name != self.layout.name:
            data, _, idx = self._to_model(data, None, layout)
            for j in np.flatnonzero(idx < 0):
                p = self.layout.parents[j]
                while p >= 0 and idx[p] < 0:
                    p = self.layout.parents[p]
                if p >= 0:
                    data[:, :, j] = data[:, :, p]
        d = self.config.data
        clip, _ = crop_resize(self._fit_persons(data), d.num_frames, train=False, test_crop=d.test_crop)
        if d.face_front:
            clip = face_front(clip, self.layout.lateral_pairs)
        x, valid = self._standardise(clip)
        xt = torch.from_numpy(x[None]).to(self.device)  # (1, M, T, V, C)
        logits = self.classifier(xt, torch.from_numpy(valid[None]).to(self.device))
        return torch.softmax(logits.float(), dim=-1)[0].cpu().numpy()

    def top_k(self, probs: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        order = np.argsort(-probs)[:k]
        return [(self.class_names[i], float(probs[i])) for i in order]
