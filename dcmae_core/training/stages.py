"""Pretraining and finetuning runs: data + model + optimiser + run folder around the engine's loops.

`run_pretrain` and `run_finetune` are what `python -m dcmae_core.train pretrain|finetune` call (also under
torchrun), and what the app's training subprocess and the tests call.
"""

from __future__ import annotations

import logging
import math
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader

from dcmae_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dcmae_core.config import Config, config_from_dict
from dcmae_core.data.dataset import SkeletonCache, SkeletonDataset
from dcmae_core.data.splits import few_label_subset, load_indices, resolve_splits, save_indices
from dcmae_core.layout import Layout
from dcmae_core.model.dcmae import DCMAEClassifier
from dcmae_core.model.factory import build_classifier, build_dcmae
from dcmae_core.occlusion import occlusion_mask, parse_patterns
from dcmae_core.training.allocator import keep_freed_memory
from dcmae_core.training.devices import DistContext, autocast_dtype, enable_tf32, init_distributed, resolve_device
from dcmae_core.training.engine import (
    EpochSampler,
    TrainState,
    classification_loss,
    compile_for_training,
    evaluate,
    train_one_epoch,
)
from dcmae_core.training.optimizer import build_optimizer, lr_at
from dcmae_core.training.run_folder import claim_run_dir, truncate_metrics
from dcmae_core.training.run_logger import RunLogger
from dcmae_core.training.seeding import seed_everything
from dcmae_core.training.weight_average import WeightAverage

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- data and models
@dataclass
class DataBundle:
    cache: SkeletonCache
    train_idx: np.ndarray
    test_idx: np.ndarray
    mean: np.ndarray  # (C,) per-channel mean of the training split (metres)
    std: np.ndarray  # (C,)

    @property
    def layout(self) -> Layout:
        return self.cache.layout

    @property
    def class_names(self) -> list[str]:
        return list(self.cache.class_names)


def load_data(cfg: Config) -> DataBundle:
    if not cfg.data.root:
        raise ValueError(
            "no dataset given: pass --data DIR (a folder made by `prepare`, `synth --prepare` "
            "or an importer) or --set data.root=DIR"
        )
    cache = SkeletonCache.open(cfg.data.root)
    splits = resolve_splits(cache, cfg.data)
    # With a validation slice, it replaces the test split for model selection (SPEC §2: offered, not default).
    train_idx, test_idx = splits.full_train, (splits.val if cfg.data.val_ratio > 0 else splits.test)
    mean, std = cache.stats(cfg.data.split)
    if len(train_idx) == 0 or len(test_idx) == 0:
        raise ValueError(
            f"split {cfg.data.split!r} of {cfg.data.root} leaves {len(train_idx)} training and "
            f"{len(test_idx)} test samples; both must be non-empty"
        )
    return DataBundle(cache, np.asarray(train_idx), np.asarray(test_idx), np.asarray(mean), np.asarray(std))


def data_meta(data: DataBundle, cfg: Config) -> dict[str, Any]:
    """What a checkpoint must carry to be used without the dataset."""
    return {
        "stats": {"mean": data.mean.tolist(), "std": data.std.tolist()},
        "layout": data.layout.to_dict(),
        "class_names": data.class_names,
        "num_persons": int(data.cache.num_persons),
        "num_frames": int(cfg.data.num_frames),
        "in_channels": int(len(data.mean)),
        "dataset": {
            "root": str(cfg.data.root),
            "split": cfg.data.split,
            "train": int(len(data.train_idx)),
            "test": int(len(data.test_idx)),
            "kind": data.cache.meta.get("dataset", "custom"),
        },
    }


