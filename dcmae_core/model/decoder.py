"""The DCMAE decoder (SPEC §3): input grid, timestep embedding, CSTTA blocks, coordinate head.

Input grid (B, T, V, D): encoder features projected to D at visible positions; at removed positions the
embedding of the noised coordinates x_t (diffusion) or a learned mask token (SkeletonMAE, diffusion off);
plus learned temporal and spatial position embeddings and, with diffusion, a sinusoidal timestep embedding
through a small MLP, which conditions the queries only. The cross-attention keys and values come from the
memory: the projected encoder grid (a learned token in dropped frames) plus the same position embeddings,
without the timestep (paper eq. 5–6 take K and V from the encoder's features). `model.timestep_in_memory`
restores the first implementation, which added the timestep to the memory too (checkpoints saved before the
key existed keep it; config.LEGACY_VALUES).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from dcmae_core.baselines import PRIOR_FEATURES
from dcmae_core.config import ModelConfig
from dcmae_core.model.cross_attention import CSTTABlock
from dcmae_core.model.stta import TOKEN_KERNEL


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """(B,) integer timesteps -> (B, dim) sinusoidal code (as in DDPM / improved-diffusion)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]  # (B, dim/2)
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # (B, 2*(dim/2))
    return F.pad(emb, (0, dim - emb.shape[-1]))  # (B, dim)


