"""train.ema: the moving average of the weights, and finetuning that evaluates and saves it."""

from __future__ import annotations

import json

import pytest
import torch

from dcmae_core.checkpoint import load_checkpoint
from dcmae_core.config import ConfigError, build_config
from dcmae_core.evaluation.missing_joints import evaluate_checkpoint
from dcmae_core.training.weight_average import WeightAverage


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))


def test_average_follows_decay_for_parameters_and_running_statistics():
    net = _net()
    avg = WeightAverage(net, 0.75)
    before = {k: v.clone() for k, v in avg.module.state_dict().items()}
    net.train()
    with torch.no_grad():
        net[0].weight.add_(1.0)
    net(torch.randn(8, 3))  # moves BatchNorm's running statistics and its batch counter
    avg.update(net)
    now = net.state_dict()
    for k, v in avg.module.state_dict().items():
        if v.is_floating_point():
            assert torch.allclose(v, 0.75 * before[k] + 0.25 * now[k]), k
        else:
            assert torch.equal(v, now[k]), k
    assert not torch.equal(avg.module[0].weight, net[0].weight)
    assert not any(p.requires_grad for p in avg.module.parameters()) and not avg.module.training


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5])
def test_decay_outside_the_open_interval_is_refused(decay):
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(_net(), decay)


def test_config_refuses_an_ema_of_one():
    with pytest.raises(ConfigError, match="train.ema"):
        build_config("tiny", ["train.ema=1.0"])


@pytest.mark.slow
def test_finetune_with_ema_evaluates_and_saves_the_average(tiny_cache, tmp_path):
    from dcmae_core.training.stages import run_finetune

    cfg = build_config("tiny", [f"data.root={tiny_cache}", "train.finetune_epochs=2", "train.ema=0.5"])
    assert run_finetune(cfg, tmp_path)["finished"]
    last = load_checkpoint(tmp_path / "last.pt")
    averaged, trained = last["classifier"], last["train_weights"]
    assert averaged.keys() == trained.keys()
    assert any(not torch.equal(averaged[k], trained[k]) for k in averaged if averaged[k].is_floating_point())
    epochs = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    logged = [e["top1"] for e in epochs if e.get("event") == "epoch"][-1]
    # the logged accuracy is the averaged weights' accuracy, as the saved checkpoint gives it
    assert evaluate_checkpoint(tmp_path / "last.pt")["full"]["top1"] == pytest.approx(logged)