def make_loader(
    data: DataBundle, indices: np.ndarray, cfg: Config, train: bool, ctx: DistContext, batch_size: int
) -> tuple[DataLoader, EpochSampler]:
    ds = SkeletonDataset(data.cache, indices, cfg.data, train=train, mean=data.mean, std=data.std, seed=cfg.train.seed)
    sampler = EpochSampler(
        len(ds),
        cfg.train.seed,
        ctx.rank if train else 0,
        ctx.world_size if train else 1,
        shuffle=train,
        drop_last=train and len(ds) >= batch_size * ctx.world_size,
        batch_size=batch_size,
    )
    loader = DataLoader(
        ds,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=cfg.data.num_workers,
        pin_memory=torch.cuda.is_available(),
        persistent_workers=False,
    )
    return loader, sampler


class StopFlag:
    """SIGTERM / SIGINT ask the run to stop after the current iteration and write a checkpoint."""

    def __init__(self) -> None:
        self.requested = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. called from a test thread): no handler
                pass

    def _handle(self, signum, frame) -> None:
        log.warning("stop requested (signal %s): finishing this iteration and saving a checkpoint", signum)
        self.requested = True

    def __call__(self) -> bool:
        return self.requested


def _resume_payload(run_dir: Path, resume: bool) -> dict[str, Any] | None:
    """The run's last.pt when resuming (claim_run_dir has checked that it exists)."""
    return load_checkpoint(run_dir / "last.pt") if resume else None


def _is_main_rank() -> bool:
    """Rank 0 (or no torchrun): the process that owns the run folder's lock."""
    return int(os.environ.get("RANK", "0")) == 0


def _config_for_resume(cfg: Config, payload: dict[str, Any] | None) -> Config:
    return config_from_dict(payload["config"]) if payload else cfg


