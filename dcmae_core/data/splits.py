"""Benchmark splits (SPEC §2): NTU-60 X-Sub / X-View, NTU-120 X-Sub / X-Set; few-label subsets; validation.

Every function returns sorted int64 index arrays into the cache. Random draws use
`np.random.default_rng(seed)` only, so the same seed gives the same indices on every process.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

NTU60_XSUB_TRAIN = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
NTU120_XSUB_TRAIN = NTU60_XSUB_TRAIN + (
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91,
    92, 93, 94, 95, 97, 98, 100, 103,
)  # fmt: skip
NTU60_XVIEW_TRAIN_CAMERAS = (2, 3)
SPLITS_BY_DATASET = {"ntu60": ("xsub", "xview"), "ntu120": ("xsub", "xset")}


def ntu_train_mask(
    dataset: str, split: str, setup: np.ndarray, camera: np.ndarray, performer: np.ndarray
) -> np.ndarray:
    """(N,) bool, True for training samples of an NTU benchmark split; the arrays are (N,) name fields."""
    if dataset not in SPLITS_BY_DATASET:
        raise ValueError(f"unknown NTU dataset {dataset!r}; expected ntu60 or ntu120")
    if split not in SPLITS_BY_DATASET[dataset]:
        raise ValueError(
            f"split {split!r} does not exist for {dataset}; choose {' or '.join(SPLITS_BY_DATASET[dataset])}"
        )
    if split == "xsub":
        subjects = NTU60_XSUB_TRAIN if dataset == "ntu60" else NTU120_XSUB_TRAIN
        return np.isin(performer, subjects)
    if split == "xview":
        return np.isin(camera, NTU60_XVIEW_TRAIN_CAMERAS)
    return np.asarray(setup) % 2 == 0  # xset: even setups train, odd test


def mask_to_indices(train_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, test_idx) int64 from a (N,) bool training mask."""
    train_mask = np.asarray(train_mask, dtype=bool)
    return np.flatnonzero(train_mask).astype(np.int64), np.flatnonzero(~train_mask).astype(np.int64)


def _draw(indices: np.ndarray, labels: np.ndarray | None, ratio: float, rng, stratified: bool) -> np.ndarray:
    """A random subset of `indices` holding about ratio of them (at least one per class if stratified)."""
    indices = np.asarray(indices, dtype=np.int64)
    if not stratified:
        n = max(1, int(round(ratio * len(indices)))) if len(indices) else 0
        return np.sort(rng.permutation(indices)[:n])
    if labels is None:
        raise ValueError("a stratified draw needs the labels")
    lab = np.asarray(labels)[indices]
    chosen = []
    for c in np.unique(lab):  # ascending class order keeps the draw reproducible
        members = indices[lab == c]
        n = max(1, int(round(ratio * len(members))))
        chosen.append(rng.permutation(members)[:n])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)


def few_label_subset(
    train_idx: np.ndarray,
    ratio: float,
    seed: int,
    labels: np.ndarray | None = None,
    stratified: bool = False,
) -> np.ndarray:
    """A seeded subset of the training indices at label ratio r (0 < r <= 1); r = 1 returns them all.

    labels: (N,) labels of the whole cache (needed when stratified: the draw is made per class).
    """
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"label ratio must lie in (0, 1], got {ratio}")
    train_idx = np.sort(np.asarray(train_idx, dtype=np.int64))
    if ratio == 1.0:
        return train_idx
    return _draw(train_idx, labels, ratio, np.random.default_rng(seed), stratified)


def validation_split(
    train_idx: np.ndarray,
    ratio: float,
    seed: int,
    labels: np.ndarray | None = None,
    stratified: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out a seeded share `ratio` of the training indices: returns (train_idx, val_idx)."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"validation ratio must lie in [0, 1), got {ratio}")
    train_idx = np.sort(np.asarray(train_idx, dtype=np.int64))
    if ratio == 0.0 or len(train_idx) < 2:
        return train_idx, np.zeros(0, np.int64)
    # A different stream from the few-label draw with the same seed.
    val = _draw(train_idx, labels, ratio, np.random.default_rng([seed, 1]), stratified)
    if len(val) == len(train_idx):
        val = val[:-1]
    return np.setdiff1d(train_idx, val), val


@dataclass
class SplitIndices:
    """Index sets of one run. `train` is the (possibly few-label) labelled training set."""

    train: np.ndarray  # (N_train,) int64
    val: np.ndarray  # (N_val,) int64, empty when data.val_ratio = 0
    test: np.ndarray  # (N_test,) int64
    full_train: np.ndarray  # (N,) int64, the whole training split minus the validation slice (pretraining)


def resolve_splits(cache, data_cfg) -> SplitIndices:
    """Apply data_cfg.split, then the validation slice, then the few-label draw (seeded by label_seed).

    cache: a `SkeletonCache` (anything with `split_indices(split)` and `labels`); data_cfg: `DataConfig`.
    """
    train, test = cache.split_indices(data_cfg.split)
    labels = np.asarray(cache.labels)
    train, val = validation_split(train, data_cfg.val_ratio, data_cfg.label_seed, labels, data_cfg.stratified)
    labelled = few_label_subset(train, data_cfg.label_ratio, data_cfg.label_seed, labels, data_cfg.stratified)
    return SplitIndices(train=labelled, val=val, test=test, full_train=train)


def save_indices(path: str | Path, indices: np.ndarray, **info) -> None:
    """Write indices as JSON {"indices": [...], **info} (e.g. ratio, seed, split) beside a run."""
    path = Path(path)
    payload = dict(info)
    payload["indices"] = [int(i) for i in np.asarray(indices).reshape(-1)]
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    tmp.replace(path)


def load_indices(path: str | Path) -> np.ndarray:
    """Read indices written by `save_indices`; (K,) int64."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        values = payload["indices"]
        arr = np.asarray(values, dtype=np.int64)
    except FileNotFoundError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not an index file written by save_indices ({exc})") from exc
    if arr.ndim != 1 or np.any(arr < 0):
        raise ValueError(f"{path}: indices must be a flat list of non-negative integers")
    return arr
