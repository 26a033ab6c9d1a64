"""How hard is the synthetic corpus? Nearest-centroid accuracy on raw coordinates + generation throughput.

    python bench/nearest_centroid.py --count 1200 --seed 0        # generate into a temporary folder
    python bench/nearest_centroid.py --folder DIR                 # or read an existing corpus

Each file goes through the standard preprocessing (SPEC §2 steps 1-4), is resampled to --length frames by
linear interpolation and flattened (M * L * V * 3 numbers). Two views of "raw coordinates" are scored:
`camera` (Kinect camera space as written in the file) and `centred` (minus the spine-mid origin of
actor 1, what the model sees before standardisation). Splits: cross-subject (train performers = SPEC's
NTU-60 X-Sub list) and cross-view (cameras 2, 3 train, camera 1 test). A figure near 100 % would mean a
trivial rule separates the classes; chance is 1 / number of classes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcmae_core.data.ntu import parse_sample_name, read_skeleton
from dcmae_core.data.preprocess import preprocess_skeleton
from dcmae_core.data.splits import NTU60_XSUB_TRAIN
from dcmae_core.data.synth import corpus_names, write_corpus


def resample(data: np.ndarray, length: int) -> np.ndarray:
    """(M, T, V, C) -> (M, length, V, C) by linear interpolation along time."""
    t = data.shape[1]
    pos = np.linspace(0.0, t - 1.0, length)
    i = np.minimum(pos.astype(int), max(t - 2, 0))
    w = (pos - i)[None, :, None, None]
    j = np.minimum(i + 1, t - 1)
    return data[:, i] * (1 - w) + data[:, j] * w  # (M, length, V, C)


def load(folder: Path, length: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Features {'camera', 'centred'} (N, M*L*V*3), labels (N,), performers (N,), cameras (N,)."""
    feats: dict[str, list[np.ndarray]] = {"camera": [], "centred": []}
    labels, performers, cameras = [], [], []
    for path in sorted(folder.glob("*.skeleton")):
        name = parse_sample_name(path)
        pre = preprocess_skeleton(read_skeleton(path))
        centred = resample(pre.data.astype(np.float64), length)  # (M, L, V, 3)
        present = resample(pre.present[..., None, None].astype(np.float64), length) > 0.5  # (M, L, 1, 1)
        camera = np.where(present, centred + pre.origin, 0.0)  # (M, L, V, 3), absent stays 0
        feats["centred"].append(centred.ravel())
        feats["camera"].append(camera.ravel())
        labels.append(name.action)
        performers.append(name.performer)
        cameras.append(name.camera)
    if not labels:
        raise SystemExit(f"no .skeleton files in {folder}")
    return ({k: np.stack(v) for k, v in feats.items()}, np.asarray(labels), np.asarray(performers), np.asarray(cameras))


def nearest_centroid(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> float:
    """Accuracy (%) on ~train of the nearest class mean (Euclidean) fitted on train; x (N, F), y (N,)."""
    classes = np.unique(y[train])
    centroids = np.stack([x[train & (y == c)].mean(0) for c in classes])  # (K, F)
    test = x[~train]
    d = (test**2).sum(1)[:, None] - 2 * test @ centroids.T + (centroids**2).sum(1)[None, :]  # (N_test, K)
    return float((classes[d.argmin(1)] == y[~train]).mean() * 100)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", type=Path, help="read this corpus instead of generating one")
    ap.add_argument("--count", type=int, default=1200, help="sequences to generate (default 1200)")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed")
    ap.add_argument("--length", type=int, default=32, help="frames after resampling (default 32)")
    args = ap.parse_args(argv)

    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None:
            folder = Path(tmp)
            names = corpus_names(count=args.count, seed=args.seed)
            start, cpu = time.perf_counter(), time.process_time()
            write_corpus(folder, names, seed=args.seed)  # generation + text formatting + writing
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            size = sum(p.stat().st_size for p in folder.glob("*.skeleton"))
            # CPU seconds of this single-threaded process: a figure that a busy machine does not skew.
            result.update(
                generated=len(names),
                seconds=round(elapsed, 2),
                cpu_seconds=round(cpu, 2),
                sequences_per_s=round(len(names) / elapsed, 1),
                sequences_per_cpu_s=round(len(names) / cpu, 1),
                megabytes=round(size / 1e6, 1),
            )
        start = time.perf_counter()
        feats, y, performer, camera = load(folder, args.length)
        result["read_and_preprocess_s"] = round(time.perf_counter() - start, 2)
    xsub = np.isin(performer, NTU60_XSUB_TRAIN)
    xview = np.isin(camera, (2, 3))
    result.update(
        sequences=int(y.size), classes=int(np.unique(y).size), chance_percent=round(100 / np.unique(y).size, 1)
    )
    for view, x in feats.items():
        result[f"xsub_{view}_percent"] = round(nearest_centroid(x, y, xsub), 1)
        result[f"xview_{view}_percent"] = round(nearest_centroid(x, y, xview), 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
