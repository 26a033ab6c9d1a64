"""PNG figures for run reports (matplotlib, headless Agg backend): loss curves, accuracy vs occlusion,
and a reconstruction filmstrip in the style of the paper's Fig. 2 (rows original / masked / reconstructed)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from dcmae_core.layout import Layout

PERSON_COLOURS = ("#2f7fd8", "#e08a1e")
MASK_COLOUR = "#d62728"


def read_metrics(run_dir: str | Path) -> list[dict]:
    path = Path(run_dir) / "metrics.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def _save_line_plot(fig, ax, out_png: str | Path) -> Path:
    """Grid, legend, tight layout; write the PNG and free the figure."""
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_png)
    plt.close(fig)
    return Path(out_png)


def plot_loss_curves(runs: dict[str, str | Path], out_png: str | Path, title: str = "Pretraining loss") -> Path:
    """One line per run: the per-step training loss against the global step."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    for label, run in runs.items():
        steps = [(r["step"], r["loss"]) for r in read_metrics(run) if r.get("event") == "step"]
        if steps:
            s, loss = zip(*steps)
            ax.plot(s, loss, label=label, lw=1.4)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (MSE, standardised units)" if "retrain" in title else "loss")
    ax.set_yscale("log")
    ax.set_title(title)
    return _save_line_plot(fig, ax, out_png)


_ARM_STYLES = {"encoder only": "-", "REC": "--", "interpolation": ":"}


def plot_accuracy_vs_occlusion(series: dict[str, dict[float, float]], out_png: str | Path) -> Path:
    """series: "METHOD ARM" -> {occlusion ratio: top-1 accuracy in [0, 1]}; one colour per method, one line
    style per arm (encoder only solid, REC dashed, interpolation dotted)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    colours: dict[str, str] = {}
    for label, points in series.items():
        method, _, arm = label.partition(" ")
        colour = colours.setdefault(method, f"C{len(colours)}")
        r = sorted(points)
        ax.plot(
            [100 * x for x in r],
            [100 * points[x] for x in r],
            marker="o",
            label=label,
            color=colour,
            linestyle=_ARM_STYLES.get(arm, "-"),
        )
    ax.set_xlabel("missing joints (%)")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title("Accuracy under missing joints")
    return _save_line_plot(fig, ax, out_png)


def _draw_skeleton(ax, xyz: np.ndarray, layout: Layout, removed: np.ndarray | None, ghost: bool) -> None:
    """xyz (M, V, 3) one frame; removed (M, V) bool or None. Front view (x right, y up)."""
    bones = layout.bones
    for m in range(xyz.shape[0]):
        pts = xyz[m]
        if not np.any(pts):
            continue
        col = PERSON_COLOURS[m % len(PERSON_COLOURS)]
        for c, p in bones:
            hidden = removed is not None and (removed[m, c] or removed[m, p])
            if hidden and ghost:
                continue
            ax.plot(pts[[c, p], 0], pts[[c, p], 1], color=col, lw=1.5, alpha=0.35 if hidden else 1.0)
        vis = np.ones(len(pts), bool) if removed is None else ~removed[m]
        ax.scatter(pts[vis, 0], pts[vis, 1], s=5, color=col, zorder=3)
        if removed is not None and removed[m].any():
            ax.scatter(pts[removed[m], 0], pts[removed[m], 1], s=12, color=MASK_COLOUR, zorder=4)


def plot_filmstrip(
    original: np.ndarray,
    removed: np.ndarray,
    reconstructed: np.ndarray,
    layout: Layout,
    frames: list[int],
    out_png: str | Path,
    title: str = "",
) -> Path:
    """original / reconstructed (M, T, V, 3) metres, removed (M, T, V) bool; one column per frame."""
    rows = (
        ("original", original, None, False),
        ("masked", original, removed, True),
        ("reconstructed", reconstructed, removed, False),
    )
    fig, axes = plt.subplots(3, len(frames), figsize=(1.9 * len(frames), 6.0), dpi=110, squeeze=False)
    valid = np.abs(original).sum(axis=(1, 2, 3)) > 0
    pts = np.concatenate([original[valid].reshape(-1, 3), reconstructed[valid].reshape(-1, 3)])  # fits both
    pts = pts[np.abs(pts).sum(axis=1) > 0]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.1 * float(max(hi[0] - lo[0], hi[1] - lo[1], 0.5))
    for r, (name, data, rem, ghost) in enumerate(rows):
        for c, f in enumerate(frames):
            ax = axes[r, c]
            frame_removed = None if rem is None else rem[:, f]
            if ghost and frame_removed is not None and frame_removed.all(axis=1)[valid].all():
                ax.text(0.5, 0.5, "frame\nmasked", ha="center", va="center", color=MASK_COLOUR, transform=ax.transAxes)
            else:
                _draw_skeleton(ax, data[:, f], layout, frame_removed, ghost)
            ax.set_xlim(lo[0] - pad, hi[0] + pad)
            ax.set_ylim(lo[1] - pad, hi[1] + pad)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {f + 1}", fontsize=9)
            if c == 0:
                ax.set_ylabel(name, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(out_png)
    plt.close(fig)
    return Path(out_png)
