"""Self-describing checkpoints: weights + optimiser/schedule state + config, statistics, layout, class names.

Saved atomically (temporary file, fsync, rename). Loaded with `torch.load(weights_only=True)`, so a checkpoint
can never run code: a corrupt, truncated, foreign or malicious file gives a `CheckpointError` naming the problem.
Saved with a SHA-256 checksum of its contents (every tensor's bytes and every other value), checked on load,
so a flipped bit is an error instead of changed weights; checkpoints written before the checksum still load.
Weights or statistics that are NaN or infinite are refused.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "dcmae-checkpoint"
VERSION = 1
REQUIRED_KEYS = (
    "format",
    "version",
    "config",
    "layout",
    "class_names",
    "stats",
    "num_persons",
    "in_channels",
    "num_frames",
)
CHECKSUM_KEY = "checksum"  # sha256 hex digest of everything else (see `content_checksum`)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says which file and why."""


def _to_plain(obj: Any) -> Any:
    """Tensors, numbers, strings, lists and dicts only (what weights_only loading accepts)."""
    if isinstance(obj, dict):
        return {str(k): _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return obj.tolist()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"checkpoint field of type {type(obj).__name__} is not plain data")


def _feed(h: hashlib._Hash, obj: Any) -> None:
    """Hash `obj` canonically: dicts by sorted key, tensors by dtype, shape and raw bytes, the rest by repr."""
    if isinstance(obj, dict):
        h.update(b"{")
        for key in sorted(obj, key=str):
            h.update(repr(key).encode() + b":")
            _feed(h, obj[key])
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for v in obj:
            _feed(h, v)
        h.update(b"]")
    elif isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    else:
        h.update(repr(obj).encode())


def content_checksum(data: dict[str, Any]) -> str:
    """SHA-256 of a checkpoint's contents, its own checksum and load-time fields left out."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in data.items() if k not in (CHECKSUM_KEY, "path")})
    return h.hexdigest()


def _check_finite(path: Path, data: dict[str, Any]) -> None:
    """Refuse NaN/Inf model weights or normalisation statistics (they give NaN predictions, not an error)."""
    for part in ("dcmae", "classifier"):
        for name, t in (data.get(part) or {}).items():
            if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
                raise CheckpointError(
                    f"checkpoint {path}: weight {part}.{name} holds NaN or infinite values "
                    f"(a diverged or damaged run); use an earlier checkpoint"
                )
    stats = data["stats"]
    try:
        mean, std = [float(v) for v in stats["mean"]], [float(v) for v in stats["std"]]
    except (TypeError, KeyError, ValueError):
        raise CheckpointError(f"checkpoint {path}: stats must hold lists 'mean' and 'std'") from None
    if len(mean) != len(std) or not all(math.isfinite(v) for v in mean + std) or min(std, default=1) <= 0:
        raise CheckpointError(
            f"checkpoint {path}: its normalisation statistics are unusable (NaN, infinite, "
            f"a std <= 0 or lengths that differ): mean {mean}, std {std}"
        )


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write `payload` (plus format/version) atomically to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "version": VERSION}
    data.update(
        {k: (v if k in ("optimizer",) else _to_plain(v)) for k, v in payload.items() if k not in (CHECKSUM_KEY, "path")}
    )
    data[CHECKSUM_KEY] = content_checksum(data)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            torch.save(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk or an interrupt: no half-written temp file left, `path` untouched
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and check a checkpoint on the CPU; never unpickles arbitrary objects."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder; give the .pt file (e.g. {path}/best.pt)")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"checkpoint {path} was refused: it contains objects that are not plain weights "
            f"(it may be unsafe or from another program): {str(exc).splitlines()[0]}"
        ) from exc
    except (zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt ({exc})") from exc
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint {path} is not a readable PyTorch file ({str(exc)[:200]})") from exc
    except Exception as exc:  # any other decoder failure is still a bad file, not a crash
        raise CheckpointError(f"checkpoint {path} could not be read: {type(exc).__name__}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint {path} is not a DCMAE Studio checkpoint (a foreign file or a bare state dict)"
        )
    if int(data.get("version", 0)) > VERSION:
        raise CheckpointError(f"checkpoint {path} has format version {data['version']}; this build reads {VERSION}")
    if CHECKSUM_KEY in data and content_checksum(data) != data[CHECKSUM_KEY]:
        raise CheckpointError(
            f"checkpoint {path} is corrupt: its contents do not match the checksum saved with "
            f"it (a damaged copy or disk); use another copy or an earlier checkpoint"
        )
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {', '.join(missing)}")
    if data.get("dcmae") is None and data.get("classifier") is None:
        raise CheckpointError(f"checkpoint {path} holds no model weights")
    _check_finite(path, data)
    data["path"] = str(path)
    return data


def write_untrained_checkpoint(path: str | Path, preset: str = "tiny", num_classes: int = 12, seed: int = 0) -> Path:
    """A valid checkpoint of a freshly initialised model (NTU-25 layout, the first `num_classes` NTU
    actions), for tests and for trying the app's plumbing without a trained model."""
    from dcmae_core.config import build_config
    from dcmae_core.data.ntu import ACTION_NAMES
    from dcmae_core.layout import NTU25
    from dcmae_core.model.factory import build_classifier, build_dcmae

    cfg = build_config(preset)
    torch.manual_seed(seed)
    dcmae = build_dcmae(cfg, NTU25.num_joints)
    clf = build_classifier(cfg, dcmae.encoder, num_classes)
    return save_checkpoint(
        path,
        {
            "kind": "untrained",
            "config": cfg.to_dict(),
            "layout": NTU25.to_dict(),
            "class_names": list(ACTION_NAMES[:num_classes]),
            "stats": {"mean": [0.0, 0.0, 0.0], "std": [0.5, 0.5, 0.5]},
            "num_persons": 2,
            "num_frames": cfg.data.num_frames,
            "in_channels": 3,
            "dataset": {"kind": "none", "root": ""},
            "metrics": {},
            "dcmae": dcmae.state_dict(),
            "classifier": clf.state_dict(),
        },
    )
