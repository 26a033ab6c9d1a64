"""Spatio-temporal tuple attention (STTA, from STTFormer) and the 8-block encoder (SPEC §3).

A sequence (B, T, V, C) is cut into P = T / tuple_len tuples of tuple_len consecutive frames; the L =
tuple_len * V joints of one tuple are its tokens (frame-major: token = frame_in_tuple * V + joint).
STTFormer writes this as a (B, C, P, L) image with 1x1 / (1,5) / (3,1) convolutions. Here the same
operators act on a channels-last token layout (B, L, P, D): every 1x1 conv is a matmul, a (1,K) or (K,1)
conv is one matmul to K*D_out channels followed by a shifted sum along its axis (no im2col copy), and
BatchNorm normalises the (B*L*P, D) view. Weights and arithmetic are those of STTFormer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dcmae_core.config import ModelConfig

TOKEN_KERNEL = 5  # STTFormer kernel_size[1]: conv (1, 5) along the in-tuple token axis after attention
TUPLE_KERNEL = 3  # STTFormer kernel_size[0]: conv (3, 1) along the tuple axis (inter-frame aggregation)


def to_tokens(x: torch.Tensor, tuple_len: int) -> torch.Tensor:
    """(B, T, V, D) grid -> (B, L, P, D) tokens, L = tuple_len * V, P = T / tuple_len."""
    b, t, v, d = x.shape
    if t % tuple_len:
        raise ValueError(f"{t} frames is not a multiple of tuple_len={tuple_len}")
    x = x.view(b, t // tuple_len, tuple_len, v, d)  # (B, P, f, V, D)
    return x.permute(0, 2, 3, 1, 4).reshape(b, tuple_len * v, t // tuple_len, d)  # (B, L, P, D)


def from_tokens(x: torch.Tensor, tuple_len: int) -> torch.Tensor:
    """(B, L, P, D) tokens -> (B, T, V, D) grid."""
    b, l, p, d = x.shape
    x = x.view(b, tuple_len, l // tuple_len, p, d)  # (B, f, V, P, D)
    return x.permute(0, 3, 1, 2, 4).reshape(b, p * tuple_len, l // tuple_len, d)  # (B, T, V, D)


def sinusoid_table(num_positions: int, dim: int) -> torch.Tensor:
    """(num_positions, dim) fixed sine/cosine code (STTFormer's Pos_Embed over in-tuple positions)."""
    pos = torch.arange(num_positions, dtype=torch.float32)[:, None]  # (L, 1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * -(math.log(10000.0) / dim))  # (ceil(D/2),)
    table = torch.zeros(num_positions, dim)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div[: dim // 2])
    return table


def conv1x1(in_dim: int, out_dim: int) -> nn.Linear:
    """A 1x1 conv as a matmul, initialised as STTFormer's `conv_init`: kaiming normal (fan-out), zero bias."""
    layer = nn.Linear(in_dim, out_dim)
    nn.init.kaiming_normal_(layer.weight, mode="fan_out")  # Linear weight (out, in): fan-out = out_dim
    nn.init.zeros_(layer.bias)
    return layer


def batch_norm(x: torch.Tensor, bn: nn.BatchNorm1d) -> torch.Tensor:
    """BatchNorm over the last (channel) axis of a channels-last tensor (..., D)."""
    return bn(x.reshape(-1, x.shape[-1])).view(x.shape)


class LinearBN(nn.Module):
    """1x1 conv + BatchNorm on the channel axis (STTFormer's `ress`/`rest`/`ff_net`)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.linear = conv1x1(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return batch_norm(self.linear(x), self.bn)


class ShiftSum(torch.autograd.Function):
    """out[i] = bias + Σ_k z[i + k - K//2, k] along `axis` (zero outside): z (..., K, D) -> (..., D).

    The K taps of a conv after its matmul. Backward writes each tap's gradient once into one buffer
    (autograd through `select` would allocate and fill a full-size zero tensor per tap).
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor, bias: torch.Tensor, axis: int) -> torch.Tensor:
        kernel = z.shape[-2]
        c = kernel // 2
        ctx.axis, ctx.kernel = axis, kernel
        out = z.select(-2, c) + bias  # (..., D)
        n = out.shape[axis]
        for k in range(kernel):
            s = k - c
            if k == c or abs(s) >= n:
                continue
            zk = z.select(-2, k)
            if s > 0:
                out.narrow(axis, 0, n - s).add_(zk.narrow(axis, s, n - s))
            else:
                out.narrow(axis, -s, n + s).add_(zk.narrow(axis, 0, n + s))
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        axis, kernel = ctx.axis, ctx.kernel
        c, n = kernel // 2, grad.shape[axis]
        # grad of z[j, k] = grad[j - s] (s = k - c), zero where j - s falls outside: tap k is a window of the
        # zero-padded gradient. One pad and one stack instead of a copy and a zero fill per tap.
        pad = [0, 0] * (grad.dim() - axis % grad.dim())
        pad[-2:] = [c, c]  # F.pad lists the last axis first: pad only `axis`, by c on both sides
        gp = F.pad(grad, pad)  # (..., n + 2c along axis, ..., D)
        gz = torch.stack([gp.narrow(axis, 2 * c - k, n) for k in range(kernel)], dim=-2)  # (..., K, D)
        return gz, grad.reshape(-1, grad.shape[-1]).sum(0), None


class AxisConvBN(nn.Module):
    """Conv of odd size K along one axis of a channels-last tensor (zero padding K//2) + BatchNorm.

    Computed as one matmul to K * out channels and a shifted sum of the K slices along `axis`.
    """

    def __init__(self, in_dim: int, out_dim: int, kernel: int, axis: int) -> None:
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"conv kernel must be odd, got {kernel}")
        self.kernel, self.axis, self.out_dim = kernel, axis, out_dim
        self.weight = nn.Parameter(torch.empty(in_dim, kernel * out_dim))  # (D_in, K*D_out), slice k = tap k
        self.bias = nn.Parameter(torch.zeros(out_dim))
        nn.init.normal_(self.weight, std=math.sqrt(2.0 / (out_dim * kernel)))  # STTFormer: kaiming, fan_out
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x @ self.weight).unflatten(-1, (self.kernel, self.out_dim))  # (..., K, D_out)
        if self.kernel == 1:
            return batch_norm(z.squeeze(-2) + self.bias, self.bn)
        return batch_norm(ShiftSum.apply(z, self.bias, self.axis), self.bn)  # (..., D_out)


