"""`python -m dcmae_core.train profile` on the tiny preset: JSON with parameters, GMAC and speed."""

from __future__ import annotations

import json

import pytest
import torch

from dcmae_core.config import build_config
from dcmae_core.evaluation.profiling import count_gmac, count_ops, profile_model
from dcmae_core.train import main


@pytest.mark.slow
def test_profile_command_prints_json(capsys):
    rc = main(["profile", "--preset", "tiny", "--json", "--repeats", "1", "--batch", "2"])
    assert rc == 0
    r = json.loads(capsys.readouterr().out)
    p = r["params"]
    assert p["total"] == p["encoder"] + p["decoder"] and p["encoder"] > 0 and p["decoder"] > 0
    assert 0 < r["gmac"]["inference_per_sample"] < r["gmac"]["pretrain_per_sample"]
    assert r["gmac"]["pretrain_step_per_sample"] > 2 * r["gmac"]["pretrain_per_sample"]  # + backward
    assert r["pretrain"]["samples_per_s"] > 0 and r["inference"]["latency_ms"] > 0
    assert 0 < r["pretrain"]["share_of_matmul"] and r["machine"]["matmul_fp32_gmacs_before"] > 0
    assert r["app_case"]["reconstruct_classify_ms_1_person"] > 0


@pytest.mark.slow
def test_ablations_change_counts_and_gmac_scales_with_persons():
    full = profile_model(build_config("tiny"), speed=False)
    mae = profile_model(build_config("tiny", ["model.cross_attention=false", "model.diffusion=false"]), speed=False)
    assert mae["params"]["encoder"] == full["params"]["encoder"]
    assert mae["params"]["decoder"] < full["params"]["decoder"]
    assert mae["gmac"]["pretrain_per_sample"] < full["gmac"]["pretrain_per_sample"]
    one = profile_model(build_config("tiny"), num_persons=1, speed=False)
    # an absent person costs nothing: one person is half the encoder work (the head is counted once)
    assert abs(one["gmac"]["inference_per_sample"] * 2 / full["gmac"]["inference_per_sample"] - 1) < 0.01


def test_count_gmac_counts_a_matmul_as_its_macs():
    a, b = torch.randn(64, 32), torch.randn(32, 16)
    assert count_gmac(lambda: a @ b) == 64 * 32 * 16 / 1e9


def test_bad_arguments_are_rejected(capsys):
    assert main(["profile", "--preset", "tiny", "--batch", "0"]) == 1
    assert "--batch" in capsys.readouterr().err


def test_count_ops_leaves_out_views_and_counts_a_composite_once():
    a, b = torch.randn(8, 4), torch.randn(6, 4)
    ops = count_ops(lambda: a.view(4, 8).view(8, 4) @ b.t())  # matmul -> mm; the views and t launch nothing
    assert ops["kernels"] == 1 and ops["top_kernels"] == [["mm", 1]]
    assert ops["top_level"] == 4 and ops["all_aten"] > ops["top_level"]  # view, view, t, matmul (-> mm, ...)


@pytest.mark.slow
def test_profile_counts_the_operators_of_a_pretraining_step():
    r = profile_model(build_config("tiny"), speed=False)["ops"]
    step = r["pretrain_step"]
    assert 0 < step["kernels"] < step["all_aten"] and step["autograd_nodes"] > 0
    assert "view" in r["metadata_ops"] and all(name not in r["metadata_ops"] for name, _ in step["top_kernels"])