# ----------------------------------------------------------------------------- the generic stage loop
def _fit(
    stage: str,
    cfg: Config,
    run_dir: Path,
    model: torch.nn.Module,
    loss_fn,
    data: DataBundle,
    train_idx: np.ndarray,
    payload: dict[str, Any] | None,
    extra: dict[str, Any],
    jsonl: bool,
    ctx: DistContext,
    device: torch.device,
    eval_fn=None,
) -> dict[str, Any]:
    epochs = cfg.train.pretrain_epochs if stage == "pretrain" else cfg.train.finetune_epochs
    base_lr = cfg.optim.pretrain_lr if stage == "pretrain" else cfg.optim.finetune_lr
    wd = cfg.optim.pretrain_weight_decay if stage == "pretrain" else cfg.optim.finetune_weight_decay
    if payload is not None and ctx.is_main:  # lines logged after that save are replayed: drop them
        truncate_metrics(run_dir, payload.get("metrics_bytes"), int(payload["train_state"]["step"]))
    logger = RunLogger(run_dir, cfg, ctx, jsonl_stdout=jsonl, resume=payload is not None)
    # With train.ema the checkpoints' weights are the average (what `model` holds on a resume) and the trained
    # weights travel beside them as "train_weights".
    ema = WeightAverage(model, cfg.train.ema) if cfg.train.ema > 0 else None
    if ema is not None and payload is not None and payload.get("train_weights") is not None:
        model.load_state_dict(payload["train_weights"])
    compile_for_training(model, cfg.train.compile_mode)
    if cfg.train.compile_mode != "off" and device.type == "cpu" and ctx.is_main:
        log.warning(
            "train.compile_mode=%s on the CPU: the first steps compile for 1-3 minutes, and on the development CPU "
            "the compiled step was slower than eager (docs/benchmarks.md); it is meant for CUDA",
            cfg.train.compile_mode,
        )
    net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None) if ctx.enabled else model
    optimizer = build_optimizer(model.parameters(), cfg.optim, base_lr, wd)
    state = TrainState()
    if payload is not None:
        optimizer.load_state_dict(payload["optimizer"])
        state = TrainState.from_dict(payload["train_state"])
    loader, sampler = make_loader(data, train_idx, cfg, True, ctx, cfg.train.batch_size)
    steps_per_epoch = sampler.batches_per_epoch()
    total = steps_per_epoch * epochs
    amp = autocast_dtype(cfg.train, device)
    scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
    stop = StopFlag()
    base = {"config": cfg.to_dict(), **data_meta(data, cfg), **extra, "kind": stage}

    def save(name: str, metrics: dict[str, Any] | None = None) -> None:
        if not ctx.is_main:
            return
        kept = model if ema is None else ema.module
        weights = {"dcmae" if stage == "pretrain" else "classifier": kept.state_dict()}
        if ema is not None:
            weights["train_weights"] = model.state_dict()
        logged = run_dir / "metrics.jsonl"  # its length now: a resume from this save drops what follows
        save_checkpoint(
            run_dir / f"{name}.pt",
            {
                **base,
                **weights,
                "optimizer": optimizer.state_dict(),
                "train_state": state.to_dict(),
                "metrics": metrics or {},
                "metrics_bytes": logged.stat().st_size if logged.exists() else 0,
            },
        )

    logger.emit(
        {
            "event": "start",
            "stage": stage,
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            "total_steps": total,
            "train_samples": int(len(train_idx)),
            "device": str(device),
            "resumed_at_step": state.step,
        }
    )

    def fn(b, g):
        return loss_fn(net, b, g)

    while state.epoch < epochs and not stop():
        sampler.set_epoch(state.epoch, skip_batches=state.epoch_step)
        loader.dataset.set_epoch(state.epoch)
        summary = train_one_epoch(
            net,
            fn,
            loader,
            optimizer,
            state,
            seed=cfg.train.seed,
            grad_clip=cfg.optim.grad_clip,
            lr_schedule=lambda s: lr_at(s, total, base_lr, cfg.optim, steps_per_epoch),
            log_every=cfg.train.log_every,
            checkpoint_every=cfg.train.checkpoint_every,
            steps_per_epoch=steps_per_epoch,
            total_steps=total,
            device=device,
            ctx=ctx,
            logger=logger,
            amp_dtype=amp,
            scaler=scaler,
            on_checkpoint=lambda: save("last"),
            should_stop=stop,
            after_step=None if ema is None else lambda: ema.update(model),
        )
        if stop() and state.epoch_step < steps_per_epoch:
            save("last")
            logger.emit({"event": "stopped", "epoch": state.epoch + 1, "step": state.step})
            break
        # No loss when every batch of the epoch ran before a resume (a save at the epoch's last step, then a kill).
        loss = summary.get("loss", math.nan)
        record = {"event": "epoch", "epoch": state.epoch + 1, "step": state.step, **summary}
        state.epoch, state.epoch_step = state.epoch + 1, 0
        metrics = None
        if eval_fn is not None and (state.epoch % cfg.train.eval_every == 0 or state.epoch == epochs):
            metrics = eval_fn(model if ema is None else ema.module) if ctx.is_main else None
            if metrics is not None:
                record.update({"top1": metrics["top1"], "top5": metrics["top5"]})
                if metrics["top1"] > state.best:
                    state.best = metrics["top1"]
                    record["best_top1"] = state.best
                    save("best", metrics)
                record["best_top1"] = state.best
        # Without evaluation (pretraining) the best epoch is the one of lowest training loss; the first epoch
        # always writes best.pt, whatever its loss, so every finished epoch leaves one.
        improved = eval_fn is None and math.isfinite(loss) and (state.best_loss is None or loss < state.best_loss)
        if improved:
            state.best_loss = loss
        state.history.append({k: v for k, v in record.items() if k != "event"})
        logger.emit(record, step=state.step)
        save("last", metrics)
        if eval_fn is None and (improved or not (run_dir / "best.pt").exists()):
            save("best", {"loss": loss})
    if ctx.enabled:
        torch.distributed.barrier()
    finished = state.epoch >= epochs
    logger.emit(
        {
            "event": "end" if finished else "stopped",
            "stage": stage,
            "step": state.step,
            "epoch": state.epoch,
            "best_top1": state.best if stage == "finetune" else None,
        }
    )
    logger.close()
    return {"finished": finished, "state": state.to_dict(), "run_dir": str(run_dir)}


