"""Where a CPU pretraining step's time goes: each block alone, the attention kernel, and bf16 autocast.

    python bench/bench_step_parts.py [--preset demo] [--batch 32]

1. Every encoder block and every decoder block's cross-attention (temporal, spatial) and STTA part, run alone on
   the inputs it received in a real step (captured by hooks): forward, and forward + backward, median of 5.
2. `scaled_dot_product_attention` against the same attention written as matmuls and softmax, forward + backward,
   on the decoder's per-joint (temporal, with a key mask) and per-frame (spatial) shapes.
3. The whole step in fp32 and under bf16 autocast (a CPU with AMX runs bf16 matmuls several times faster).
4. Single matmuls of the step's shapes against one big square matmul.
Figures in docs/benchmarks.md ("Operators and speed per step").
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F

from dcmae_core.config import build_config
from dcmae_core.evaluation.profiling import matmul_gmacs, time_call
from dcmae_core.model.factory import build_dcmae
from dcmae_core.training.allocator import keep_freed_memory

CPU = torch.device("cpu")


def median_ms(fn: Callable[[], object]) -> float:
    """Median of 5 timed calls after 2 warm-up calls, in ms (`profiling.time_call`, as `profile` times)."""
    return 1e3 * time_call(fn, CPU, repeats=5, warmup=2)


def _forward(mod, args) -> None:
    with torch.no_grad():
        mod(*args)


def _forward_backward(mod, args) -> None:
    out = mod(*args)
    out.backward(torch.ones_like(out))


def _leaf(a):
    """A captured input as a fresh leaf (gradients flow to floating inputs, as in the step)."""
    return a if a is None else a.detach().clone().requires_grad_(a.is_floating_point())


def parts(model, step: Callable[[], None]) -> None:
    """Time each block alone on the inputs a real step gave it."""
    targets = {f"encoder block {i}": b for i, b in enumerate(model.encoder.blocks)}
    for i, b in enumerate(model.decoder.blocks):
        targets[f"decoder {i} cross, temporal"] = b.cross.temporal
        targets[f"decoder {i} cross, spatial"] = b.cross.spatial
        targets[f"decoder {i} STTA"] = b.stta
    captured = {}

    def keep(name):
        def hook(_mod, args):
            captured[name] = [_leaf(a) for a in args]

        return hook

    hooks = [m.register_forward_pre_hook(keep(n)) for n, m in targets.items()]
    step()
    for h in hooks:
        h.remove()
    print("| part | input | forward ms | forward + backward ms |\n|---|---|---:|---:|")
    for name, mod in targets.items():
        args = captured[name]
        fwd = median_ms(functools.partial(_forward, mod, args))
        both = median_ms(functools.partial(_forward_backward, mod, args))
        print(f"| {name} | {tuple(args[0].shape)} | {fwd:.1f} | {both:.1f} |")


def _fused(q, k, v, grad, mask) -> None:
    F.scaled_dot_product_attention(q, k, v, attn_mask=mask).backward(grad)


def _plain(q, k, v, grad, mask) -> None:
    s = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    (s.softmax(-1) @ v).backward(grad)


def attention(heads: int, head_dim: int, shapes: list[tuple[int, int]]) -> None:
    print("\n| sequences x tokens | key mask | fused kernel ms | matmul + softmax ms |\n|---|---|---:|---:|")
    for seqs, tokens in shapes:
        q, k, v = (torch.randn(seqs, heads, tokens, head_dim, requires_grad=True) for _ in range(3))
        grad = torch.randn(seqs, heads, tokens, head_dim)
        for mask in (None, torch.rand(seqs, 1, 1, tokens) > 0.1):
            fused = median_ms(functools.partial(_fused, q, k, v, grad, mask))
            plain = median_ms(functools.partial(_plain, q, k, v, grad, mask))
            print(f"| {seqs} x {tokens} | {'no' if mask is None else 'yes'} | {fused:.1f} | {plain:.1f} |")


def matmuls(shapes: list[tuple[int, int, int]]) -> None:
    """Single matmuls of the step's shapes (rows x in -> out) against one big square matmul."""
    peak = matmul_gmacs(CPU)  # GMAC/s of a 2048² matmul, best of 5
    print(f"\n| matmul rows x in -> out | ms | GMAC/s | share of a 2048² matmul ({peak:.0f} GMAC/s) |")
    print("|---|---:|---:|---:|")
    for rows, d_in, d_out in shapes:
        a, w = torch.randn(rows, d_in), torch.randn(d_out, d_in)
        ms = median_ms(functools.partial(F.linear, a, w))
        rate = rows * d_in * d_out / ms / 1e6
        print(f"| {rows} x {d_in} -> {d_out} | {ms:.2f} | {rate:.0f} | {100 * rate / peak:.0f} % |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="demo")
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    keep_freed_memory()  # as the training commands run on the CPU
    torch.manual_seed(0)
    cfg = build_config(args.preset)
    t, m, v, c = cfg.data.num_frames, 2, 25, 3
    model = build_dcmae(cfg, v, m, c, parents=tuple(range(-1, v - 1)))
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, m, t, v, c)
    valid = torch.ones(args.batch, m, dtype=torch.bool)

    def step(bf16: bool = False) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model.forward_pretrain(x, valid, gen).loss
        loss.backward()
        model.zero_grad(set_to_none=True)

    print(f"{args.preset}, batch {args.batch}, {torch.get_num_threads()} threads")
    print(f"whole step: fp32 {median_ms(step):.0f} ms, bf16 autocast {median_ms(lambda: step(True)):.0f} ms")
    parts(model, step)
    d = cfg.model.decoder_dim
    rows_dec = 2 * args.batch * t * v  # decoder tokens; the encoder sees half the frames (the paper's Mt)
    matmuls(
        [
            (rows_dec, d, d),
            (rows_dec, d, 2 * d),
            (rows_dec // 2, 24, 24),
            (rows_dec // 2, 48, 240),
            (rows_dec // 2, 144, 320),
        ]
    )
    attention(cfg.model.decoder_heads, d // cfg.model.decoder_heads, [(2 * args.batch * v, t), (2 * args.batch * t, v)])


if __name__ == "__main__":
    main()
