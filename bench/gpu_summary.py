"""Summary table of the files bench/gpu_checks.sh wrote: python bench/gpu_summary.py RESULTS_DIR."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _compile_tag(mach: dict, pre: dict) -> str:
    mode = mach.get("compile")
    if mode in (None, False, "off"):
        return ""
    first = pre.get("first_two_steps_s")
    return f", compile {'full' if mode is True else mode}" + (f" (first 2 steps {first:.0f} s)" if first else "")


def _profile_rows(root: Path) -> list[str]:
    rows = [
        "| run | params (M) | pretrain GMAC/sample | pretrain samples/s | share of bf16 matmul | "
        "infer latency (ms, batch 1) | reconstruct+classify (ms, 2 / 1 persons) | peak MiB (pretrain) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for path in sorted(root.glob("profile_*.json")):
        try:
            p = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            rows.append(f"| {path.stem} | no result ({exc.__class__.__name__}) |")
            continue
        pre, inf, app, mach = p["pretrain"], p["inference"], p["app_case"], p["machine"]
        bf16 = mach.get("matmul_bf16_gmacs") or max(mach["matmul_fp32_gmacs_before"], mach["matmul_fp32_gmacs_after"])
        rows.append(
            f"| {path.stem[8:]} (batch {pre['batch']}{_compile_tag(mach, pre)}) | "
            f"{p['params']['total'] / 1e6:.2f} | {p['gmac']['pretrain_per_sample']:.2f} | {pre['samples_per_s']:.0f} | "
            f"{100 * pre['gmacs'] / bf16:.1f} % | {inf['latency_ms']:.1f} | "
            f"{app['reconstruct_classify_ms_2_persons']:.1f} / {app['reconstruct_classify_ms_1_person']:.1f} | "
            f"{pre['peak_memory_mib']:.0f} |"
        )
    return rows


def _metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(root: Path) -> None:
    gpu = (root / "gpu.txt").read_text().strip() if (root / "gpu.txt").exists() else "?"
    print(gpu)
    checks = root / "cuda_checks.txt"
    if checks.exists():
        keep = ("CHECK", "INFO", "all", "1", "2", "torch")
        print("\n".join(line for line in checks.read_text().splitlines() if line.startswith(keep)))
    first = next(iter(sorted(root.glob("profile_*.json"))), None)
    if first is not None:
        try:
            mach = json.loads(first.read_text())["machine"]
            print(
                f"matmul fp32 (TF32 off) {mach['matmul_fp32_gmacs_before'] / 1e3:.1f} TMAC/s, "
                f"bf16 {mach.get('matmul_bf16_gmacs', 0) / 1e3:.1f} TMAC/s"
            )
        except (KeyError, json.JSONDecodeError):
            pass
    print("\n".join(_profile_rows(root)))
    for stage in ("pretrain", "finetune"):
        epochs = [m for m in _metrics(root / f"{stage}_metrics.jsonl") if m.get("event") == "epoch"]
        if epochs:
            print(
                f"{stage}: "
                + ", ".join(
                    f"epoch {m['epoch']} loss {m.get('loss', float('nan')):.4f} "
                    f"{m.get('samples_per_s', 0):.0f} samples/s"
                    for m in epochs
                )
            )
    ev = root / "evaluate.json"
    if ev.exists() and ev.stat().st_size:
        res = json.loads(ev.read_text())
        arms = {k: v for k, v in res.items() if k.startswith("occlusion_")}
        print(
            f"evaluate: top-1 {100 * res['full']['top1']:.1f} % on {res['full']['count']} samples; "
            + "; ".join(
                f"{k}: enc {100 * v['encoder_only']['top1']:.1f} % REC {100 * v['rec']['top1']:.1f} %"
                for k, v in arms.items()
                if "rec" in v
            )
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