def pretrain_loss_fn(cfg: Config, layout: Layout):
    """The pretraining loss: the paper's Mt/Mj mask, or with probability mask.pattern_prob a named occlusion
    pattern (one per batch, drawn from `gen` like everything else random in a step, so resume stays exact)."""
    patterns = parse_patterns(cfg.mask.patterns) if cfg.mask.pattern_prob > 0 else []  # bad names fail here

    def loss(net, batch, gen):  # finetuning draws nothing random inside the model
        occ = None
        if patterns:
            u = torch.rand((2,), generator=gen, device=gen.device)
            if float(u[0]) < cfg.mask.pattern_prob:
                name = patterns[min(int(float(u[1]) * len(patterns)), len(patterns) - 1)]
                present = batch["present"] & batch["person_valid"][:, :, None]  # (N, M, T)
                occ = occlusion_mask(name, present, layout, gen)  # (N, M, T, V)
        fwd = net if isinstance(net, DDP) else net.forward_pretrain
        out = fwd(batch["x"], batch["person_valid"], generator=gen, occlusion=occ, present=batch["present"])
        return out.loss, {}

    return loss


def run_pretrain(
    cfg: Config, run_dir: str | Path, resume: bool = False, jsonl: bool = False, overwrite: bool = False
) -> dict[str, Any]:
    """Pretrain into `run_dir` (locked while it runs; an existing run needs `resume` or `overwrite`)."""
    with claim_run_dir(run_dir, resume, overwrite, _is_main_rank()) as folder:
        return _pretrain(cfg, folder, resume, jsonl)


def _stage_setup(cfg: Config, run_dir: Path, resume: bool):
    """What every stage does first: the resumed run's payload and config, the process group, the device and its
    settings, the seeds, the data."""
    payload = _resume_payload(run_dir, resume)
    cfg = _config_for_resume(cfg, payload)
    ctx = init_distributed(cfg.train.device)
    device = resolve_device(cfg.train.device, ctx)
    enable_tf32(device)
    if device.type == "cpu":
        keep_freed_memory()
    seed_everything(cfg.train.seed)
    return payload, cfg, ctx, device, load_data(cfg)


def _pretrain(cfg: Config, run_dir: Path, resume: bool, jsonl: bool) -> dict[str, Any]:
    payload, cfg, ctx, device, data = _stage_setup(cfg, run_dir, resume)
    v, m, c = data.layout.num_joints, data.cache.num_persons, len(data.mean)
    model = build_dcmae(cfg, v, m, c, data.layout.parents).to(device)
    if payload is not None:
        model.load_state_dict(payload["dcmae"])
    if ctx.enabled:
        model.forward = model.forward_pretrain  # DDP calls forward
    return _fit(
        "pretrain",
        cfg,
        run_dir,
        model,
        pretrain_loss_fn(cfg, data.layout),
        data,
        data.train_idx,
        payload,
        {},
        jsonl,
        ctx,
        device,
    )


def _keep_stats(data: DataBundle, ckpt: dict[str, Any]) -> None:
    """Standardise with the statistics `ckpt` was trained with: the encoder (and the decoder a finetuned
    checkpoint keeps for reconstruction) learnt on data standardised so, whatever set is finetuned on."""
    stats = ckpt.get("stats") or {}
    if len(stats.get("mean", ())) == len(data.mean) and len(stats.get("std", ())) == len(data.std):
        data.mean = np.asarray(stats["mean"], np.float32)
        data.std = np.asarray(stats["std"], np.float32)


