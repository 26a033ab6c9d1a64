#!/usr/bin/env bash
# CUDA checks and GPU figures in one call on a GPU machine (results under $OUT, a summary on stdout).
#   bash bench/gpu_checks.sh          (on the device machine: its python3 holds a CUDA torch)
# 1. correctness on the card (bench/cuda_checks.py); 2. `profile` of paper / SkeletonMAE / demo with bf16
# autocast, paper also with torch.compile (blocks and full, issue 15) and the no-sync step test; 3. a real CUDA run of the engine: synth -> prepare -> pretrain (paper
# preset, 2 epochs) -> finetune (1 epoch) -> evaluate with missing joints, throughput from metrics.jsonl.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
FINAL=${OUT:-/tmp/gpu_out}  # the device tool returns at most 8 files: everything goes into one archive there
OUT=/tmp/gpu_results
rm -rf "$OUT"; mkdir -p "$OUT" "$FINAL"
PY=${PY:-python3}
T="$PY -m dcmae_core.train"
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }  # ONLY="a b" runs just those parts
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv | tee "$OUT/gpu.txt"
$PY -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__)" | tee -a "$OUT/gpu.txt"

echo "== 1. correctness"
want checks && timeout 120 $PY bench/cuda_checks.py 2>&1 | tee "$OUT/cuda_checks.txt"

echo "== 2. profile"
prof() {  # name, args...
  local name=$1; shift
  timeout ${LIMIT:-100} $T profile --device cuda --repeats 10 --json "$@" > "$OUT/profile_$name.json" 2> "$OUT/profile_$name.err" \
    && echo "profile $name: ok" || { echo "profile $name: FAILED"; tail -5 "$OUT/profile_$name.err"; }
}
want paper_b8 && prof paper_b8 --preset paper --batch 8
want paper_b32 && prof paper_b32 --preset paper --batch 32
want paper_b32_ckpt && prof paper_b32_ckpt --preset paper --batch 32 --set model.checkpoint_decoder=true
want paper_b64 && prof paper_b64 --preset paper --batch 64
want paper_b64_ckpt && prof paper_b64_ckpt --preset paper --batch 64 --set model.checkpoint_decoder=true
want skeletonmae_b64 && prof skeletonmae_b64 --preset paper --batch 64 --set model.cross_attention=false \
  --set model.diffusion=false
want demo_b64 && prof demo_b64 --preset demo --batch 64
want compile && LIMIT=180 prof paper_b64_compile --preset paper --batch 64 --compile full
# Issue 15: paper preset at the training batch (32), bf16, eager (paper_b32 above) and compiled per block / whole;
# JSON holds samples/s, peak memory, the bf16 matmul rate (share in the summary) and the step split by module.
want compile_b32 && LIMIT=300 prof paper_b32_blocks --preset paper --batch 32 --compile blocks
want compile_b32 && LIMIT=300 prof paper_b32_full --preset paper --batch 32 --compile full
want demo_b32 && prof demo_b32 --preset demo --batch 32
want demo_b32 && LIMIT=200 prof demo_b32_blocks --preset demo --batch 32 --compile blocks
if want syncs; then  # the engine's step under torch.cuda.set_sync_debug_mode("error") (tests/test_engine_step.py)
  timeout 120 $PY -m pytest -q -p no:cacheprovider tests/test_engine_step.py -k cuda 2>&1 | tail -3 | tee "$OUT/sync_test.txt"
fi

if want engine; then
echo "== 3. engine on CUDA"
W=/tmp/gpu_run; rm -rf $W
timeout 60 $T synth --out $W/raw --count 600 --seed 1 > /dev/null 2>&1
timeout 60 $T prepare --ntu-dir $W/raw --out $W/cache > /dev/null 2>&1
timeout 150 $T pretrain --preset paper --data $W/cache --out $W/pre --epochs 2 --device cuda \
  --set train.batch_size=64 --set data.num_workers=8 --set train.log_every=2 2> "$OUT/pretrain.err" \
  && echo "pretrain: ok" || { echo "pretrain: FAILED"; tail -20 "$OUT/pretrain.err"; }
timeout 100 $T finetune --preset paper --data $W/cache --out $W/ft --pretrained $W/pre/last.pt --epochs 1 \
  --device cuda --set train.batch_size=64 --set data.num_workers=8 2> "$OUT/finetune.err" \
  && echo "finetune: ok" || { echo "finetune: FAILED"; tail -20 "$OUT/finetune.err"; }
timeout 100 $T evaluate --checkpoint $W/ft/best.pt --data $W/cache --occlusion 0.1 --device cuda --json \
  > "$OUT/evaluate.json" 2> "$OUT/evaluate.err" && echo "evaluate: ok" || { echo "evaluate: FAILED"; tail -20 "$OUT/evaluate.err"; }
cp $W/pre/metrics.jsonl "$OUT/pretrain_metrics.jsonl" 2>/dev/null
cp $W/ft/metrics.jsonl "$OUT/finetune_metrics.jsonl" 2>/dev/null
fi

echo "== summary"
$PY bench/gpu_summary.py "$OUT" | tee "$FINAL/summary.md"
tar czf "$FINAL/gpu_results.tgz" -C "$OUT" .  # (the caller may tar again after an outer timeout)
