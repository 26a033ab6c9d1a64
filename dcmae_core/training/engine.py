"""The only loops: `train_one_epoch` (pretraining and finetuning alike) and `evaluate`.

The CLI, the app's training subprocess and the tests all call these. Everything random inside an iteration
comes from `step_generator(seed, step)`, and the sample order from `EpochSampler(seed, epoch)`, so a run that
is killed and resumed from a mid-epoch checkpoint ends with exactly the weights of one never stopped (CPU).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Sampler

from dcmae_core.training.devices import DistContext
from dcmae_core.training.run_logger import RunLogger
from dcmae_core.training.seeding import step_generator

log = logging.getLogger(__name__)

# batch, generator -> (loss, stats); a stat is a float or a 0-dim tensor, read back only when logged.
LossFn = Callable[[dict[str, torch.Tensor], torch.Generator], tuple[torch.Tensor, dict[str, Any]]]


class NonFiniteLossError(RuntimeError):
    """Training diverged; the message names the step and the last good checkpoint."""


class EpochSampler(Sampler[int]):
    """Shuffled order that is a pure function of (seed, epoch), sharded over ranks, able to skip a prefix."""

    def __init__(
        self,
        num_samples: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = True,
        drop_last: bool = True,
        batch_size: int = 1,
    ):
        self.n, self.seed, self.rank, self.world = num_samples, seed, rank, world_size
        self.shuffle, self.drop_last, self.batch_size = shuffle, drop_last, batch_size
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        self.epoch, self.skip = epoch, skip_batches * self.batch_size

    def _indices(self) -> list[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 10_007 + self.epoch)
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = list(range(self.n))
        per_rank = len(order) // self.world if self.drop_last else math.ceil(len(order) / self.world)
        if not self.drop_last and per_rank * self.world > len(order):
            order += order[: per_rank * self.world - len(order)]  # pad so every rank gets the same count
        mine = order[self.rank : per_rank * self.world : self.world]
        if self.drop_last:
            mine = mine[: (len(mine) // self.batch_size) * self.batch_size]
        return mine

    def batches_per_epoch(self) -> int:
        n = len(self._indices())
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices()[self.skip :])

    def __len__(self) -> int:
        return max(0, len(self._indices()) - self.skip)


@dataclass
class TrainState:
    """Where a run stands; saved in every checkpoint so `--resume` continues exactly."""

    epoch: int = 0  # current epoch (0-based)
    epoch_step: int = 0  # batches of the current epoch already done
    step: int = 0  # global iteration count
    best: float = -1.0  # finetuning's best: the highest top-1 so far (-1 = none yet)
    history: list[dict[str, Any]] = field(default_factory=list)  # per-epoch summaries
    best_loss: float | None = None  # pretraining's best: the lowest finite epoch loss so far (None = none yet)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "epoch_step": self.epoch_step,
            "step": self.step,
            "best": self.best,
            "history": self.history,
            "best_loss": self.best_loss,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainState:
        loss = d.get("best_loss")  # absent from checkpoints saved before it existed
        return cls(
            int(d["epoch"]),
            int(d["epoch_step"]),
            int(d["step"]),
            float(d["best"]),
            list(d["history"]),
            None if loss is None else float(loss),
        )


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in batch.items()}


def autocast_ctx(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def compile_for_training(model: torch.nn.Module, mode: str) -> torch.nn.Module:
    """torch.compile the parts of `model` that train.compile_mode names, in place; -> model.

    "blocks": every outermost STTA / CSTTA block; "full": every outermost encoder and decoder; "off": nothing.
    `Module.compile` keeps the module and its parameter names, so state dicts, checkpoints, DDP and the
    optimiser see the same model; the first steps (and the first of each new batch shape) pay the compile."""
    from dcmae_core.model.cross_attention import CSTTABlock
    from dcmae_core.model.decoder import DCMAEDecoder
    from dcmae_core.model.stta import STTABlock, STTAEncoder

    if mode == "off":
        return model
    if mode == "blocks":
        kinds: tuple[type, ...] = (STTABlock, CSTTABlock)
    elif mode == "full":
        kinds = (STTAEncoder, DCMAEDecoder)
    else:
        raise ValueError(f"unknown compile mode {mode!r}; use 'off', 'blocks' or 'full'")
    done: list[str] = []
    for name, module in model.named_modules():
        if isinstance(module, kinds) and not any(name.startswith(d + ".") for d in done):
            module.compile()
            done.append(name)
    if not done:
        raise ValueError(f"compile mode {mode!r}: {type(model).__name__} holds no block to compile")
    # A block class gets a graph per distinct block (widths, a residual map or none, frame count) and per mode
    # (training, evaluation): the paper preset's STTABlock.forward needs 12, and past dynamo's limit of graphs
    # per function (8 by default) the rest run eagerly with only a warning. At most two per compiled module.
    import torch._dynamo

    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 2 * len(done) + 8)
    return model


def train_one_epoch(
    model: torch.nn.Module,
    loss_fn: LossFn,
    loader: torch.utils.data.DataLoader,
    optimizer: torch.optim.Optimizer,
    state: TrainState,
    *,
    lr_schedule: Callable[[int], float],
    seed: int,
    steps_per_epoch: int,
    total_steps: int,
    device: torch.device,
    ctx: DistContext,
    logger: RunLogger,
    grad_clip: float = 0.0,
    log_every: int = 20,
    checkpoint_every: int = 0,
    amp_dtype: torch.dtype | None = None,
    scaler: torch.amp.GradScaler | None = None,
    on_checkpoint: Callable[[], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    after_step: Callable[[], None] | None = None,
) -> dict[str, float]:
    """One pass over `loader` (which already skips the batches done before a resume).

    lr_schedule(step) -> the base learning rate at a global step (each group scales it by its `lr_scale`);
    seed: the run's seed (`step_generator`); grad_clip: global gradient-norm clip, 0 = off; log_every: steps
    between step lines; checkpoint_every: steps between `on_checkpoint` calls, 0 = none; after_step: called after
    each optimiser step (the weight average's update).

    The step reads nothing back from the device: the loss and the stats are summed where they are, and read
    (and checked to be finite) only at a log step, before a checkpoint, when asked to stop and at the epoch's
    end. A non-finite loss therefore stops the run at the next such point, naming the steps since the last one;
    no checkpoint is written from weights that a non-finite loss has touched.
    """
    model.train()
    t0, seen = time.time(), 0
    sums: dict[str, torch.Tensor | float] = {}  # loss and stats times batch size, summed on the device
    window = torch.zeros((), device=device)  # losses since the last check: non-finite once any one was
    window_start = state.step
    for batch in loader:
        batch = to_device(batch, device)
        lr = lr_schedule(state.step)
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        gen = step_generator(seed, state.step, ctx.rank, device)
        with autocast_ctx(device, amp_dtype):
            loss, stats = loss_fn(batch, gen)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        if after_step is not None:
            after_step()
        state.step += 1
        state.epoch_step += 1
        n = int(batch["x"].shape[0])  # a shape: no read from the device
        seen += n
        value = loss.detach().float()
        window += value
        for k, v in {"loss": value, **stats}.items():
            sums[k] = sums.get(k, 0.0) + (v.detach().float() if torch.is_tensor(v) else float(v)) * n
        log_now = state.step % max(1, log_every) == 0 or state.epoch_step == steps_per_epoch
        save_now = bool(on_checkpoint and checkpoint_every and state.step % checkpoint_every == 0)
        stop_now = should_stop()
        if log_now or save_now or stop_now:
            _check_finite(window, window_start, state)
            window.zero_()
            window_start = state.step
        if log_now:
            logger.emit(
                {
                    "event": "step",
                    "epoch": state.epoch + 1,
                    "step": state.step,
                    "epoch_step": state.epoch_step,
                    "steps_per_epoch": steps_per_epoch,
                    "total_steps": total_steps,
                    "lr": lr,
                    "loss": value.item(),
                    **{k: float(v) for k, v in stats.items()},
                },
                step=state.step,
            )
        if save_now:
            on_checkpoint()
        if stop_now:
            break
    if window_start != state.step:
        _check_finite(window, window_start, state)
    elapsed = time.time() - t0
    out = {k: float(v) / max(1, seen) for k, v in sums.items()}
    out["samples_per_s"] = seen * ctx.world_size / max(elapsed, 1e-9)
    return out


def _check_finite(window: torch.Tensor, first: int, state: TrainState) -> None:
    """Raise NonFiniteLossError if the summed losses of steps first+1..state.step are not finite (one read)."""
    total = window.item()
    if not math.isfinite(total):
        steps = f"step {state.step}" if state.step == first + 1 else f"steps {first + 1}-{state.step}"
        raise NonFiniteLossError(
            f"loss became {total} at {steps} (epoch {state.epoch + 1}); stopped. "
            f"Lower the learning rate or enable optim.grad_clip, then --resume from the last checkpoint."
        )


@torch.no_grad()
def evaluate(
    classify: Callable[[dict[str, torch.Tensor]], torch.Tensor],
    loader: torch.utils.data.DataLoader,
    num_classes: int,
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
) -> dict[str, Any]:
    """Top-1, top-5, per-class accuracy and the confusion matrix (rows = truth) of `classify(batch) -> logits`."""
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    top5_hits, total = 0, 0
    for batch in loader:
        batch = to_device(batch, device)
        with autocast_ctx(device, amp_dtype):
            logits = classify(batch).float()
        labels = batch["label"]
        k = min(5, num_classes)
        top5_hits += (logits.topk(k, dim=1).indices == labels[:, None]).any(dim=1).sum().item()
        pred = logits.argmax(dim=1)
        np.add.at(confusion, (labels.cpu().numpy(), pred.cpu().numpy()), 1)
        total += labels.numel()
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "top1": float(confusion.diagonal().sum() / max(total, 1)),
        "top5": float(top5_hits / max(total, 1)),
        "per_class": per_class.tolist(),
        "confusion": confusion.tolist(),
        "count": int(total),
    }


def classification_loss(
    logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Cross-entropy (with `label_smoothing`, train.label_smoothing) and the batch's accuracy (a 0-dim tensor on
    the logits' device, read back when logged)."""
    loss = F.cross_entropy(logits.float(), labels, label_smoothing=label_smoothing)
    acc = (logits.argmax(dim=1) == labels).float().mean().detach()
    return loss, {"acc": acc}