class STTABlock(nn.Module):
    """One STTA block: tuple attention, (1,K) out conv, feed-forward, (3,1) inter-frame aggregation.

    Input and output (B, L, P, D) with L = num_tokens in-tuple tokens and any number of tuples P.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        qk_dim: int,
        num_heads: int,
        num_tokens: int,
        token_kernel: int = TOKEN_KERNEL,
        tuple_kernel: int = TUPLE_KERNEL,
    ) -> None:
        super().__init__()
        self.in_dim, self.out_dim, self.qk_dim, self.num_heads = in_dim, out_dim, qk_dim, num_heads
        pos = sinusoid_table(num_tokens, in_dim)[:, None, :]  # (L, 1, D_in)
        self.register_buffer("pos", pos, persistent=False)
        self.qk = conv1x1(in_dim, 2 * num_heads * qk_dim)  # q and k fused in one matmul
        self.alpha = nn.Parameter(torch.ones(num_heads))  # learned scale of the tanh map (init 1)
        # Learned per-head map, stored as (H, L_out, L_in) so that the value product needs no transpose.
        self.att0 = nn.Parameter(torch.full((num_heads, num_tokens, num_tokens), 1.0 / num_tokens))
        self.out_conv = AxisConvBN(num_heads * in_dim, out_dim, token_kernel, axis=1)
        self.res = LinearBN(in_dim, out_dim) if in_dim != out_dim else None
        self.ff = LinearBN(out_dim, out_dim)
        self.tuple_conv = AxisConvBN(out_dim, out_dim, tuple_kernel, axis=2)
        self.tuple_res = LinearBN(out_dim, out_dim) if in_dim != out_dim else None

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, P, D) -> (B, H, L_out, L_in) maps shared by all tuples of a sequence."""
        b, l, p, _ = x.shape
        h, d = self.num_heads, self.qk_dim
        qk = self.qk(x + self.pos)  # (B, L, P, 2*H*d)
        qk = qk.view(b, l, p, 2, h, d).permute(3, 0, 4, 1, 2, 5)  # (2, B, H, L, P, d)
        # unbind, not qk[0] / qk[1]: the backward of two selects allocates and zero-fills two full-size tensors.
        q, k = qk.reshape(2, b * h, l, p * d).unbind(0)  # 2 x (B*H, L, P*d)
        logits = torch.bmm(k, q.transpose(1, 2))  # (B*H, L_out, L_in): Σ over tuples and channels
        # Plain mul/add: baddbmm's alpha and addcmul launch more kernels in backward than they save (measured).
        attn = torch.tanh(logits * (1.0 / (d * p))).view(b, h, l, l)  # (B, H, L, L)
        return attn * self.alpha.view(1, h, 1, 1) + self.att0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, l, p, din = x.shape
        h = self.num_heads
        attn = self.attention(x)  # (B, H, L, L)
        # Values are x itself: y[b, h, v] = Σ_u attn[b, h, v, u] x[b, u], all tuples at once.
        y = torch.bmm(attn.reshape(b, h * l, l), x.reshape(b, l, p * din))  # (B, H*L, P*D_in)
        y = y.view(b, h, l, p, din).permute(0, 2, 3, 1, 4).reshape(b, l, p, h * din)  # (B, L, P, H*D_in)
        res = x if self.res is None else self.res(x)  # (B, L, P, D_out)
        # In-place activations on fresh sums: one activation-sized tensor less to keep per step.
        out = F.leaky_relu_(self.out_conv(y) + res, 0.1)
        out = F.leaky_relu_(self.ff(out) + res, 0.1)
        # Inter-frame feature aggregation along the tuple axis.
        tres = out if self.tuple_res is None else self.tuple_res(out)
        return F.leaky_relu_(self.tuple_conv(out) + tres, 0.1)  # (B, L, P, D_out)


