"""The training step of `training.engine.train_one_epoch`: no host reads between log steps, a non-finite loss
stops the run naming its steps before any checkpoint, and a compiled tiny model gives the eager model's loss."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from dcmae_core.config import build_config
from dcmae_core.evaluation.profiling import count_ops, record_compiled_kernels
from dcmae_core.model.factory import build_dcmae
from dcmae_core.training.devices import DistContext
from dcmae_core.training.engine import (
    NonFiniteLossError,
    TrainState,
    classification_loss,
    compile_for_training,
    train_one_epoch,
)

CORE = str(Path(__file__).resolve().parents[1] / "dcmae_core")


class ListLogger:
    def __init__(self) -> None:
        self.records: list[dict] = []

    def emit(self, record: dict, step: int | None = None) -> None:
        self.records.append(record)


def tiny_setup(steps: int, seed: int = 0):
    cfg = build_config("tiny")
    torch.manual_seed(seed)
    model = build_dcmae(cfg, 25, 2, 3, parents=tuple(range(-1, 24)))
    g = torch.Generator().manual_seed(seed)
    batches = [
        {
            "x": torch.randn(2, 2, cfg.data.num_frames, 25, 3, generator=g),
            "person_valid": torch.tensor([[True, True], [True, False]]),
        }
        for _ in range(steps)
    ]
    return cfg, model, batches


def pretrain_loss(model):
    def loss(batch, gen):
        return model.forward_pretrain(batch["x"], batch["person_valid"], gen).loss, {}

    return loss


def run_epoch(model, loss_fn, batches, *, log_every, checkpoint_every=0, on_checkpoint=None, should_stop=None):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    logger = ListLogger()
    state = TrainState()
    out = train_one_epoch(
        model,
        loss_fn,
        batches,
        opt,
        state,
        lr_schedule=lambda s: 1e-3,
        seed=0,
        steps_per_epoch=len(batches),
        total_steps=len(batches),
        device=torch.device("cpu"),
        ctx=DistContext(),
        logger=logger,
        grad_clip=1.0,
        log_every=log_every,
        checkpoint_every=checkpoint_every,
        on_checkpoint=on_checkpoint,
        should_stop=should_stop or (lambda: False),
    )
    return out, logger, state


@pytest.mark.slow
def test_a_training_step_reads_nothing_back_between_log_steps(monkeypatch):
    """Count reads of tensor values to the host (item, float, int, bool, tolist) made by dcmae_core code; on
    CUDA each is a sync that stalls the launch queue. Only log steps (and the epoch's end) may read."""
    reads: list[str] = []

    def counting(name):
        original = getattr(torch.Tensor, name)

        def wrapper(self, *args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if caller.startswith(CORE):
                reads.append(f"{name} in {Path(caller).name}:{sys._getframe(1).f_lineno}")
            return original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, wrapper)

    for name in ("item", "tolist", "__float__", "__int__", "__bool__"):
        counting(name)
    _, model, batches = tiny_setup(6)
    inner = pretrain_loss(model)
    per_step: list[list[str]] = []  # reads from one loss call to the next: everything one step does

    def loss_fn(batch, gen):
        per_step.append(list(reads))
        reads.clear()
        return inner(batch, gen)

    out, logger, _ = run_epoch(model, loss_fn, batches, log_every=3)
    per_step = [*per_step[1:], list(reads)]  # drop what came before step 1; add what came after step 6
    assert [r["step"] for r in logger.records] == [3, 6]
    assert per_step[0] == per_step[1] == per_step[3] == per_step[4] == [], per_step
    assert per_step[2] and per_step[5], "the log steps' reads were not seen: the counter is broken"
    assert out["loss"] > 0 and out["samples_per_s"] > 0


def test_non_finite_loss_stops_before_a_checkpoint_and_names_the_steps():
    _, model, batches = tiny_setup(8)
    inner = pretrain_loss(model)
    calls = {"n": 0}

    def loss_fn(batch, gen):
        calls["n"] += 1
        loss, stats = inner(batch, gen)
        return (loss * float("nan") if calls["n"] == 4 else loss), stats

    saves: list[int] = []
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at steps 4-5 \(epoch 1\); stopped\. Lower"):
        run_epoch(model, loss_fn, batches, log_every=3, checkpoint_every=5, on_checkpoint=lambda: saves.append(1))
    assert saves == []  # the step-5 checkpoint would have held the NaN step's weights
    assert calls["n"] == 5


def test_epoch_summary_is_the_batch_weighted_mean_of_losses_and_stats():
    _, model, batches = tiny_setup(3)
    values = iter([1.0, 2.0, 4.0])

    def loss_fn(batch, gen):
        w = next(values)
        loss = model.forward_pretrain(batch["x"], batch["person_valid"], gen).loss * 0 + w
        return loss, {"acc": torch.tensor(w / 10), "plain": w}

    out, logger, _ = run_epoch(model, loss_fn, batches, log_every=2)
    assert out["loss"] == pytest.approx(7 / 3) and out["acc"] == pytest.approx(0.7 / 3)
    assert out["plain"] == pytest.approx(7 / 3)
    assert [r["loss"] for r in logger.records] == [2.0, 4.0] and logger.records[0]["acc"] == pytest.approx(0.2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_engine_step_makes_no_cuda_sync_between_log_steps():
    """The engine's own work (schedule, generator, backward, clip, optimiser, sums) with a model that syncs
    nowhere itself; the DCMAE's gather of present persons (nonzero) is a sync the model still makes."""
    dev = torch.device("cuda")
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)).to(dev)
    batches = [{"x": torch.randn(4, 8, device=dev)} for _ in range(5)]

    def loss_fn(batch, gen):
        noise = torch.randn(batch["x"].shape, generator=gen, device=gen.device)
        return net(batch["x"] + noise).square().mean(), {}

    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, capturable=True)
    state = TrainState()
    torch.cuda.set_sync_debug_mode("error")
    try:
        train_one_epoch(
            net,
            loss_fn,
            batches[:4],
            opt,
            state,
            lr_schedule=lambda s: 1e-3,
            seed=0,
            steps_per_epoch=100,
            total_steps=100,
            device=dev,
            ctx=DistContext(),
            logger=ListLogger(),
            grad_clip=1.0,
            log_every=100,
        )
    except RuntimeError as exc:
        if "synchroniz" not in str(exc):
            raise
        torch.cuda.set_sync_debug_mode("default")
        pytest.fail(f"a non-log step synchronised: {exc}")
    finally:
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.slow
def test_compiled_blocks_give_the_eager_loss():
    cfg, model, batches = tiny_setup(1)
    compiled = build_dcmae(cfg, 25, 2, 3, parents=tuple(range(-1, 24)))
    compiled.load_state_dict(model.state_dict())
    record_compiled_kernels()  # the generated kernels show in the profiler: counted below
    compile_for_training(compiled, "blocks")
    b = batches[0]
    eager_loss = model.forward_pretrain(b["x"], b["person_valid"], torch.Generator().manual_seed(1)).loss
    comp_loss = compiled.forward_pretrain(b["x"], b["person_valid"], torch.Generator().manual_seed(1)).loss
    assert torch.isclose(comp_loss, eager_loss, rtol=1e-4, atol=1e-6), (comp_loss, eager_loss)
    comp_loss.backward()
    eager_loss.backward()
    for (name, p), q in zip(compiled.named_parameters(), model.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, rtol=1e-3, atol=1e-5), name
    assert list(compiled.state_dict()) == list(model.state_dict())

    def step(m):
        return lambda: m.forward_pretrain(b["x"], b["person_valid"], torch.Generator().manual_seed(1)).loss.backward()

    eager_ops, comp_ops = count_ops(step(model)), count_ops(step(compiled))
    assert eager_ops["compiled_kernels"] == 0 and eager_ops["total_kernels"] == eager_ops["kernels"]
    # the fused loops replace many aten kernels: fewer launches in all, and every generated one counted
    assert comp_ops["compiled_kernels"] > 0
    assert comp_ops["total_kernels"] == comp_ops["kernels"] + comp_ops["compiled_kernels"]
    assert comp_ops["total_kernels"] < eager_ops["kernels"], (comp_ops, eager_ops["kernels"])


