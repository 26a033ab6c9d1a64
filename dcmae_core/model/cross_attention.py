"""Spatio-temporal cross-attention (paper §1.3, eq. 5–7) and the CSTTA decoder block.

Decoder tokens X and encoder tokens Z live on the same (B, T, V, D) grid. Temporal cross-attention runs per
joint over frames (softmax over frames), spatial cross-attention per frame over joints (softmax over joints),
serially: Y = Attn_s(Attn_t(X, Z), Z). Pre-norm, residuals, multi-head, fused scaled-dot-product attention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dcmae_core.model.stta import STTABlock, from_tokens, to_tokens


class CrossAttention(nn.Module):
    """Multi-head cross-attention of queries x (S, Lq, D) over memory z (S, Lk, D), pre-norm, no residual."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"width {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)  # k and v fused in one matmul
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, z: torch.Tensor, key_keep: torch.Tensor | None = None) -> torch.Tensor:
        """x (S, Lq, D), z (S, Lk, D); key_keep (S, Lk) bool, False = a key no query may attend to (padding;
        every row must keep at least one key) -> (S, Lq, D)."""
        s, lq, d = x.shape
        lk, h = z.shape[1], self.num_heads
        q = self.q(self.norm_q(x)).view(s, lq, h, d // h).transpose(1, 2)  # (S, H, Lq, D/H)
        kv = self.kv(self.norm_kv(z)).view(s, lk, 2, h, d // h).permute(2, 0, 3, 1, 4)  # (2, S, H, Lk, D/H)
        k, v = kv.unbind(0)  # not kv[0] / kv[1]: their backward zero-fills two full-size gradients
        mask = None if key_keep is None else key_keep[:, None, None, :]  # (S, 1, 1, Lk)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (S, H, Lq, D/H)
        return self.proj(out.transpose(1, 2).reshape(s, lq, d))  # (S, Lq, D)


class SpatioTemporalCrossAttention(nn.Module):
    """Attn_t per joint over frames, then Attn_s per frame over joints (eq. 7), each with a residual."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.temporal = CrossAttention(dim, num_heads)
        self.spatial = CrossAttention(dim, num_heads)

    def forward(
        self, x: torch.Tensor, z: torch.Tensor, zt: torch.Tensor | None = None, frame_keep: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x decoder grid (B, T, V, D), z encoder grid (B, T, V, D) -> (B, T, V, D).

        zt: z already arranged per joint, (B*V, T, D) (the decoder computes it once for all blocks).
        frame_keep: (B*V, T) bool, False = a frame whose memory is padding (a dropped frame's token, a frame
        where the person is absent): temporal attention gives it no weight. Spatial attention is not masked:
        all joints of a frame are padding or none is, and a query in a padded frame needs some key."""
        b, t, v, d = x.shape
        xt = x.transpose(1, 2).reshape(b * v, t, d)  # (B*V, T, D): one sequence per joint
        if zt is None:
            zt = z.transpose(1, 2).reshape(b * v, t, d)  # (B*V, T, D)
        x = x + self.temporal(xt, zt, frame_keep).view(b, v, t, d).transpose(1, 2)  # (B, T, V, D)
        xs = x.reshape(b * t, v, d)  # (B*T, V, D): one sequence per frame
        x = x + self.spatial(xs, z.reshape(b * t, v, d)).view(b, t, v, d)  # (B, T, V, D)
        return x


class CSTTABlock(nn.Module):
    """Cross-attention (optional: `cross_attention=False` is the Table 5 ablation) then an STTA block."""

    def __init__(
        self,
        dim: int,
        cross_heads: int,
        stta_heads: int,
        qk_dim: int,
        tuple_len: int,
        num_joints: int,
        token_kernel: int,
        cross_attention: bool = True,
    ) -> None:
        super().__init__()
        self.tuple_len = tuple_len
        self.cross = SpatioTemporalCrossAttention(dim, cross_heads) if cross_attention else None
        self.stta = STTABlock(dim, dim, qk_dim, stta_heads, tuple_len * num_joints, token_kernel=token_kernel)

    def forward(
        self,
        x: torch.Tensor,
        z: torch.Tensor | None,
        zt: torch.Tensor | None = None,
        frame_keep: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x (B, T, V, D), z (B, T, V, D) encoder memory (unused without cross-attention), zt its per-joint
        arrangement (B*V, T, D) or None, frame_keep (B*V, T) bool or None -> (B, T, V, D)."""
        if self.cross is not None:
            x = self.cross(x, z, zt, frame_keep)
        return from_tokens(self.stta(to_tokens(x, self.tuple_len)), self.tuple_len)  # (B, T, V, D)
