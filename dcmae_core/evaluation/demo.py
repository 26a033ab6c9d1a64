"""`demo`: the whole pipeline end to end on the project's own corpus, with a markdown + PNG report.

generate -> prepare -> pretrain (DCMAE and the SkeletonMAE ablation) -> finetune (100 %, 10 %, 5 % labels)
-> evaluate (full, missing joints: encoder only vs REC vs interpolation) -> report. Every stage is resumable:
rerunning the same command after an interruption continues where it stopped.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dcmae_core.checkpoint import load_checkpoint, save_checkpoint
from dcmae_core.config import Config, apply_overrides, build_config, config_from_dict
from dcmae_core.evaluation.experiments import SKELETONMAE, Cell, _key, run_cell

log = logging.getLogger(__name__)

OCCLUSION = [0.05, 0.1, 0.2]
METHODS = {"DCMAE": [], "SkeletonMAE": SKELETONMAE}


def few_label_finetune(epochs: int, ratio: float, cap: float = 4.0) -> list[str]:
    """Finetuning overrides for a label ratio: an epoch of 5 % of a small corpus is one or two steps, so the
    few-label runs get min(1/ratio, cap) times the epochs (still fewer steps than the full-label run), with
    four evaluations (evaluating the test split costs more than training on a few labels)."""
    n = max(epochs, round(epochs * min(1.0 / ratio, cap)))
    return [f"train.finetune_epochs={n}", f"train.eval_every={max(1, n // 4)}"]


def demo_cells(finetune_epochs: int = 10) -> list[Cell]:
    cells = []
    for name, over in METHODS.items():
        cells.append(Cell(name, over, 1.0, OCCLUSION))
        cells += [
            Cell(f"{name} {int(r * 100)} %", over, r, finetune=few_label_finetune(finetune_epochs, r))
            for r in (0.1, 0.05)
        ]
    return cells


def make_corpus(out: Path, count: int, seed: int) -> Path:
    from dcmae_core.data.prepare import prepare_ntu
    from dcmae_core.data.synth import corpus_names, write_corpus

    raw, cache = out / "corpus", out / "cache"
    names = corpus_names(count=count, seed=seed)
    missing = [n for n in names if not (raw / f"{n}.skeleton").exists()]
    if missing:
        log.info("generating %d of %d sequences into %s", len(missing), len(names), raw)
        write_corpus(raw, missing, seed=seed)
    prepare_ntu(raw, cache, progress=True)  # resumable: finished files are not redone
    return cache


def slim_checkpoint(
    src: Path, dst: Path, command: str, about: str = "", fill_gate: float | None = None, motion_bank: Any = None
) -> Path:
    """A shipped checkpoint: weights + what describes them (and `about`, a plain-words line on what the model
    learnt from; `motion_bank`, a `MotionBank` to store, else the source's is kept), no optimiser state."""
    ckpt = load_checkpoint(src)
    keep = {k: v for k, v in ckpt.items() if k not in ("optimizer", "train_weights", "path", "format", "version")}
    keep["made_by"] = command
    if about:
        keep["about"] = about
    if fill_gate is not None:
        keep["fill_gate"] = float(fill_gate)
    if motion_bank is not None:
        keep["motion_bank"] = motion_bank.to_dict()
    return save_checkpoint(dst, keep)


def _filmstrip(cfg: Config, pre_ckpt: Path, cache_root: Path, out_png: Path) -> Path:
    """Original / masked (Mt, Mj as in pretraining) / reconstructed rows of one test clip (paper Fig. 2)."""
    from dcmae_core.data.dataset import SkeletonCache
    from dcmae_core.evaluation.report import plot_filmstrip
    from dcmae_core.inference import Predictor
    from dcmae_core.model.masking import spatiotemporal_mask

    cache = SkeletonCache.open(cache_root)
    _, test = cache.split_indices(cfg.data.split)
    names = [cache.names[i] for i in test]
    pick = next((i for i, n in zip(test, names) if n.endswith("A001")), test[0])
    data, _ = cache.sample(int(pick))
    pred = Predictor.from_checkpoint(pre_ckpt, device="cpu")
    t = min(data.shape[1], pred.num_frames)
    data = data[:, :t]
    g = torch.Generator().manual_seed(0)
    st = spatiotemporal_mask(1, t, data.shape[2], cfg.mask.frame_ratio, cfg.mask.joint_ratio, tuple_len=1, generator=g)
    removed = np.repeat(st.removed.numpy(), data.shape[0], axis=0)  # (M, T, V), same mask for each person
    removed &= np.abs(data).sum(axis=-1) > 0
    rec = pred.reconstruct(data, removed)
    frames = sorted({min(f, t - 1) for f in (0, t // 5, 2 * t // 5, 3 * t // 5, 4 * t // 5)})
    return plot_filmstrip(
        data,
        removed,
        rec,
        cache.layout,
        frames,
        out_png,
        title=f"{cache.names[int(pick)]}: DCMAE reconstruction (Mt {cfg.mask.frame_ratio}, Mj {cfg.mask.joint_ratio})",
    )


def write_report(out: Path, base: Config, results: dict[str, dict[str, Any]], seconds: float, command: str) -> Path:
    from dcmae_core.evaluation.report import plot_accuracy_vs_occlusion, plot_loss_curves

    pre = {name: out / "pretrain" / _key(over) for name, over in METHODS.items()}
    plot_loss_curves(pre, out / "pretrain_loss.png")
    series = {}
    for name in METHODS:
        res = results[name]
        for arm, label in (("encoder_only", "encoder only"), ("rec", "REC"), ("interpolation", "interpolation")):
            pts = {0.0: res["best_top1"]}
            pts.update({float(k.split("_")[1]): v[arm] for k, v in res["occlusion"].items() if arm in v})
            series[f"{name} {label}"] = pts
    plot_accuracy_vs_occlusion(series, out / "accuracy_vs_occlusion.png")
    _filmstrip(base, pre["DCMAE"] / "last.pt", Path(base.data.root), out / "filmstrip.png")

    def pct(x):
        return "–" if x is None else f"{100 * x:.1f}"

    rows = [
        "| method | 100 % labels | 10 % labels | 5 % labels | "
        + " | ".join(f"{int(r * 100)} % missing: enc / REC / interp" for r in OCCLUSION)
        + " |",
        "|---|---|---|---|" + "---|" * len(OCCLUSION),
    ]
    for name in METHODS:
        full = results[name]
        occ = [
            " / ".join(
                pct(full["occlusion"][f"occlusion_{r:g}"].get(arm)) for arm in ("encoder_only", "rec", "interpolation")
            )
            for r in OCCLUSION
        ]
        rows.append(
            f"| {name} | {pct(full['best_top1'])} | {pct(results[f'{name} 10 %']['best_top1'])} | "
            f"{pct(results[f'{name} 5 %']['best_top1'])} | " + " | ".join(occ) + " |"
        )
    text = "\n".join(
        [
            "# DCMAE demo report",
            "",
            f"Command: `{command}`  ",
            f"Preset: `{base.data.root and 'demo'}`; dataset: the project's synthetic corpus "
            f"(`{base.data.root}`), split {base.data.split}; wall time {seconds / 60:.1f} min.",
            "",
            "Top-1 accuracy (%) on the test split, best epoch (the field's convention). Missing joints: a seeded "
            "random share of (frame, joint) entries removed from every test clip; *enc* classifies the damaged "
            "clip, *REC* first fills the removed joints with the pretrained model's one-step reconstruction, "
            "*interp* fills them by linear interpolation in time (no model: the baseline to beat).",
            "",
            *rows,
            "",
            "![pretraining loss](pretrain_loss.png)",
            "",
            "![accuracy vs missing joints](accuracy_vs_occlusion.png)",
            "",
            "![reconstruction filmstrip](filmstrip.png)",
            "",
        ]
    )
    path = out / "report.md"
    path.write_text(text)
    return path


def run_demo(
    out: str | Path,
    preset: str = "demo",
    count: int = 1200,
    seed: int = 0,
    overrides: list[str] | None = None,
    jsonl: bool = False,
    install: str | Path | None = None,
    command: str = "",
) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    cache = make_corpus(out, count, seed)
    base = build_config(preset, [f"data.root={cache}", *(overrides or [])])
    results = {}
    for cell in demo_cells(base.train.finetune_epochs):
        log.info("demo: %s", cell.name)
        cfg = apply_overrides(config_from_dict(base.to_dict()), [])
        results[cell.name] = run_cell(cell, cfg, out, jsonl=jsonl)
    report = write_report(out, base, results, time.time() - t0, command)
    full_dir = out / "cells" / _key(demo_cells()[0].pretrain + ["labels=1.0", f"occ={OCCLUSION}"]) / "finetune"
    ckpt = slim_checkpoint(full_dir / "best.pt", out / "dcmae_demo.pt", command)
    if install:
        Path(install).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ckpt, install)
        log.info("installed the demo checkpoint at %s", install)
    log.info("demo finished in %.1f min: %s", (time.time() - t0) / 60, report)
    return report