class DCMAEDecoder(nn.Module):
    """Embeds the input grid, runs `cfg.decoder_depth` CSTTA blocks and predicts x_0 coordinates."""

    def __init__(
        self,
        cfg: ModelConfig,
        num_joints: int,
        in_channels: int,
        num_frames: int,
        encoder_dim: int,
        parents: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        d = cfg.decoder_dim
        self.diffusion, self.num_frames, self.dim = cfg.diffusion, num_frames, d
        self.cross_attention = cfg.cross_attention
        self.timestep_in_memory = cfg.timestep_in_memory
        self.encoder_proj = nn.Linear(encoder_dim, d)  # encoder features -> decoder width
        self.dropped_token = nn.Parameter(torch.zeros(d))  # memory where whole frames were dropped
        self.pos_time = nn.Parameter(torch.zeros(num_frames, d))  # learned temporal position embedding
        self.pos_joint = nn.Parameter(torch.zeros(num_joints, d))  # learned spatial position embedding
        for p in (self.dropped_token, self.pos_time, self.pos_joint):
            nn.init.trunc_normal_(p, std=0.02)
        if cfg.diffusion:
            self.coord_embed = nn.Linear(in_channels, d)  # noised coordinates x_t -> width
            self.time_embed = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        else:
            self.mask_token = nn.Parameter(torch.zeros(d))  # SkeletonMAE: removed positions get a token
            nn.init.trunc_normal_(self.mask_token, std=0.02)
        if cfg.decoder_stta == "full":  # the encoder's STTA block at width d (ModelConfig.decoder_stta)
            heads, kernel = cfg.encoder_heads, TOKEN_KERNEL
            qk = max(1, round(d * cfg.encoder_qk_dims[-1] / cfg.encoder_dims[-1]))
        else:
            heads, qk, kernel = cfg.decoder_stta_heads, cfg.decoder_qk_dim, cfg.decoder_token_kernel
        self.blocks = nn.ModuleList(
            CSTTABlock(
                d, cfg.decoder_heads, heads, qk, cfg.tuple_len, num_joints, kernel, cross_attention=cfg.cross_attention
            )
            for _ in range(cfg.decoder_depth)
        )
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, in_channels)
        self.fill_prior = cfg.fill_prior == "interp"
        if self.fill_prior:  # interpolation prior: embedded at removed positions; output = prior + correction
            self.prior_embed = nn.Linear(in_channels + PRIOR_FEATURES, d)
            nn.init.zeros_(self.head.weight)  # a fresh model fills exactly as interpolation does
            nn.init.zeros_(self.head.bias)
        self.chain: list[tuple[int, int]] = []  # (joint, parent) in an order where parents come first
        if self.fill_prior and cfg.skeleton_prior:
            if parents is None or len(parents) != num_joints:
                raise ValueError("model.skeleton_prior needs the layout's parents (one per joint)")
            self.rest_offset = nn.Parameter(torch.zeros(num_joints, in_channels))  # joint - parent, learned
            done = {j for j, p in enumerate(parents) if p < 0}
            while len(done) < num_joints:
                ready = [j for j, p in enumerate(parents) if j not in done and p in done]
                if not ready:
                    raise ValueError(f"the layout's parents {parents} do not form a tree")
                self.chain += [(j, parents[j]) for j in ready]
                done.update(ready)
        self.checkpoint_blocks = cfg.checkpoint_decoder  # recompute block activations in backward

    def positions(self, num_frames: int) -> torch.Tensor:
        """(T, V, D) temporal + spatial position embeddings; linearly resampled when T != num_frames."""
        pt = self.pos_time
        if num_frames != self.num_frames:
            pt = F.interpolate(pt.T[None], size=num_frames, mode="linear", align_corners=True)[0].T  # (T, D)
        return pt[:, None, :] + self.pos_joint[None, :, :]  # (T, V, D)

    def memory(self, features: torch.Tensor, keep: torch.Tensor | None, num_frames: int) -> torch.Tensor:
        """Encoder features (B, T_keep, V, D_enc) of the kept frames `keep` (B, T_keep) (None = all frames)
        -> memory grid (B, T, V, D) with the dropped-frame token elsewhere (no positions added yet)."""
        z = self.encoder_proj(features)  # (B, Tk, V, D)
        if keep is None:
            return z
        b, _, v, d = z.shape
        grid = self.dropped_token.to(z.dtype).expand(b, num_frames, v, d).clone()  # (B, T, V, D)
        return grid.scatter(1, keep[:, :, None, None].expand(-1, -1, v, d), z)  # (B, T, V, D)

    def skeleton_fill(self, prior: torch.Tensor) -> torch.Tensor:
        """prior (..., T, V, C + 3): a joint with no visible frame on either side (both flags 0) takes its
        parent's prior value plus `rest_offset`, parents first (model.skeleton_prior); else unchanged."""
        if not self.chain:
            return prior
        c = self.head.out_features
        values = list(prior[..., :c].unbind(dim=-2))  # V tensors (..., T, C)
        never = (prior[..., c] + prior[..., c + 1]) == 0  # (..., T, V) no visible frame on either side
        offset = self.rest_offset.to(prior.dtype)
        for j, p in self.chain:
            values[j] = torch.where(never[..., j, None], values[p] + offset[j], values[j])
        return torch.cat([torch.stack(values, dim=-2), prior[..., c:]], dim=-1)

    def forward(
        self,
        memory: torch.Tensor,
        removed: torch.Tensor,
        x_t: torch.Tensor | None = None,
        t: torch.Tensor | None = None,
        prior: torch.Tensor | None = None,
        padded: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """memory (B, T, V, D) from `memory`; removed (B, T, V) bool; x_t (B, T, V, C) noised coordinates and
        t (B,) timesteps (diffusion only); prior (B, T, V, C + 3) from `baselines.interp_prior` (fill_prior
        only); padded (B, T) bool, True = the memory of that frame is padding, no key for temporal attention
        (None: every frame is a key) -> predicted x_0 (B, T, V, C)."""
        pos = self.positions(memory.shape[1]).to(memory.dtype)  # (T, V, D)
        z = memory + pos  # (B, T, V, D): keys and values, the encoder's features with positions (eq. 5-6)
        if self.diffusion:
            if x_t is None or t is None:
                raise ValueError("the diffusion decoder needs the noised coordinates x_t and timesteps t")
            masked = self.coord_embed(x_t)  # (B, T, V, D)
            temb = self.time_embed(timestep_embedding(t, self.dim).to(memory.dtype))  # (B, D)
            pos = pos + temb[:, None, None, :]  # (B, T, V, D): the timestep conditions the queries
            if self.timestep_in_memory:
                z = memory + pos  # (B, T, V, D)
        else:
            masked = self.mask_token.to(memory.dtype).expand_as(memory)
        if self.fill_prior:
            if prior is None:
                raise ValueError("this decoder was built with fill_prior='interp' and needs the prior")
            prior = self.skeleton_fill(prior.to(memory.dtype))
            masked = masked + self.prior_embed(prior)  # (B, T, V, D)
        h = torch.where(removed[..., None], masked, memory) + pos  # (B, T, V, D)
        b, t, v, d = z.shape
        zt = z.transpose(1, 2).reshape(b * v, t, d) if self.cross_attention else None  # (B*V, T, D) per joint
        keep = None
        if padded is not None and self.cross_attention:
            keep = ~padded | padded.all(dim=1, keepdim=True)  # (B, T); a row with no real frame keeps all
            keep = keep[:, None, :].expand(b, v, t).reshape(b * v, t)  # (B*V, T) per joint, as zt
        recompute = self.checkpoint_blocks and self.training and torch.is_grad_enabled()
        for block in self.blocks:
            h = checkpoint(block, h, z, zt, keep, use_reentrant=False) if recompute else block(h, z, zt, keep)
        out = self.head(self.norm(h))  # (B, T, V, C)
        if self.fill_prior:
            out = out + prior[..., : out.shape[-1]].to(out.dtype)  # interpolation + the learned correction
        return out