def test_compiling_raises_the_graph_limit_with_the_block_count():
    """Past dynamo's graphs-per-function limit the remaining blocks would silently run eagerly (the paper preset's
    blocks need 12 graphs in training and evaluation, the default limit is 8): room for two per compiled block."""
    import torch._dynamo

    cfg = build_config("paper", ["model.decoder_depth=12"])
    model = build_dcmae(cfg, 25, 2, 3, parents=tuple(range(-1, 24)))
    before = torch._dynamo.config.recompile_limit
    try:
        torch._dynamo.config.recompile_limit = 8  # the default
        compile_for_training(model, "blocks")  # lazy: nothing is compiled before the first call
        assert torch._dynamo.config.recompile_limit >= 2 * (len(cfg.model.encoder_dims) + 12)
    finally:
        torch._dynamo.config.recompile_limit = before


@pytest.mark.slow
def test_compiling_on_the_cpu_warns_that_it_is_slower_there(tiny_cache, tmp_path, monkeypatch, caplog):
    import logging

    from dcmae_core.training import stages

    asked = []
    monkeypatch.setattr(stages, "compile_for_training", lambda model, mode: asked.append(mode) or model)  # no compile
    for mode in ("off", "blocks"):
        cfg = build_config("tiny", [f"data.root={tiny_cache}", "train.pretrain_epochs=1", f"train.compile_mode={mode}"])
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            stages.run_pretrain(cfg, tmp_path / mode)
        warned = [r.getMessage() for r in caplog.records if "compile_mode" in r.getMessage()]
        assert len(warned) == (mode != "off"), warned
    assert asked == ["off", "blocks"]
    assert "train.compile_mode=blocks on the CPU" in warned[0] and "slower than eager" in warned[0]


def test_compile_modes_are_checked():
    _, model, _ = tiny_setup(0)
    assert compile_for_training(model, "off") is model
    with pytest.raises(ValueError, match="unknown compile mode"):
        compile_for_training(model, "everything")
    with pytest.raises(ValueError, match="no block"):
        compile_for_training(torch.nn.Linear(2, 2), "blocks")


def test_label_smoothing_spreads_the_target_and_is_checked():
    """train.label_smoothing reaches the finetuning loss: with 0.1 the loss is the cross-entropy against 0.9 on the
    label plus 0.1 spread over all classes; a value of 1 or more is refused by name."""
    import torch.nn.functional as F

    from dcmae_core.config import ConfigError

    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    labels = torch.tensor([0, 2])
    plain, _ = classification_loss(logits, labels)
    smooth, stats = classification_loss(logits, labels, 0.1)
    logp = F.log_softmax(logits, dim=1)
    expected = -(0.9 * logp[torch.arange(2), labels] + 0.1 * logp.mean(dim=1)).mean()
    assert torch.allclose(smooth, expected) and not torch.allclose(smooth, plain)
    assert float(stats["acc"]) == 1.0
    assert build_config("tiny", ["train.label_smoothing=0.1"]).train.label_smoothing == 0.1
    with pytest.raises(ConfigError, match="label_smoothing"):
        build_config("tiny", ["train.label_smoothing=1.0"])
