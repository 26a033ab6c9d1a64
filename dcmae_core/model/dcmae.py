"""The composed DCMAE model (pretraining + reconstruction) and the finetuning classifier (SPEC §3).

Persons are folded into the batch and only present persons (person_valid) are gathered before the
encoder: an absent person costs no compute and carries no loss. Masks, timesteps and noise are drawn for
all N*M person slots from the passed-in generator and then gathered, so they do not depend on who is absent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from dcmae_core.baselines import interp_prior
from dcmae_core.config import DiffusionConfig, MaskConfig, ModelConfig
from dcmae_core.model.decoder import DCMAEDecoder
from dcmae_core.model.diffusion import NoiseSchedule
from dcmae_core.model.masking import _randn, spatiotemporal_mask
from dcmae_core.model.objectives import masked_mse, relative_masked_mse
from dcmae_core.model.stta import STTAEncoder

log = logging.getLogger(__name__)


@dataclass
class PretrainOutput:
    """loss: scalar; pred: (N, M, T, V, C) predicted x_0 (0 for absent persons); removed: (N, M, T, V)."""

    loss: torch.Tensor
    pred: torch.Tensor
    removed: torch.Tensor


def _check_batch(
    x: torch.Tensor, person_valid: torch.Tensor, num_joints: int, in_channels: int, tuple_len: int
) -> None:
    if x.dim() != 5:
        raise ValueError(f"expected x of shape (N, M, T, V, C), got {tuple(x.shape)}")
    n, m, t, v, c = x.shape
    if v != num_joints or c != in_channels:
        raise ValueError(f"model built for V={num_joints}, C={in_channels}; got V={v}, C={c}")
    if t % tuple_len:
        raise ValueError(f"{t} frames is not a multiple of tuple_len={tuple_len}")
    if person_valid.shape != (n, m) or person_valid.dtype != torch.bool:
        raise ValueError(
            f"person_valid must be (N, M) = ({n}, {m}) bool, got {tuple(person_valid.shape)} {person_valid.dtype}"
        )


def _present_rows(person_valid: torch.Tensor) -> torch.Tensor:
    """(N, M) bool -> (B,) int64 indices of present persons among the N*M slots."""
    return person_valid.reshape(-1).nonzero().squeeze(1)


class DCMAE(nn.Module):
    """STTA encoder + (cross-attention, diffusion) decoder; `forward_pretrain` and `reconstruct`."""

    def __init__(
        self,
        model_cfg: ModelConfig,
        mask_cfg: MaskConfig,
        diffusion_cfg: DiffusionConfig,
        num_joints: int,
        num_persons: int = 2,
        in_channels: int = 3,
        num_frames: int = 120,
        parents: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        self.model_cfg, self.mask_cfg = model_cfg, mask_cfg
        self.num_joints, self.num_persons = num_joints, num_persons
        self.in_channels, self.num_frames, self.tuple_len = in_channels, num_frames, model_cfg.tuple_len
        self.encoder = STTAEncoder(model_cfg, num_joints, in_channels)
        self.decoder = DCMAEDecoder(model_cfg, num_joints, in_channels, num_frames, self.encoder.out_dim, parents)
        self.schedule = NoiseSchedule.from_config(diffusion_cfg) if model_cfg.diffusion else None

    # -- stages ------------------------------------------------------------------------------------------
    def forward_encoder(self, x: torch.Tensor, removed: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        """x (B, T, V, C) present persons; removed (B, T, V); keep (B, T_keep) kept frames or None (all)
        -> decoder memory (B, T, V, D_dec). The encoder sees only kept frames, masked joints as a token."""
        num_frames = removed.shape[1]
        if keep is not None:
            v, c = x.shape[2], x.shape[3]
            x = x.gather(1, keep[:, :, None, None].expand(-1, -1, v, c))  # (B, Tk, V, C)
            removed = removed.gather(1, keep[:, :, None].expand(-1, -1, v))  # (B, Tk, V)
        feats = self.encoder(x, removed)  # (B, Tk, V, D_enc)
        return self.decoder.memory(feats, keep, num_frames)  # (B, T, V, D_dec)

    def forward_decoder(
        self,
        memory: torch.Tensor,
        removed: torch.Tensor,
        x_t: torch.Tensor | None,
        t: torch.Tensor | None,
        x: torch.Tensor | None = None,
        prior: torch.Tensor | None = None,
        padded: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """memory (B, T, V, D), removed (B, T, V) -> predicted x_0 (B, T, V, C). With the interpolation prior
        the visible entries of x (B, T, V, C) give it (removed entries of x are never read), unless the caller
        passes `prior` (B, T, V, C + 3) itself (e.g. computed on a whole clip longer than the window).
        padded (B, T) bool: frames whose memory is padding (see DCMAEDecoder.forward)."""
        if self.decoder.fill_prior and prior is None:
            if x is None:
                raise ValueError("a model with fill_prior='interp' needs the visible data to decode")
            prior = interp_prior(x, removed)  # (B, T, V, C + 3)
        return self.decoder(memory, removed, x_t, t, prior if self.decoder.fill_prior else None, padded)

    # -- pretraining -------------------------------------------------------------------------------------
    def forward_pretrain(
        self,
        x: torch.Tensor,
        person_valid: torch.Tensor,
        generator: torch.Generator | None = None,
        occlusion: torch.Tensor | None = None,
        present: torch.Tensor | None = None,
    ) -> PretrainOutput:
        """x (N, M, T, V, C) standardised, person_valid (N, M) bool -> PretrainOutput (loss on masked
        coordinates of present persons, single-step x_0 prediction at a random t). `occlusion` (N, M, T, V)
        bool replaces the paper's Mt/Mj mask for this batch (an occlusion pattern; every frame is kept).
        `present` (N, M, T) bool: the frames where each person has data (None = all); with
        model.padding_mask the others get no noise, no loss and no weight as keys (see ModelConfig)."""
        _check_batch(x, person_valid, self.num_joints, self.in_channels, self.tuple_len)
        n, m, t_len, v, c = x.shape
        rows = _present_rows(person_valid)  # (B,)
        if rows.numel() == 0:
            raise ValueError("forward_pretrain: no valid person in the batch (person_valid is all False)")
        x0 = x.reshape(n * m, t_len, v, c)[rows]  # (B, T, V, C)
        if occlusion is None:
            mask = spatiotemporal_mask(
                n * m,
                t_len,
                v,
                self.mask_cfg.frame_ratio,
                self.mask_cfg.joint_ratio,
                self.tuple_len,
                generator,
                x.device,
            )
            removed = mask.removed[rows]  # (B, T, V)
            keep = mask.keep[rows]  # (B, Tk)
        else:
            if occlusion.shape != (n, m, t_len, v) or occlusion.dtype != torch.bool:
                raise ValueError(f"occlusion must be ({n}, {m}, {t_len}, {v}) bool, got {tuple(occlusion.shape)}")
            removed = occlusion.reshape(n * m, t_len, v)[rows]  # (B, T, V)
            keep = None
        # Padding (model.padding_mask): frames where the person is absent, and the dropped frames' tokens.
        padded = absent = None
        if self.model_cfg.padding_mask:
            absent = torch.zeros(rows.numel(), t_len, dtype=torch.bool, device=x.device)  # (B, T)
            if present is not None:
                if present.shape != (n, m, t_len) or present.dtype != torch.bool:
                    raise ValueError(f"present must be ({n}, {m}, {t_len}) bool, got {tuple(present.shape)}")
                absent = ~present.reshape(n * m, t_len)[rows]  # (B, T)
            padded = absent.clone()
            if keep is not None:
                padded |= ~torch.zeros_like(absent).scatter_(1, keep, True)  # (B, T) absent or dropped
        scored = removed if absent is None else removed & ~absent[..., None]  # (B, T, V) entries in the loss
        x_t = t = None
        if self.schedule is not None:
            t = self.schedule.sample_timesteps(n, generator, x.device).repeat_interleave(m)[rows]  # (B,)
            noise = _randn((n * m, t_len, v, c), generator, x.device, x.dtype)[rows]  # (B, T, V, C)
            x_t = self.schedule.add_noise(x0, noise, t, check=False)  # (B, T, V, C); t drawn in range
            if absent is not None:
                x_t = torch.where(absent[..., None, None], x0, x_t)  # (B, T, V, C) absent frames: no noise
        prior = interp_prior(x0, removed) if self.decoder.fill_prior else None  # (B, T, V, C + 3)
        memory = self.forward_encoder(x0, removed, keep)  # (B, T, V, D)
        pred = self.forward_decoder(memory, removed, x_t, t, x0, prior, padded)  # (B, T, V, C)
        floor = self.model_cfg.relative_loss_floor
        loss = masked_mse(pred, x0, scored)
        if prior is not None and floor > 0:  # + the error relative to interpolation (see ModelConfig)
            loss = loss + relative_masked_mse(pred, x0, scored, prior[..., :c], floor)
        pred_full = pred.new_zeros(n * m, t_len, v, c).index_copy(0, rows, pred).view(n, m, t_len, v, c)
        removed_full = torch.zeros(n * m, t_len, v, dtype=torch.bool, device=x.device)
        removed_full[rows] = removed
        return PretrainOutput(loss=loss, pred=pred_full, removed=removed_full.view(n, m, t_len, v))

    # -- reconstruction ----------------------------------------------------------------------------------
    @torch.no_grad()
    def reconstruct(
        self,
        x: torch.Tensor,
        removed: torch.Tensor,
        person_valid: torch.Tensor,
        method: Literal["one_step", "iterative"] = "one_step",
        num_steps: int = 50,
        generator: torch.Generator | None = None,
        callback: Callable[[int, int], None] | None = None,
        prior: torch.Tensor | None = None,
        present: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Fill the removed (N, M, T, V) entries of x (N, M, T, V, C); other entries are returned unchanged.

        "one_step": x_0 predicted from t = T with the removed coordinates started from pure noise (the
        paper's REC); "iterative": strided DDPM sampling with `num_steps` steps from T down to 0. Without
        diffusion both are one pass with the mask token. The encoder sees all frames, removed joints as its
        mask embedding. `callback(done, total)` is called after each decoder pass (it may raise to cancel).
        Call `eval()` first for inference statistics. `prior` (N, M, T, V, C + 3): the interpolation prior
        (fill_prior models) when the caller computed it on more frames than x holds. `present` (N, M, T) bool:
        the frames where each person has data; with model.padding_mask the others are no keys of temporal
        attention, as in pretraining (None: every frame is).
        """
        _check_batch(x, person_valid, self.num_joints, self.in_channels, self.tuple_len)
        n, m, t_len, v, c = x.shape
        if removed.shape != (n, m, t_len, v) or removed.dtype != torch.bool:
            raise ValueError(
                f"removed must be ({n}, {m}, {t_len}, {v}) bool, got {tuple(removed.shape)} {removed.dtype}"
            )
        if method not in ("one_step", "iterative"):
            raise ValueError(f"unknown reconstruction method {method!r}; use 'one_step' or 'iterative'")
        rows = _present_rows(person_valid)  # (B,)
        if rows.numel() == 0:
            return x.clone()  # nobody to reconstruct
        xp = x.reshape(n * m, t_len, v, c)[rows]  # (B, T, V, C)
        rp = removed.reshape(n * m, t_len, v)[rows]  # (B, T, V)
        if prior is not None:
            pp = prior.reshape(n * m, t_len, v, -1)[rows]  # (B, T, V, C + 3)
        else:  # computed once here, not in every sampling step
            pp = interp_prior(xp, rp) if self.decoder.fill_prior else None
        padded = None
        if self.model_cfg.padding_mask and present is not None:
            padded = ~present.reshape(n * m, t_len)[rows]  # (B, T) frames where the person is absent
        memory = self.forward_encoder(xp, rp, None)  # (B, T, V, D)
        if self.schedule is None:
            if method == "iterative":
                log.info("diffusion is off in this model: iterative reconstruction is one mask-token pass")
            pred = self.forward_decoder(memory, rp, None, None, xp, pp, padded)
            steps = [0]
        else:
            if method == "one_step":
                steps = [self.schedule.num_steps]
            else:
                steps = self.schedule.sampling_timesteps(num_steps)
            x_t = _randn((n * m, t_len, v, c), generator, x.device, x.dtype)[rows]  # (B, T, V, C) pure noise
            for i, t in enumerate(steps):
                tt = torch.full((xp.shape[0],), t, dtype=torch.long, device=x.device)  # (B,)
                pred = self.forward_decoder(memory, rp, x_t, tt, xp, pp, padded)  # (B, T, V, C)
                t_prev = steps[i + 1] if i + 1 < len(steps) else 0
                if t_prev > 0:
                    x_t = self.schedule.step(pred, t, t_prev, x_t, generator)
                if callback is not None:
                    callback(i + 1, len(steps))
        filled = torch.where(rp[..., None], pred.to(x.dtype), xp)  # (B, T, V, C)
        out = x.reshape(n * m, t_len, v, c).clone()
        out[rows] = filled
        if self.schedule is None and callback is not None:
            callback(1, 1)
        return out.view(n, m, t_len, v, c)


