"""Each stage keeps its own notion of best: finetuning the top-1, pretraining the lowest training loss."""

from __future__ import annotations

import json
import math

import pytest

from dcmae_core.checkpoint import load_checkpoint
from dcmae_core.config import build_config
from dcmae_core.training.engine import TrainState
from dcmae_core.training.stages import run_pretrain


@pytest.mark.slow
def test_pretraining_best_is_the_lowest_loss_and_leaves_the_accuracy_field_alone(tiny_cache, tmp_path):
    cfg = build_config("tiny", [f"data.root={tiny_cache}", "train.pretrain_epochs=3"])
    run_pretrain(cfg, tmp_path)
    events = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines() if x.strip()]
    losses = [e["loss"] for e in events if e["event"] == "epoch"]
    assert len(losses) == 3 and min(losses) >= 0.5  # the loss starts near 1: best.pt must not wait for < 1
    last, best = load_checkpoint(tmp_path / "last.pt"), load_checkpoint(tmp_path / "best.pt")
    assert last["train_state"]["best_loss"] == min(losses) == best["metrics"]["loss"]
    assert last["train_state"]["best"] == -1.0  # finetuning's accuracy field is not pretraining's -loss
    assert best["train_state"]["epoch"] == 1 + losses.index(min(losses))


def test_a_train_state_saved_before_best_loss_existed_loads():
    old = {"epoch": 2, "epoch_step": 0, "step": 10, "best": -1.2, "history": []}
    state = TrainState.from_dict(old)
    assert state.best_loss is None and state.best == -1.2
    assert TrainState.from_dict(json.loads(json.dumps(TrainState(best_loss=0.5).to_dict()))).best_loss == 0.5
    assert not math.isnan(TrainState().best)
