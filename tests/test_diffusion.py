"""Noise schedule invariants (dummy-model style, as in diffusers' scheduler tests)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dcmae_core.config import DiffusionConfig
from dcmae_core.model.diffusion import NoiseSchedule


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("num_steps", [50, 1000])
def test_alpha_bar_strictly_decreasing_in_open_unit_interval(schedule, num_steps):
    s = NoiseSchedule(num_steps, schedule, rescale=True)
    ab = s.alpha_bar[1:]
    assert ab.dtype == np.float64 and len(ab) == num_steps
    assert (np.diff(ab) < 0).all() and (ab > 0).all() and (ab < 1).all()
    assert ab[-1] < 0.01  # t = T is (nearly) pure noise for every T (the rescaled schedule)


def _median_snr(s: NoiseSchedule) -> float:
    """SNR at the median of a drawn t (t is uniform on 1..T and the SNR falls with t)."""
    t = s.sample_timesteps(20001, torch.Generator().manual_seed(0))
    assert abs(float(t.double().median()) - s.num_steps / 2) < 0.02 * s.num_steps
    return s.snr(s.num_steps // 2)


@pytest.mark.parametrize(("num_steps", "paper"), [(500, 0.39), (750, 0.17), (1000, 0.085), (1250, 0.043)])
def test_plain_schedule_T_changes_the_noise(num_steps, paper):
    """The default (plain) schedule, 1e-4 -> 0.02 over T steps: a drawn t's median SNR halves from one Table 8
    T to the next (it was 0.084-0.085 for every T while the range was rescaled by 1000/T)."""
    plain = NoiseSchedule.from_config(DiffusionConfig(num_steps=num_steps))
    assert _median_snr(plain) == pytest.approx(paper, rel=0.06)
    rescaled = NoiseSchedule.from_config(DiffusionConfig(num_steps=num_steps, beta_scaling="rescaled"))
    assert _median_snr(rescaled) == pytest.approx(0.085, rel=0.03)
    if num_steps >= 500:
        assert plain.alpha_bar[-1] < 0.01  # t = T is still (nearly) pure noise over the paper's range


def test_add_noise_endpoints():
    s = NoiseSchedule.from_config(DiffusionConfig(num_steps=1000))
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(4, 6, 5, 3, generator=g)
    eps = torch.randn(4, 6, 5, 3, generator=g)
    near = s.add_noise(x0, eps, torch.ones(4, dtype=torch.long))
    far = s.add_noise(x0, eps, torch.full((4,), 1000, dtype=torch.long))
    assert torch.allclose(near, x0, atol=0.05)
    assert torch.allclose(far, eps, atol=0.05)
    assert not torch.allclose(far, x0, atol=0.5)
    with pytest.raises(ValueError, match="timesteps"):
        s.add_noise(x0, eps, torch.zeros(4, dtype=torch.long))


def test_sampled_timesteps_cover_one_to_T():
    s = NoiseSchedule(50)
    t = s.sample_timesteps(5000, torch.Generator().manual_seed(0))
    assert t.min() == 1 and t.max() == 50 and t.dtype == torch.long


@pytest.mark.parametrize("num_steps", [1, 7, 50])
def test_reverse_loop_with_perfect_x0_oracle_returns_x0(num_steps):
    s = NoiseSchedule(50, "linear")
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(3, 12, 4, generator=g)
    ts = s.sampling_timesteps(num_steps)
    assert ts[0] == 50 and ts == sorted(set(ts), reverse=True) and len(ts) == num_steps
    x = torch.randn(3, 12, 4, generator=g)
    errors = []
    for i, t in enumerate(ts):
        t_prev = ts[i + 1] if i + 1 < len(ts) else 0
        x = s.step(x0, t, t_prev, x, g)  # the oracle predicts x0 exactly
        errors.append((x - x0).abs().mean().item())
    assert torch.allclose(x, x0, atol=1e-6)
    if len(errors) > 2:
        assert errors[-2] < errors[0]  # the iterate approaches x0 along the way


def test_step_rejects_bad_timesteps():
    s = NoiseSchedule(10)
    with pytest.raises(ValueError):
        s.step(torch.zeros(1), 3, 3, torch.zeros(1))
    with pytest.raises(ValueError, match="schedule"):
        NoiseSchedule(10, "quadratic")  # type: ignore[arg-type]
