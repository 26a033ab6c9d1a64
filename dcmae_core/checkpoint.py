"""Self-describing checkpoints: weights + optimiser/schedule state + config, statistics, layout, class names.

Saved atomically (temporary file, fsync, rename). Loaded with `torch.load(weights_only=True)`, so a checkpoint
can never run code: a corrupt, truncated, foreign or malicious file gives a `CheckpointError` naming the problem.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "dcmae-checkpoint"
VERSION = 1
REQUIRED_KEYS = ("format", "version", "config", "layout", "class_names", "stats")


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


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write `payload` (plus format/version) atomically to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "version": VERSION}
    data.update({k: (v if k in ("optimizer",) else _to_plain(v)) for k, v in payload.items()})
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        torch.save(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
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
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {', '.join(missing)}")
    if data.get("dcmae") is None and data.get("classifier") is None:
        raise CheckpointError(f"checkpoint {path} holds no model weights")
    data["path"] = str(path)
    return data


def write_untrained_checkpoint(path: str | Path, preset: str = "tiny", num_classes: int = 12,
                               seed: int = 0) -> Path:
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
    return save_checkpoint(path, {
        "kind": "untrained", "config": cfg.to_dict(), "layout": NTU25.to_dict(),
        "class_names": list(ACTION_NAMES[:num_classes]),
        "stats": {"mean": [0.0, 0.0, 0.0], "std": [0.5, 0.5, 0.5]},
        "num_persons": 2, "num_frames": cfg.data.num_frames, "in_channels": 3,
        "dataset": {"kind": "none", "root": ""}, "metrics": {},
        "dcmae": dcmae.state_dict(), "classifier": clf.state_dict(),
    })