class DCMAEClassifier(nn.Module):
    """Finetuning: the encoder on all frames, mean over tokens and present persons, one linear layer."""

    def __init__(self, encoder: STTAEncoder, num_classes: int, head_dropout: float = 0.0) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        self.encoder = encoder
        self.dropout = nn.Dropout(head_dropout)
        self.head = nn.Linear(encoder.out_dim, num_classes)
        nn.init.xavier_normal_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def features(self, x: torch.Tensor, person_valid: torch.Tensor) -> torch.Tensor:
        """x (N, M, T, V, C), person_valid (N, M) bool -> pooled features (N, D)."""
        enc = self.encoder
        _check_batch(x, person_valid, enc.num_joints, enc.in_channels, enc.tuple_len)
        n, m, t_len, v, c = x.shape
        count = person_valid.sum(dim=1)  # (N,)
        if bool((count == 0).any()):
            bad = (count == 0).nonzero().flatten().tolist()
            raise ValueError(f"samples {bad} have no valid person (person_valid all False)")
        rows = _present_rows(person_valid)  # (B,)
        tokens = enc.forward_tokens(x.reshape(n * m, t_len, v, c)[rows])  # (B, L, P, D)
        per_person = tokens.mean(dim=(1, 2))  # (B, D)
        sample = rows // m  # (B,) sample of each present person
        pooled = per_person.new_zeros(n, per_person.shape[1]).index_add(0, sample, per_person)  # (N, D)
        return pooled / count[:, None].to(pooled.dtype)

    def forward(self, x: torch.Tensor, person_valid: torch.Tensor) -> torch.Tensor:
        """x (N, M, T, V, C), person_valid (N, M) bool -> logits (N, num_classes)."""
        return self.head(self.dropout(self.features(x, person_valid)))
