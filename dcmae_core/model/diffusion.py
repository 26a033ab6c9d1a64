"""The DDPM noise schedule (paper eq. 1–3): one object owns β, ᾱ, `add_noise`, timestep sampling and `step`.

Timesteps are 1-based as in the paper: t ∈ {1..T}, t = 0 is clean data. Coefficients are precomputed in
float64 (as in improved-diffusion) and cast to the data's dtype when used. The network never sees β: it gets
the integer t and x_t. The parameterisation is x0-prediction: the decoder predicts x_0 and `step` moves to
an earlier timestep through the posterior q(x_s | x_t, x_0).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from dcmae_core.config import DiffusionConfig
from dcmae_core.model.masking import _rand, _randn


def linear_betas(num_steps: int, beta_start: float, beta_end: float, rescale: bool = False) -> np.ndarray:
    """(T,) float64, β rising linearly from beta_start to beta_end over T steps (DDPM; SPEC §3, the paper's
    Table 8 varies T with this range fixed, so a larger T adds more noise: ᾱ_T ≈ exp(−T·(β_1+β_T)/2)).

    rescale: improved-diffusion's habit of scaling the range by 1000/T, so that ᾱ_T (and the noise at every
    relative step t/T) hardly changes with T; T then changes only the step count, not the noise."""
    scale = 1000.0 / num_steps if rescale else 1.0
    betas = np.linspace(beta_start * scale, beta_end * scale, num_steps, dtype=np.float64)
    return np.clip(betas, 0.0, 0.999)


def cosine_betas(num_steps: int, s: float = 0.008) -> np.ndarray:
    """(T,) float64, the cosine schedule of improved-diffusion (Nichol & Dhariwal 2021), β capped at 0.999."""

    def abar(u: float) -> float:
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    betas = [min(1 - abar((i + 1) / num_steps) / abar(i / num_steps), 0.999) for i in range(num_steps)]
    return np.array(betas, dtype=np.float64)


class NoiseSchedule:
    """DDPM forward process x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε (eq. 3) and its posterior for sampling."""

    def __init__(
        self,
        num_steps: int = 1000,
        schedule: Literal["linear", "cosine"] = "linear",
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
        rescale: bool = False,
    ) -> None:
        if num_steps < 1:
            raise ValueError(f"num_steps must be at least 1, got {num_steps}")
        if schedule == "linear":
            betas = linear_betas(num_steps, beta_start, beta_end, rescale)
        elif schedule == "cosine":
            betas = cosine_betas(num_steps)
        else:
            raise ValueError(f"unknown beta schedule {schedule!r}; use 'linear' or 'cosine'")
        if not (betas > 0).all():
            raise ValueError("beta schedule must be strictly positive")
        self.num_steps = num_steps
        self.schedule = schedule
        # Index i holds timestep t = i (index 0 is t = 0, clean: β_0 = 0, ᾱ_0 = 1).
        self.betas = np.concatenate([[0.0], betas])  # (T+1,) β_t
        self.alphas = 1.0 - self.betas  # (T+1,) α_t
        self.alpha_bar = np.cumprod(self.alphas)  # (T+1,) ᾱ_t
        self.sqrt_alpha_bar = np.sqrt(self.alpha_bar)
        self.sqrt_one_minus_alpha_bar = np.sqrt(1.0 - self.alpha_bar)
        self._tables: dict[tuple, torch.Tensor] = {}  # (array name, device, dtype) -> that array on the device

    @classmethod
    def from_config(cls, cfg: DiffusionConfig) -> NoiseSchedule:
        return cls(cfg.num_steps, cfg.schedule, cfg.beta_start, cfg.beta_end, cfg.beta_scaling == "rescaled")

    def snr(self, t: int) -> float:
        """Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t) of x_t, for t in 1..T."""
        return float(self.alpha_bar[t] / (1.0 - self.alpha_bar[t]))

    # -- helpers ---------------------------------------------------------------------------------------
    def _extract(self, name: str, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """self.<name>[t] (a float64 array of this schedule) as a tensor of like's dtype/device, shaped
        (B, 1, ..., 1) to broadcast against like.

        The table is copied to like's device once and indexed there: no device-to-host read of t per step."""
        key = (name, like.device, like.dtype)
        table = self._tables.get(key)
        if table is None:  # float64 values cast once: the same numbers as casting after indexing
            table = self._tables[key] = torch.from_numpy(getattr(self, name)).to(device=like.device, dtype=like.dtype)
        return table[t.detach().long()].view(-1, *([1] * (like.dim() - 1)))  # (B, 1, ..., 1)

    def _check_t(self, t: torch.Tensor, low: int = 1) -> None:
        if t.numel() and (int(t.min()) < low or int(t.max()) > self.num_steps):
            raise ValueError(f"timesteps must lie in {low}..{self.num_steps}, got {t.min()}..{t.max()}")

    # -- forward process -------------------------------------------------------------------------------
    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, check: bool = True) -> torch.Tensor:
        """x_t of eq. 3. x0, noise (B, ...); t (B,) int in 1..T. check=False skips the range check, which reads
        t back to the host (for t from `sample_timesteps`, in range by construction, in the training step)."""
        if check:
            self._check_t(t)
        return self._extract("sqrt_alpha_bar", t, x0) * x0 + self._extract("sqrt_one_minus_alpha_bar", t, x0) * noise

    def sample_timesteps(
        self, n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        """(n,) int64 timesteps drawn uniformly from {1..T}."""
        u = _rand((n,), generator, device)  # (n,) U[0, 1)
        return (u * self.num_steps).long().clamp_(0, self.num_steps - 1) + 1

    # -- reverse process -------------------------------------------------------------------------------
    def sampling_timesteps(self, num_steps: int) -> list[int]:
        """`num_steps` strided timesteps from T down to 1 (distinct, descending, first = T)."""
        if num_steps < 1:
            raise ValueError(f"sampling needs at least one step, got {num_steps}")
        num_steps = min(num_steps, self.num_steps)
        ts = np.linspace(self.num_steps, 1, num_steps).round().astype(np.int64)
        return [int(t) for t in np.unique(ts)[::-1]]

    def step(
        self, x0_pred: torch.Tensor, t: int, t_prev: int, x_t: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Sample x_{t_prev} ~ q(x_{t_prev} | x_t, x_0 = x0_pred) for 0 <= t_prev < t (strided DDPM step).

        With s = t_prev: mean = √ᾱ_s β_{t|s} / (1−ᾱ_t) · x0 + √α_{t|s} (1−ᾱ_s) / (1−ᾱ_t) · x_t,
        variance = β_{t|s} (1−ᾱ_s) / (1−ᾱ_t), where α_{t|s} = ᾱ_t / ᾱ_s and β_{t|s} = 1 − α_{t|s}.
        At s = 0 it returns x0 exactly.
        """
        if not 0 <= t_prev < t <= self.num_steps:
            raise ValueError(f"step needs 0 <= t_prev < t <= {self.num_steps}, got t={t}, t_prev={t_prev}")
        ab_t, ab_s = self.alpha_bar[t], self.alpha_bar[t_prev]
        a_ts = ab_t / ab_s
        b_ts = 1.0 - a_ts
        coef_x0 = math.sqrt(ab_s) * b_ts / (1.0 - ab_t)
        coef_xt = math.sqrt(a_ts) * (1.0 - ab_s) / (1.0 - ab_t)
        mean = coef_x0 * x0_pred + coef_xt * x_t
        if t_prev == 0:
            return mean
        var = b_ts * (1.0 - ab_s) / (1.0 - ab_t)
        return mean + math.sqrt(var) * _randn(tuple(x_t.shape), generator, x_t.device, x_t.dtype)