def _start_from_finetuned(clf: DCMAEClassifier, ckpt: dict[str, Any], class_names: list[str], path: str) -> None:
    """`--pretrained` names a finetuned checkpoint: go on from its finetuned encoder, and from its head too when
    it knows the same classes in the same order (otherwise the head starts fresh: finetuning onto new labels)."""
    same_classes = list(ckpt.get("class_names") or []) == list(class_names)
    state = {k: v for k, v in ckpt["classifier"].items() if same_classes or not k.startswith("head.")}
    try:  # the encoder's load hook drops what older classifiers carried (its mask embedding)
        missing, unexpected = clf.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: its classifier does not fit this model config: {str(exc)[:300]}") from exc
    wrong = unexpected + [k for k in missing if same_classes or not k.startswith("head.")]
    if wrong:
        raise CheckpointError(f"{path}: its classifier does not fit this model config ({', '.join(wrong[:3])})")
    log.info(
        "finetuning goes on from the finetuned classifier of %s (%s)",
        path,
        "encoder and head" if same_classes else "encoder; new head: its classes differ from this dataset's",
    )


def run_finetune(
    cfg: Config,
    run_dir: str | Path,
    pretrained: str | None = None,
    resume: bool = False,
    jsonl: bool = False,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Finetune into `run_dir` (locked while it runs; an existing run needs `resume` or `overwrite`)."""
    with claim_run_dir(run_dir, resume, overwrite, _is_main_rank()) as folder:
        return _finetune(cfg, folder, pretrained, resume, jsonl)


def _finetune(cfg: Config, run_dir: Path, pretrained: str | None, resume: bool, jsonl: bool) -> dict[str, Any]:
    payload, cfg, ctx, device, data = _stage_setup(cfg, run_dir, resume)
    v, m, c = data.layout.num_joints, data.cache.num_persons, len(data.mean)
    dcmae = build_dcmae(cfg, v, m, c, data.layout.parents)
    pretrained_state = payload.get("dcmae") if payload else None
    pre: dict[str, Any] | None = None
    if payload is None and pretrained:
        pre = load_checkpoint(pretrained)
        if pre.get("dcmae") is None:
            raise CheckpointError(f"{pretrained} holds no pretrained DCMAE weights")
        try:
            dcmae.load_state_dict(pre["dcmae"])
        except RuntimeError as exc:
            raise CheckpointError(f"{pretrained} does not fit this model config: {str(exc)[:300]}") from exc
        pretrained_state = dcmae.state_dict()
        _keep_stats(data, pre)
    elif pretrained_state is not None:
        dcmae.load_state_dict(pretrained_state)
    if payload is not None:
        _keep_stats(data, payload)
    clf = build_classifier(cfg, dcmae.encoder, len(data.class_names)).to(device)
    if payload is not None:
        clf.load_state_dict(payload["classifier"])
    elif pre is not None and pre.get("classifier") is not None:
        _start_from_finetuned(clf, pre, data.class_names, pretrained)
    # Few-label subset: drawn once, saved beside the run, identical on every rank (same seed, same draw).
    labels_file = run_dir / "label_indices.json"
    if labels_file.exists() and payload is not None:
        train_idx = load_indices(labels_file)
    else:
        train_idx = few_label_subset(
            data.train_idx,
            cfg.data.label_ratio,
            cfg.data.label_seed,
            np.asarray(data.cache.labels),
            cfg.data.stratified,
        )
        if ctx.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            save_indices(
                labels_file,
                train_idx,
                ratio=cfg.data.label_ratio,
                seed=cfg.data.label_seed,
                split=cfg.data.split,
                stratified=cfg.data.stratified,
            )
    test_loader, _ = make_loader(data, data.test_idx, cfg, False, DistContext(), cfg.train.eval_batch_size)
    amp = autocast_dtype(cfg.train, device)

    def eval_fn(net: torch.nn.Module) -> dict[str, Any]:
        net.eval()
        return evaluate(lambda b: net(b["x"], b["person_valid"]), test_loader, len(data.class_names), device, amp)

    def loss(net, batch, gen):
        return classification_loss(net(batch["x"], batch["person_valid"]), batch["label"], cfg.train.label_smoothing)

    extra = {"dcmae": pretrained_state, "pretrained_from": str(pretrained or ""), "label_ratio": cfg.data.label_ratio}
    return _fit(
        "finetune", cfg, run_dir, clf, loss, data, train_idx, payload, extra, jsonl, ctx, device, eval_fn=eval_fn
    )