class STTAEncoder(nn.Module):
    """Input map (1x1 conv + BN + LeakyReLU) and the STTA blocks of `cfg.encoder_dims` (SPEC §3).

    Runs on any number of frames that is a multiple of tuple_len; masked joints (True in `removed`) are
    replaced by a learned mask embedding after the input map's linear part, so their values never enter.
    """

    def __init__(self, cfg: ModelConfig, num_joints: int, in_channels: int = 3) -> None:
        super().__init__()
        self.tuple_len, self.num_joints, self.in_channels = cfg.tuple_len, num_joints, in_channels
        self.num_tokens = cfg.tuple_len * num_joints
        self.out_dim = cfg.encoder_dims[-1]
        self.stem = conv1x1(in_channels, cfg.stem_dim)
        self.stem_bn = nn.BatchNorm1d(cfg.stem_dim)
        self.mask_embed: nn.Parameter | None = nn.Parameter(torch.zeros(cfg.stem_dim))
        nn.init.normal_(self.mask_embed, std=0.02)
        self._register_load_state_dict_pre_hook(self._skip_dropped_mask_embed)
        dims = [cfg.stem_dim, *cfg.encoder_dims]
        self.blocks = nn.ModuleList(
            STTABlock(dims[i], dims[i + 1], cfg.encoder_qk_dims[i], cfg.encoder_heads, self.num_tokens)
            for i in range(len(cfg.encoder_dims))
        )

    def drop_mask_embed(self) -> STTAEncoder:
        """Remove the mask embedding (an encoder that never sees masked joints: the classifier's); -> self."""
        self.mask_embed = None
        return self

    def _skip_dropped_mask_embed(self, state_dict, prefix, *_args) -> None:
        """Checkpoints saved before `drop_mask_embed` existed carry the classifier's unused mask embedding."""
        if self.mask_embed is None:
            state_dict.pop(prefix + "mask_embed", None)

    def forward_tokens(self, x: torch.Tensor, removed: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, V, C), removed (B, T, V) bool or None -> features (B, L, P, D)."""
        if x.dim() != 4 or x.shape[2] != self.num_joints or x.shape[3] != self.in_channels:
            raise ValueError(f"encoder expects (B, T, {self.num_joints}, {self.in_channels}), got {tuple(x.shape)}")
        h = self.stem(to_tokens(x, self.tuple_len))  # (B, L, P, D0)
        if removed is not None:
            if self.mask_embed is None:
                raise ValueError("this encoder has no mask embedding (a classifier's): it cannot take masked joints")
            m = to_tokens(removed[..., None], self.tuple_len)  # (B, L, P, 1) bool
            h = torch.where(m, self.mask_embed.to(h.dtype), h)
        h = F.leaky_relu(batch_norm(h, self.stem_bn), 0.1)
        for block in self.blocks:
            h = block(h)
        return h  # (B, L, P, D)

    def forward(self, x: torch.Tensor, removed: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, V, C) -> features on the grid (B, T, V, D)."""
        return from_tokens(self.forward_tokens(x, removed), self.tuple_len)
