"""Read a prepared cache (`SkeletonCache`) and serve crop-resized, standardised samples (`SkeletonDataset`).

The cache format is described in `prepare.py` and docs/data_formats.md. Frames are memory-mapped, so
opening a cache costs the index only, and worker processes share the page cache.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from dcmae_core.config import DataConfig
from dcmae_core.data import splits as splits_mod
from dcmae_core.data import transforms
from dcmae_core.data.prepare import read_cache_index, train_masks
from dcmae_core.layout import Layout

log = logging.getLogger(__name__)


class SkeletonCache:
    """A finished dataset cache folder: index, names, meta and memory-mapped frames."""

    def __init__(self, root: Path, meta: dict, index: np.ndarray, names: list[str]) -> None:
        self.root = root
        self.meta = meta
        self.index = index
        self.names = names
        self.layout = Layout.from_dict(meta["layout"])
        self.class_names: list[str] = list(meta["class_names"])
        self.class_ids: list[int] = list(meta["class_ids"])
        self.num_persons: int = int(meta["num_persons"])
        self.num_joints: int = int(meta["num_joints"])
        self.channels: int = int(meta["channels"])
        self.dataset: str = meta["dataset"]
        self.labels: np.ndarray = index["label"].astype(np.int64)
        self._mm: np.ndarray | None = None

    @classmethod
    def open(cls, root: str | Path) -> SkeletonCache:
        """Open a cache made by `prepare` or an importer; errors name what is missing or wrong."""
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"dataset cache {root} does not exist")
        meta, index, names = read_cache_index(root)
        m, v, c = meta["num_persons"], meta["num_joints"], meta["channels"]
        need = int((index["offset"] + index["length"] * m * v * c).max(initial=0)) * 4
        have = (root / "data.bin").stat().st_size if (root / "data.bin").exists() else 0
        if have < need:
            raise ValueError(f"{root}/data.bin is truncated: {have} bytes, the index needs {need}")
        return cls(root, meta, index, names)

    def __len__(self) -> int:
        return len(self.index)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_mm"] = None  # never pickle the mapped frames into worker processes; reopen there
        return state

    @property
    def _frames(self) -> np.ndarray:
        if self._mm is None:
            size = (self.root / "data.bin").stat().st_size
            self._mm = (
                np.memmap(self.root / "data.bin", dtype=np.float32, mode="r") if size else np.zeros(0, np.float32)
            )
        return self._mm

    def sample(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(data (M, T_i, V, C) float32 centred metres, person_valid (M,) bool) of sample i."""
        if not 0 <= i < len(self.index):
            raise IndexError(f"sample {i} outside 0..{len(self.index) - 1}")
        row = self.index[i]
        m, t = self.num_persons, int(row["length"])
        flat = self._frames[row["offset"] : row["offset"] + m * t * self.num_joints * self.channels]
        data = np.array(flat, dtype=np.float32).reshape(m, t, self.num_joints, self.channels)  # (M, T, V, C)
        return data, row["person_valid"].copy()

    def field(self, name: str) -> np.ndarray:
        """(N,) column of the index: setup, camera, performer, replication, action, split, length."""
        return np.asarray(self.index[name])

    def _split_key(self, split: str) -> str:
        if self.dataset in splits_mod.SPLITS_BY_DATASET:
            return split  # validated by ntu_train_mask
        if split not in self.meta["splits"]:
            log.info("%s has its own stored train/test split; data.split=%s uses it", self.root, split)
        return self.meta["splits"][0]

    def split_indices(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(train_idx, test_idx) int64 of a split (NTU-60: xsub/xview, NTU-120: xsub/xset)."""
        key = self._split_key(split)
        mask = train_masks(self.index, self.dataset, (key,))[key]
        return splits_mod.mask_to_indices(mask)

    def stats(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(mean (C,), std (C,)) float32 over the training samples of the split."""
        key = self._split_key(split)
        if key not in self.meta["stats"]:
            raise ValueError(f"{self.root}: no statistics for split {split!r}; has {', '.join(self.meta['stats'])}")
        st = self.meta["stats"][key]
        return np.asarray(st["mean"], np.float32), np.asarray(st["std"], np.float32)


class SkeletonDataset(Dataset):
    """Samples of a cache as dicts of tensors (see `__getitem__`), crop-resized to data_cfg.num_frames.

    seed: None draws each item's randomness from torch's global generator (seeded per DataLoader worker);
    an int makes item k of epoch e always the same (call `set_epoch`).
    """

    def __init__(
        self,
        cache: SkeletonCache,
        indices: np.ndarray,
        data_cfg: DataConfig,
        train: bool,
        mean: np.ndarray,
        std: np.ndarray,
        seed: int | None = None,
    ) -> None:
        self.cache = cache
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= len(cache)):
            raise IndexError(f"indices outside 0..{len(cache) - 1}")
        self.cfg = data_cfg
        self.train = train
        self.mean = np.asarray(mean, np.float32).reshape(-1)
        self.std = np.asarray(std, np.float32).reshape(-1)
        if self.mean.shape != (cache.channels,) or self.std.shape != (cache.channels,):
            raise ValueError(f"mean/std must have C = {cache.channels} entries")
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.indices)

    def _rng(self, i: int) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))
        return np.random.default_rng([self.seed, self.epoch, i])

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        """{"x": (M, num_frames, V, C) float32 standardised, "present": (M, num_frames) bool,
        "person_valid": (M,) bool, "label": int64, "index": int64 (row in the cache)}."""
        i = int(self.indices[k])
        data, person_valid = self.cache.sample(i)
        if self.cfg.copy_single_actor and len(person_valid) > 1 and not person_valid[1] and person_valid[0]:
            data[1], person_valid[1] = data[0], True  # the field's NTU-120 habit (SPEC §2.4 option)
        present = transforms.presence(data) & person_valid[:, None]  # (M, T)
        cfg = self.cfg
        rng = self._rng(i) if self.train else None
        if cfg.window == "native":
            x, present = transforms.native_window(data, cfg.num_frames, self.train, rng, present=present)
        else:
            x, present = transforms.crop_resize(
                data,
                cfg.num_frames,
                self.train,
                rng,
                cfg.crop_min,
                cfg.crop_max,
                cfg.crop_min_frames,
                cfg.test_crop,
                present=present,
            )  # (M, num_frames, V, C)
        if cfg.face_front:
            x = transforms.face_front(x, self.cache.layout.lateral_pairs)
        if self.train and cfg.rotate > 0:
            x = transforms.random_rotate(x, cfg.rotate, rng)
        if self.train and cfg.scale > 0:
            x = transforms.random_scale(x, cfg.scale, rng)
        x = transforms.standardise(x, present, self.mean, self.std)
        return {
            "x": torch.from_numpy(x),
            "present": torch.from_numpy(present),
            "person_valid": torch.from_numpy(np.asarray(person_valid, dtype=bool)),
            "label": torch.tensor(int(self.cache.labels[i]), dtype=torch.int64),
            "index": torch.tensor(i, dtype=torch.int64),
        }
